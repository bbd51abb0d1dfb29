#include "common/data_dir.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace rnnprune {
namespace {

TEST(ResolveUserPath, RelativePathsAreTakenFromWhereBazelRunWasCalled) {
  ::setenv("BUILD_WORKING_DIRECTORY", "/home/me/rnnprune", 1);
  EXPECT_EQ(ResolveUserPath("runs/dense.pt"), "/home/me/rnnprune/runs/dense.pt");
  EXPECT_EQ(ResolveUserPath("/abs/dense.pt"), "/abs/dense.pt");
  EXPECT_EQ(ResolveUserPath(""), "");
  ::unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(ResolveUserPath("runs/dense.pt"), "runs/dense.pt");
}

TEST(ResolveDataDir, AMissingFlagFolderIsNamed) {
  auto dir = ResolveDataDir("/no/such/folder");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(std::string(dir.status().message()).find("--data_dir='/no/such/folder'"),
            std::string::npos);
}

}  // namespace
}  // namespace rnnprune
