#include "common/run_info.h"

#include <cstdlib>
#include <string>

#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

// A source folder name reaches `git -C` through the shell: a quote in it must neither break the
// command nor run another (issue 17's audit of strings passed to other programs).
TEST(RunInfo, AQuoteInTheSourceFolderRunsNoCommand) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string marker = tmp + "/pwned";
  const std::string hostile = tmp + "/x'; touch '" + marker + "'; echo '";
  const RunInfo info = CollectRunInfo(hostile);
  EXPECT_FALSE(PathExists(marker));
  EXPECT_EQ(info.git_commit, "unknown");  // not a git checkout: no commit, no error
  EXPECT_FALSE(info.timestamp_utc.empty());
}

}  // namespace
}  // namespace rnnprune
