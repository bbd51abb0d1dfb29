// The kill test: //tools:train_lm run once without interruption (A), and once (B) killed with
// SIGKILL as soon as its first training checkpoint is on disk, mid-epoch, then restarted with
// --resume. B must end with the same validation perplexity and the same parameter SHA-256 as A,
// bit for bit (one thread). Real PTB; skipped when the data folder is absent.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "common/data_dir.h"
#include "common/files.h"
#include "common/subprocess_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "training/lm_training_checkpoint.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string TmpPath(const std::string& name) { return TestTmpPath(name); }

std::string Binary() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/rnnprune/tools/train_lm";
}

std::vector<std::string> Args(const std::string& data_dir, const std::string& method,
                              const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {
      Binary(),
      "--data_dir=" + data_dir,
      "--method=" + method,
      "--lambda=1",
      "--epochs=2",
      "--max_steps_per_epoch=60",
      "--checkpoint_every_steps=15",
      "--batch_size=10",
      "--bptt=20",
      "--hidden=32",
      "--embedding=32",
      "--max_eval_tokens=2000",
      "--threads=1",
      "--seed=3",
      "--checkpoint=" + TmpPath(name + ".ckpt"),
      "--out_json=" + TmpPath(name + ".json"),
  };
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

json ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.value_or("{}"));
}

void KillMidEpochAndResume(const std::string& method) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  const std::string a = method + "_a", b = method + "_b";

  ASSERT_EQ(RunToEndForTest(Args(data, method, a), TmpPath(a + ".log")), 0)
      << ReadFile(TmpPath(a + ".log")).value_or("");
  const json ja = ReadJson(TmpPath(a + ".json"));

  // B: killed as soon as its first checkpoint (global step 15 of 120) exists.
  const std::string ckpt = TmpPath(b + ".ckpt");
  const pid_t pid = SpawnForTest(Args(data, method, b), TmpPath(b + "_killed.log"));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(WaitThenKill(
                pid, [&] { return PathExists(ckpt); }, std::chrono::seconds(90)),
            KillOutcome::kKilled)
      << "B was not killed mid-run: " << ReadFile(TmpPath(b + "_killed.log")).value_or("");
  ASSERT_FALSE(PathExists(TmpPath(b + ".json"))) << "B finished before the kill";
  absl::StatusOr<LmTrainingCheckpoint> left = LoadLmTrainingCheckpoint(ckpt);
  ASSERT_TRUE(left.ok()) << left.status();
  std::cout << method << ": killed with the checkpoint of epoch " << left->progress.epoch
            << " step " << left->progress.step << " (global step " << left->progress.global_step
            << ") on disk\n";
  EXPECT_GT(left->progress.step, 0) << "the checkpoint left by the kill is not mid-epoch";
  EXPECT_LT(left->progress.global_step, 120);

  // Resuming under another configuration is refused and leaves the checkpoint alone.
  const std::string before = *ReadFile(ckpt);
  ASSERT_EQ(
      RunToEndForTest(Args(data, method, b, {"--resume", "--seed=4"}), TmpPath(b + "_refused.log")),
      1);
  const std::string refused = ReadFile(TmpPath(b + "_refused.log")).value_or("");
  EXPECT_THAT(refused, HasSubstr("refusing to resume"));
  EXPECT_THAT(refused, HasSubstr(ja["config_hash"].get<std::string>()));
  EXPECT_EQ(*ReadFile(ckpt), before);

  ASSERT_EQ(RunToEndForTest(Args(data, method, b, {"--resume"}), TmpPath(b + "_resumed.log")), 0)
      << ReadFile(TmpPath(b + "_resumed.log")).value_or("");
  EXPECT_THAT(ReadFile(TmpPath(b + "_resumed.log")).value_or(""), HasSubstr("resuming from"));
  const json jb = ReadJson(TmpPath(b + ".json"));
  EXPECT_TRUE(jb["resumed"].get<bool>());
  EXPECT_EQ(jb["resumed_at_global_step"].get<int64_t>(), left->progress.global_step);
  EXPECT_FALSE(ja["resumed"].get<bool>());
  EXPECT_EQ(jb["config_hash"], ja["config_hash"]);
  EXPECT_EQ(jb["parameters_sha256"], ja["parameters_sha256"]);
  EXPECT_EQ(jb["valid_perplexity"].get<double>(), ja["valid_perplexity"].get<double>());
  EXPECT_EQ(jb["valid_tokens"], ja["valid_tokens"]);
  ASSERT_EQ(jb["epochs"].size(), ja["epochs"].size());
  for (size_t e = 0; e < ja["epochs"].size(); ++e) {
    EXPECT_EQ(jb["epochs"][e]["train_perplexity"].get<double>(),
              ja["epochs"][e]["train_perplexity"].get<double>());
    EXPECT_EQ(jb["epochs"][e]["valid_perplexity"].get<double>(),
              ja["epochs"][e]["valid_perplexity"].get<double>());
  }
}

// Out-of-range flags are refused at start, naming the flag and the rule, before any data is read
// (the data folder given does not exist).
TEST(TrainLmFlags, RejectedBeforeDataIsRead) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--layers=0", "--layers=0 must be >= 1"},
      {"--hidden=-3", "--hidden=-3 must be >= 1"},
      {"--max_steps_per_epoch=-1", "--max_steps_per_epoch=-1 must be >= 0"},
      {"--decay_after_epochs=-2", "--decay_after_epochs=-2 must be >= 0"},
      {"--lambda=-1e-3", "--lambda=-0.001 must be finite and >= 0"},
      {"--dropout=1", "--dropout=1 must be in [0, 1)"},
      {"--method=prune_all", "--method='prune_all' is not one of"},
      {"--resume", "--resume needs --checkpoint"},
      {"--learning_rate=0", "--learning_rate=0 must be finite and > 0"},
      {"--rank=5", "rank=5 must be in [0, world_size) = [0, 1)"},
  };
  for (const auto& [flag, message] : cases) {
    const std::string log = TmpPath("flags.log");
    EXPECT_EQ(RunToEndForTest({Binary(), "--data_dir=/nonexistent", flag}, log), 1) << flag;
    EXPECT_THAT(ReadFile(log).value_or(""), HasSubstr(message)) << flag;
  }
}

TEST(TrainLmKill, DenseResumesBitIdentically) { KillMidEpochAndResume("dense"); }

TEST(TrainLmKill, L0GatesResumeBitIdentically) { KillMidEpochAndResume("l0"); }

}  // namespace
}  // namespace rnnprune
