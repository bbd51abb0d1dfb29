// A full disk while a checkpoint is written (simulated with RLIMIT_FSIZE: writes past the limit
// fail with EFBIG, as they fail with ENOSPC on a full disk): a Status naming the file, no
// temporary left behind, the previous checkpoint intact. Before, LibTorch threw from its
// writer's destructor and the process aborted (issue 17).
#include "models/archive_writer.h"

#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/lstm_lm.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig Config(int64_t vocab) {
  LstmLmConfig c;
  c.vocab_size = vocab;
  c.embedding_size = 64;
  c.hidden_sizes = {64, 64};
  return c;
}

// Runs `write` with the file size limit at `limit` bytes (SIGXFSZ ignored, so that the write
// fails instead of killing the process), then restores both.
absl::Status WithFileSizeLimit(rlim_t limit, const std::function<absl::Status()>& write) {
  struct rlimit old;
  EXPECT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit low = old;
  low.rlim_cur = limit;
  auto previous_handler = signal(SIGXFSZ, SIG_IGN);
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  absl::Status s = write();
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, previous_handler);
  return s;
}

TEST(ArchiveWriter, AFullDiskIsAStatusAndKeepsThePreviousFile) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/full";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string path = dir + "/model.pt";
  torch::manual_seed(1);
  ASSERT_TRUE(SaveLstmLm(LstmLm(Config(10)), path).ok());
  absl::StatusOr<std::string> before = ReadFile(path);
  ASSERT_TRUE(before.ok());
  // About 2.6 MB of parameters against a 256 KiB limit.
  const LstmLm big(Config(10000));
  const absl::Status s = WithFileSizeLimit(256 << 10, [&] { return SaveLstmLm(big, path); });
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(path + ".tmp."));
  EXPECT_EQ(ReadFile(path).value(), *before);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename(), "model.pt") << "left behind: " << e.path();
  }
  // With room again, the same write succeeds and replaces the file.
  EXPECT_TRUE(SaveLstmLm(big, path).ok());
  EXPECT_EQ(LoadLstmLm(path).value().model->config().vocab_size, 10000);
}

}  // namespace
}  // namespace rnnprune
