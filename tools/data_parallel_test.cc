// Data-parallel training of //tools:train_lm on real PTB, in separate processes on 127.0.0.1
// (one thread each): 2 ranks (started by tools/launch_local.sh, through torchrun's environment
// variables) and 3 ranks (uneven shares of the 10 streams, flags) end with the parameters one
// process reaches on the same global batch after 300 steps, within 1e-5 relative, dense and
// under L0 (per-example gate noise, the gates' own optimizer); a rank killed with SIGKILL makes
// the other stop with an error naming it, and the same command with --resume ends where one
// uninterrupted process ends; every other method trains under 2 ranks as in one process. Skipped
// without real PTB.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "common/subprocess_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::string Runfile(const std::string& path) {
  return std::string(std::getenv("TEST_SRCDIR")) + "/rnnprune/" + path;
}

// A tiny LM (E = H = 32, 10 streams, BPTT 20) for 2 epochs of 150 windows at lr 0.1: small
// enough steps that rounding differences (a sum split over ranks) do not grow (at Zaremba's
// lr 1.0, one process on 1 and on 2 threads already part by 1e-3 after 30 steps).
std::vector<std::string> Args(const std::string& data, const std::string& method,
                              const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {Runfile("tools/train_lm"),
                                "--data_dir=" + data,
                                "--method=" + method,
                                "--lambda=1",
                                "--epochs=2",
                                "--max_steps_per_epoch=150",
                                "--learning_rate=0.1",
                                "--batch_size=10",
                                "--bptt=20",
                                "--hidden=32",
                                "--embedding=32",
                                "--dropout=0.2",
                                "--max_eval_tokens=500",
                                "--threads=1",
                                "--seed=3",
                                "--dp_timeout_seconds=30",
                                "--out_parameters=" + TestTmpPath(name + ".pt"),
                                "--out_json=" + TestTmpPath(name + ".json")};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string Log(const std::string& name) { return ReadFile(TestTmpPath(name)).value_or(""); }

c10::Dict<c10::IValue, c10::IValue> Parameters(const std::string& name) {
  absl::StatusOr<std::string> bytes = ReadFile(TestTmpPath(name + ".pt"));
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  const std::vector<char> v(bytes->begin(), bytes->end());
  return torch::pickle_load(v).toGenericDict();
}

// Every tensor of `b` within `rel` of `a`'s (max |a - b| / max |a|), the same names.
void ExpectSameParameters(const std::string& a, const std::string& b, double rel = 1e-5) {
  const auto pa = Parameters(a), pb = Parameters(b);
  ASSERT_EQ(pa.size(), pb.size());
  ASSERT_GT(pa.size(), 0u);
  for (const auto& item : pa) {
    const std::string key = item.key().toStringRef();
    ASSERT_TRUE(pb.contains(key)) << key;
    const torch::Tensor x = item.value().toTensor(), y = pb.at(key).toTensor();
    ASSERT_EQ(x.sizes(), y.sizes()) << key;
    const double diff = (x - y).abs().max().item<double>();
    const double scale = x.abs().max().item<double>();
    EXPECT_LE(diff, rel * scale) << key << ": " << a << " vs " << b;
  }
}

std::string Data() { return TestDataDir("ptb/ptb.train.txt"); }

// Runs `ranks` processes of `args` with --world_size/--rank/--master_port flags; returns
// their exit statuses.
std::vector<int> RunRanks(int ranks, const std::vector<std::string>& args,
                          const std::string& name) {
  const std::string port = absl::StrCat(FreeLoopbackPortForTest());
  std::vector<pid_t> pids;
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::string> a = args;
    a.push_back(absl::StrCat("--world_size=", ranks));
    a.push_back(absl::StrCat("--rank=", r));
    a.push_back("--master_port=" + port);
    pids.push_back(SpawnForTest(a, TestTmpPath(absl::StrCat(name, "_rank", r, ".log"))));
  }
  std::vector<int> status;
  for (pid_t pid : pids) status.push_back(WaitForTest(pid));
  return status;
}

TEST(DataParallelTrainLm, TwoRanksFromTheLauncherReachOneProcesssParameters) {
  if (Data().empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  ASSERT_EQ(RunToEndForTest(Args(Data(), "dense", "one"), TestTmpPath("one.log")), 0)
      << Log("one.log");
  std::vector<std::string> launch = {Runfile("tools/launch_local.sh"),
                                     absl::StrCat("--port=", FreeLoopbackPortForTest()), "2"};
  for (const std::string& a : Args(Data(), "dense", "two")) launch.push_back(a);
  ASSERT_EQ(RunToEndForTest(launch, TestTmpPath("two.log")), 0) << Log("two.log");
  EXPECT_THAT(Log("two.log"), HasSubstr("rank 0 of 2"));
  EXPECT_THAT(Log("two.log"), HasSubstr("[rank 1] train_lm: config hash"));
  ExpectSameParameters("one", "two");
  const nlohmann::json one = nlohmann::json::parse(Log("one.json"));
  const nlohmann::json two = nlohmann::json::parse(Log("two.json"));
  EXPECT_EQ(one["config_hash"], two["config_hash"]);
  EXPECT_EQ(two["world_size"], 2);
  EXPECT_NEAR(two["valid_perplexity"].get<double>(), one["valid_perplexity"].get<double>(),
              1e-4 * one["valid_perplexity"].get<double>());
}

TEST(DataParallelTrainLm, ThreeRanksWithUnevenSharesTrainL0GatesAsOneProcess) {
  if (Data().empty()) GTEST_SKIP() << "real PTB not found";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  ASSERT_EQ(RunToEndForTest(Args(Data(), "l0", "l0_one"), TestTmpPath("l0_one.log")), 0)
      << Log("l0_one.log");
  const std::vector<int> s = RunRanks(3, Args(Data(), "l0", "l0_three"), "l0_three");
  for (int r = 0; r < 3; ++r) {
    ASSERT_EQ(s[r], 0) << Log(absl::StrCat("l0_three_rank", r, ".log"));
  }
  ExpectSameParameters("l0_one", "l0_three");
  EXPECT_FALSE(PathExists(TestTmpPath("l0_three_rank1.json")));
}

// Every other method's hooks (proximal steps, weight masks, scores, L0's speed variant) under
// 2 ranks, over 80 steps.
TEST(DataParallelTrainLm, EveryMethodTrainsAsOneProcess) {
  if (Data().empty()) GTEST_SKIP() << "real PTB not found";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  const std::vector<std::vector<std::string>> methods = {
      {"iss", "--lambda=3"},
      {"lasso", "--lambda=3"},
      {"magnitude", "--sparsity=0.5"},
      {"structured_magnitude", "--target_sizes=20,20,20"},
      {"random", "--target_sizes=20,20,20"},
      {"l0_speed", "--lambda=1"}};
  for (const std::vector<std::string>& m : methods) {
    const std::vector<std::string> extra = {m[1], "--max_steps_per_epoch=40"};
    const std::string one = m[0] + "_one", two = m[0] + "_two";
    ASSERT_EQ(RunToEndForTest(Args(Data(), m[0], one, extra), TestTmpPath(one + ".log")), 0)
        << Log(one + ".log");
    const std::vector<int> s = RunRanks(2, Args(Data(), m[0], two, extra), two);
    ASSERT_EQ(s[0], 0) << Log(two + "_rank0.log");
    ASSERT_EQ(s[1], 0) << Log(two + "_rank1.log");
    ExpectSameParameters(one, two);
  }
}

// A rank that hangs (SIGSTOP: alive, its sockets open) stops the other after --dp_timeout_seconds,
// naming it (its heartbeat stopped with it).
TEST(DataParallelTrainLm, AHungRankStopsTheOtherAfterTheTimeout) {
  if (Data().empty()) GTEST_SKIP() << "real PTB not found";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  const std::string port = absl::StrCat(FreeLoopbackPortForTest());
  const std::string started = TestTmpPath("hung_started");
  auto rank_args = [&](int r) {
    std::vector<std::string> a =
        Args(Data(), "dense", absl::StrCat("hung", r),
             {"--max_steps_per_epoch=100000", "--epochs=1", "--dp_timeout_seconds=5",
              "--world_size=2", absl::StrCat("--rank=", r), "--master_port=" + port});
    return a;
  };
  const pid_t rank0 = SpawnForTest(rank_args(0), TestTmpPath("hung_rank0.log"));
  const pid_t rank1 = SpawnForTest(rank_args(1), TestTmpPath("hung_rank1.log"));
  // Stop rank 1 once rank 0 logs its first training progress (both are past the rendezvous).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (Log("hung_rank0.log").find("tokens/s") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(Log("hung_rank0.log").find("tokens/s"), std::string::npos) << Log("hung_rank0.log");
  ::kill(rank1, SIGSTOP);
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitForTest(rank0), 1) << Log("hung_rank0.log");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  ::kill(rank1, SIGKILL);
  WaitForTest(rank1);
  EXPECT_GE(seconds, 4) << "rank 0 stopped before the timeout";
  EXPECT_LT(seconds, 30) << "rank 0 took this long to stop";
  EXPECT_THAT(Log("hung_rank0.log"), HasSubstr("rank 1 stopped (no heartbeat"));
}

TEST(DataParallelTrainLm, AKilledRankStopsTheOtherAndTheSameCommandResumes) {
  if (Data().empty()) GTEST_SKIP() << "real PTB not found";
  ::setenv("OMP_NUM_THREADS", "1", 1);
  ASSERT_EQ(RunToEndForTest(Args(Data(), "dense", "ref"), TestTmpPath("ref.log")), 0)
      << Log("ref.log");
  const std::string ckpt = TestTmpPath("dp.ckpt");
  const std::vector<std::string> args = Args(
      Data(), "dense", "dp", {"--checkpoint=" + ckpt, "--checkpoint_every_steps=20", "--resume"});
  const std::string port = absl::StrCat(FreeLoopbackPortForTest());
  auto rank_args = [&](int r) {
    std::vector<std::string> a = args;
    a.push_back("--world_size=2");
    a.push_back(absl::StrCat("--rank=", r));
    a.push_back("--master_port=" + port);
    return a;
  };
  const pid_t rank0 = SpawnForTest(rank_args(0), TestTmpPath("killed_rank0.log"));
  const pid_t rank1 = SpawnForTest(rank_args(1), TestTmpPath("killed_rank1.log"));
  ASSERT_EQ(WaitThenKill(
                rank1, [&] { return PathExists(ckpt); }, std::chrono::seconds(120)),
            KillOutcome::kKilled)
      << Log("killed_rank1.log");
  const auto killed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitForTest(rank0), 1) << Log("killed_rank0.log");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_LT(seconds, 30) << "rank 0 took this long to stop";
  EXPECT_THAT(Log("killed_rank0.log"), HasSubstr("rank 1 stopped"));
  ASSERT_FALSE(PathExists(TestTmpPath("dp.json"))) << "finished before the kill";

  const std::vector<int> s = RunRanks(2, args, "resumed");
  ASSERT_EQ(s[0], 0) << Log("resumed_rank0.log");
  ASSERT_EQ(s[1], 0) << Log("resumed_rank1.log");
  EXPECT_THAT(Log("resumed_rank0.log"), HasSubstr("resuming from"));
  const nlohmann::json dp = nlohmann::json::parse(Log("dp.json"));
  EXPECT_TRUE(dp["resumed"].get<bool>());
  EXPECT_GT(dp["resumed_at_global_step"].get<int64_t>(), 0);
  EXPECT_LT(dp["resumed_at_global_step"].get<int64_t>(), 300);
  ExpectSameParameters("ref", "dp");
}

}  // namespace
}  // namespace rnnprune
