// Data-parallel BiDAF training (BidafTrainOptions::data_parallel) against one process: the six
// tiny questions in one batch of 6, trained by 2 ranks (3 questions each) and by 4 ranks (2, 2, 1,
// 1), each rank a separate process (this test binary started again with the rank in its
// environment), with dropout, Adam, the gradient clip, the moving average and hooks that draw
// per-example gate noise and train an extra parameter under a penalty: every rank ends with the
// parameters one process reaches, within 1e-5 relative.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/subprocess_for_test.h"
#include "gtest/gtest.h"
#include "models/batch_share.h"
#include "torch/torch.h"
#include "training/bidaf_testing.h"
#include "training/bidaf_trainer.h"
#include "training/data_parallel.h"
#include "training/model_hooks.h"

namespace rnnprune {
namespace {

// Gates the contextual LSTM's forward hidden units per question with sigmoid(a) times noise in
// [0.5, 1.5) drawn for the whole batch (models/batch_share.h), and adds 0.01 * sum(a): an extra
// parameter with its own optimizer, a penalty and per-example randomness, as L0 has.
class NoisyGateHooks : public ModelHooks {
 public:
  explicit NoisyGateHooks(int64_t hidden)
      : a_(torch::zeros({hidden}).requires_grad_()),
        sgd_(std::vector<torch::Tensor>{a_}, torch::optim::SGDOptions(0.5)) {}
  ForwardPlan Forward(const PrunableModelView& model, int64_t batch) override {
    ForwardPlan how;
    if (!model.training) return how;
    const torch::Tensor noise = RandForShare({batch, a_.size(0)}, model.batch_share, 0) + 0.5;
    how.hidden_gates["contextual.fw"] = torch::sigmoid(a_).unsqueeze(0) * noise;
    return how;
  }
  torch::Tensor Penalty(const PrunableModelView&) override { return 0.01 * a_.sum(); }
  std::vector<torch::Tensor> ExtraParameters() override { return {a_}; }
  torch::optim::Optimizer* ExtraOptimizer() override { return &sgd_; }

 private:
  torch::Tensor a_;
  torch::optim::SGD sgd_;
};

// Trains the tiny BiDAF for 3 epochs of one batch of 6 in this process, as rank `rank` of
// `world` ranks at `port` (world 1: alone), and returns its parameters and the extra one.
std::vector<torch::Tensor> Train(int world, int rank, int port) {
  TinyTask task = MakeTinyTask();
  task.config.dropout = 0.2;
  Bidaf model = MakeModel(task.config, 7);
  NoisyGateHooks hooks(task.config.hidden_size);
  DataParallelOptions o;
  o.world_size = world;
  o.rank = rank;
  o.master_port = port;
  o.timeout = absl::Seconds(60);
  absl::StatusOr<std::unique_ptr<DataParallel>> dp = DataParallel::Join(o, "tiny-bidaf");
  EXPECT_TRUE(dp.ok()) << dp.status();
  if (!dp.ok()) return {};
  BidafTrainOptions t;
  t.epochs = 3;
  t.batch_size = 6;
  t.optimizer = "adam";
  t.learning_rate = 0.01;
  t.ema_decay = 0.9;
  t.max_grad_norm = 1.0;
  t.seed = 5;
  t.hooks = &hooks;
  t.data_parallel = dp->get();
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, Quiet(t));
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<torch::Tensor> out = Snapshot(model);
  out.push_back(hooks.ExtraParameters()[0].detach().clone());
  return out;
}

std::string OutPath(int world, int rank) {
  return TestTmpPath(absl::StrCat("bidaf_dp_", world, "_", rank, ".pt"));
}

// The body of one rank, run by the child processes the tests below start (skipped otherwise).
TEST(BidafDataParallelRank, TrainsItsShareAndSavesItsParameters) {
  const char* rank_env = std::getenv("BIDAF_DP_RANK");
  if (rank_env == nullptr) GTEST_SKIP() << "runs only as a rank started by the tests below";
  int rank = 0, world = 0, port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(rank_env, &rank));
  ASSERT_TRUE(absl::SimpleAtoi(std::getenv("BIDAF_DP_WORLD"), &world));
  ASSERT_TRUE(absl::SimpleAtoi(std::getenv("BIDAF_DP_PORT"), &port));
  const std::vector<torch::Tensor> params = Train(world, rank, port);
  ASSERT_FALSE(params.empty());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(params));
  ASSERT_TRUE(
      WriteFileAtomically(OutPath(world, rank), std::string(bytes.begin(), bytes.end())).ok());
}

void ExpectRanksMatchOneProcess(int world) {
  if (std::getenv("BIDAF_DP_RANK") != nullptr) GTEST_SKIP();
  const std::vector<torch::Tensor> one = Train(1, 0, 29500);
  ASSERT_FALSE(one.empty());
  const int port = FreeLoopbackPortForTest();
  std::vector<pid_t> pids;
  for (int r = 0; r < world; ++r) {
    ::setenv("BIDAF_DP_RANK", absl::StrCat(r).c_str(), 1);
    ::setenv("BIDAF_DP_WORLD", absl::StrCat(world).c_str(), 1);
    ::setenv("BIDAF_DP_PORT", absl::StrCat(port).c_str(), 1);
    pids.push_back(SpawnForTest({"/proc/self/exe", "--gtest_filter=BidafDataParallelRank.*"},
                                TestTmpPath(absl::StrCat("bidaf_dp_", world, "_", r, ".log"))));
  }
  ::unsetenv("BIDAF_DP_RANK");
  for (int r = 0; r < world; ++r) {
    const std::string log = TestTmpPath(absl::StrCat("bidaf_dp_", world, "_", r, ".log"));
    ASSERT_EQ(WaitForTest(pids[r]), 0) << ReadFile(log).value_or("");
    absl::StatusOr<std::string> bytes = ReadFile(OutPath(world, r));
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    const std::vector<torch::Tensor> got =
        torch::pickle_load(std::vector<char>(bytes->begin(), bytes->end())).toTensorVector();
    ASSERT_EQ(got.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      const double diff = (got[i] - one[i]).abs().max().item<double>();
      EXPECT_LE(diff, 1e-5 * one[i].abs().max().item<double>())
          << "rank " << r << " of " << world << ", parameter " << i;
    }
  }
}

TEST(BidafDataParallel, TwoRanksReachOneProcesssParameters) { ExpectRanksMatchOneProcess(2); }

TEST(BidafDataParallel, FourRanksWithUnevenSharesReachOneProcesssParameters) {
  ExpectRanksMatchOneProcess(4);
}

}  // namespace
}  // namespace rnnprune
