// Training checkpoints in Train: resuming after an interruption is bit-identical to not being
// interrupted (dense, extra parameters with their own optimiser, hooks with state), and bad
// checkpoints or bad state are refused.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"
#include "training/interrupting_hooks.h"
#include "training/lm_trainer.h"
#include "training/lm_training_checkpoint.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kVocab = 10;
constexpr int64_t kStepsPerEpoch = 38;  // 1500 tokens, batch 4: 375 rows, windows of <= 10

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

LstmLmConfig TinyModel() {
  LstmLmConfig c;
  c.vocab_size = kVocab;
  c.embedding_size = 16;
  c.hidden_sizes = {16, 12};
  c.dropout = 0.2;  // draws from torch's generator at every step
  c.init_scale = 0.1;
  return c;
}

// A repeated pattern with 10% noise, drawn from a generator of its own (the global one belongs
// to the runs under test).
const torch::Tensor& Stream() {
  static const torch::Tensor* s = [] {
    torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(123);
    auto base = torch::arange(0, 2000, torch::kInt64).remainder(7);
    auto noise = torch::randint(0, kVocab, {2000}, gen, torch::kInt64);
    return new torch::Tensor(torch::where(torch::rand({2000}, gen) < 0.1, noise, base));
  }();
  return *s;
}
torch::Tensor TrainIds() { return Stream().narrow(0, 0, 1500); }
torch::Tensor ValidIds() { return Stream().narrow(0, 1500, 500); }

TrainOptions Options(const std::string& path, std::vector<std::string>* log = nullptr) {
  TrainOptions o;
  o.schedule.epochs = 2;
  o.schedule.decay_after_epochs = 1;
  o.schedule.batch_size = 4;
  o.schedule.bptt = 10;
  o.log = [log](const std::string& line) {
    if (log != nullptr) log->push_back(line);
  };
  o.checkpoint_path = path;
  o.checkpoint_every_steps = 10;
  o.config_hash = "hash-one";
  return o;
}

// A fresh model; seeds differ so that only a restore can make two runs agree.
LstmLm NewModel(uint64_t seed) {
  torch::manual_seed(seed);
  return LstmLm(TinyModel());
}

void ExpectSameParameters(const LstmLm& a, const LstmLm& b) {
  const auto pa = a->named_parameters();
  const auto pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
  }
}

void ExpectSameStats(const TrainResult& a, const TrainResult& b) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].train_perplexity, b.epochs[e].train_perplexity) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].valid_perplexity, b.epochs[e].valid_perplexity) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].tokens, b.epochs[e].tokens);
    EXPECT_EQ(a.epochs[e].steps, b.epochs[e].steps);
    EXPECT_EQ(a.epochs[e].learning_rate, b.epochs[e].learning_rate);
  }
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(TrainerResume, AfterAnInterruptionIsBitIdentical) {
  torch::set_num_threads(1);
  LstmLm reference = NewModel(1);
  auto a = Train(reference, TrainIds(), ValidIds(), Options(TmpPath("dense_a.ckpt")));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->epochs.size(), 2u);
  EXPECT_FALSE(a->resumed);

  // Stops in epoch 1 (last checkpoint mid-epoch 1), at the first step of epoch 2 (the
  // epoch-end checkpoint), and in epoch 2 (mid-epoch 2).
  for (int64_t fail_at : {int64_t{25}, kStepsPerEpoch + 1, int64_t{55}}) {
    SCOPED_TRACE("interrupted at step " + std::to_string(fail_at));
    const std::string path = TmpPath("dense_b" + std::to_string(fail_at) + ".ckpt");
    LstmLm model = NewModel(1);
    TrainingHooks dense;
    InterruptingHooks interrupt(&dense, fail_at, path);
    auto b = Train(model, TrainIds(), ValidIds(), Options(path), &interrupt);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInternal);
    // The NaN never reached the file: it holds the last good checkpoint, unchanged.
    EXPECT_EQ(*ReadFile(path), interrupt.snapshot());
    auto ckpt = LoadLmTrainingCheckpoint(path);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    const int64_t expected = fail_at == kStepsPerEpoch + 1 ? kStepsPerEpoch : (fail_at / 10) * 10;
    EXPECT_EQ(ckpt->progress.global_step, expected);

    LstmLm resumed = NewModel(999);
    std::vector<std::string> log;
    TrainOptions o = Options(path, &log);
    o.resume = true;
    auto c = Train(resumed, TrainIds(), ValidIds(), o);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->resumed);
    EXPECT_EQ(c->resumed_at_global_step, expected);
    ASSERT_FALSE(log.empty());
    EXPECT_THAT(log[0], HasSubstr("resuming from " + path));
    ExpectSameParameters(reference, resumed);
    ExpectSameStats(*a, *c);
  }
}

// Extra parameters with an optimiser of their own and noise drawn from torch's generator at
// every step: what gated methods (the L0 gates of pruning/) need from the trainer. Every
// registered method is resumed through kills by baselines/resume_conformance_test.
class NoisyScaleHooks : public TrainingHooks {
 public:
  NoisyScaleHooks()
      : scale_(torch::full({3}, 0.5).requires_grad_()),
        adam_(std::vector<torch::Tensor>{scale_}, torch::optim::AdamOptions(0.05)) {}
  torch::Tensor Penalty(LstmLm& model) override {
    const torch::Tensor noisy = scale_ + 0.1 * torch::rand({3});
    return 1e-2 * (noisy.sum() * model->decoder_bias()).pow(2).sum();
  }
  std::vector<torch::Tensor> ExtraParameters() override { return {scale_}; }
  torch::optim::Optimizer* ExtraOptimizer() override { return &adam_; }
  const torch::Tensor& scale() const { return scale_; }

 private:
  torch::Tensor scale_;
  torch::optim::Adam adam_;
};

TEST(TrainerResume, ExtraParametersTheirOptimiserAndNoiseResumeBitIdentically) {
  torch::set_num_threads(1);
  NoisyScaleHooks hooks_a;
  LstmLm reference = NewModel(2);
  auto a = Train(reference, TrainIds(), ValidIds(), Options(TmpPath("extra_a.ckpt")), &hooks_a);
  ASSERT_TRUE(a.ok()) << a.status();

  const std::string path = TmpPath("extra_b.ckpt");
  {
    NoisyScaleHooks hooks;
    LstmLm model = NewModel(2);
    InterruptingHooks interrupt(&hooks, 47, path);
    ASSERT_FALSE(Train(model, TrainIds(), ValidIds(), Options(path), &interrupt).ok());
  }
  NoisyScaleHooks hooks_c;
  {
    torch::NoGradGuard no_grad;
    hooks_c.ExtraParameters()[0].add_(1.0);  // must be overwritten
  }
  LstmLm resumed = NewModel(7);
  TrainOptions o = Options(path);
  o.resume = true;
  auto c = Train(resumed, TrainIds(), ValidIds(), o, &hooks_c);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->resumed_at_global_step, 40);
  ExpectSameParameters(reference, resumed);
  ExpectSameStats(*a, *c);
  EXPECT_TRUE(torch::equal(hooks_a.scale(), hooks_c.scale()));
  EXPECT_FALSE(torch::equal(hooks_a.scale(), torch::full({3}, 0.5)));  // it did train
}

// A hook with state of its own: its penalty grows with the number of steps taken.
class CountingHooks : public TrainingHooks {
 public:
  torch::Tensor Penalty(LstmLm& model) override {
    return 1e-3 * static_cast<double>(count_) * model->decoder_bias().pow(2).sum();
  }
  void AfterStep(LstmLm&, double) override { ++count_; }
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    return {{"count", torch::tensor(count_)}};
  }
  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& s) override {
    auto it = s.find("count");
    if (it == s.end()) return absl::InvalidArgumentError("no 'count'");
    count_ = it->second.item<int64_t>();
    return absl::OkStatus();
  }
  int64_t count() const { return count_; }

 private:
  int64_t count_ = 0;
};

TEST(TrainerResume, HooksStateIsSavedAndRestored) {
  torch::set_num_threads(1);
  CountingHooks hooks_a;
  LstmLm reference = NewModel(3);
  auto a = Train(reference, TrainIds(), ValidIds(), Options(TmpPath("count_a.ckpt")), &hooks_a);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string path = TmpPath("count_b.ckpt");
  {
    CountingHooks hooks;
    InterruptingHooks interrupt(&hooks, 33, path);
    LstmLm model = NewModel(3);
    ASSERT_FALSE(Train(model, TrainIds(), ValidIds(), Options(path), &interrupt).ok());
  }
  CountingHooks hooks_c;
  LstmLm resumed = NewModel(3);
  TrainOptions o = Options(path);
  o.resume = true;
  ASSERT_TRUE(Train(resumed, TrainIds(), ValidIds(), o, &hooks_c).ok());
  EXPECT_EQ(hooks_c.count(), hooks_a.count());
  ExpectSameParameters(reference, resumed);
}

TEST(TrainerResume, MissingCheckpointStartsFromScratchAndFinishedRunReturnsAtOnce) {
  torch::set_num_threads(1);
  LstmLm reference = NewModel(4);
  TrainOptions plain = Options("");
  auto a = Train(reference, TrainIds(), ValidIds(), plain);
  ASSERT_TRUE(a.ok()) << a.status();

  const std::string path = TmpPath("fresh.ckpt");
  std::vector<std::string> log;
  TrainOptions o = Options(path, &log);
  o.resume = true;
  LstmLm model = NewModel(4);
  auto b = Train(model, TrainIds(), ValidIds(), o);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(log[0], HasSubstr("no training checkpoint at " + path));
  EXPECT_THAT(log[0], HasSubstr("starting from scratch"));
  EXPECT_FALSE(b->resumed);
  ExpectSameParameters(reference, model);  // checkpointing changes nothing
  ExpectSameStats(*a, *b);

  // The final checkpoint stands after the last epoch: resuming trains nothing more.
  auto ckpt = LoadLmTrainingCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->progress.epoch, 3);
  EXPECT_EQ(ckpt->progress.global_step, 2 * kStepsPerEpoch);
  LstmLm again = NewModel(5);
  auto c = Train(again, TrainIds(), ValidIds(), o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->resumed);
  ExpectSameParameters(reference, again);
  ExpectSameStats(*a, *c);
}

TEST(TrainerResume, AnotherConfigHashIsRefusedNamingBoth) {
  const std::string path = TmpPath("hash.ckpt");
  LstmLm model = NewModel(6);
  TrainOptions o = Options(path);
  o.schedule.epochs = 1;
  ASSERT_TRUE(Train(model, TrainIds(), ValidIds(), o).ok());
  const std::string bytes = *ReadFile(path);
  o.config_hash = "hash-two";
  o.resume = true;
  auto r = Train(model, TrainIds(), ValidIds(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string msg(r.status().message());
  EXPECT_THAT(msg, HasSubstr("hash-one"));
  EXPECT_THAT(msg, HasSubstr("hash-two"));
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_EQ(*ReadFile(path), bytes);

  // A checkpoint path needs a hash at all.
  o.config_hash = "";
  r = Train(model, TrainIds(), ValidIds(), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("config_hash"));
}

TEST(TrainerResume, TruncatedCheckpointIsInvalidArgumentAndLeftInPlace) {
  const std::string path = TmpPath("truncated.ckpt");
  LstmLm model = NewModel(8);
  TrainOptions o = Options(path);
  o.schedule.epochs = 1;
  ASSERT_TRUE(Train(model, TrainIds(), ValidIds(), o).ok());
  const std::string bytes = *ReadFile(path);
  const std::string half = bytes.substr(0, bytes.size() / 2);
  ASSERT_TRUE(WriteFileAtomically(path, half).ok());
  o.resume = true;
  auto r = Train(model, TrainIds(), ValidIds(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
  EXPECT_EQ(*ReadFile(path), half);
}

// Sets a weight to NaN after optimizer step `at` (the loss would only notice at the next step).
class PoisonAfterStep : public TrainingHooks {
 public:
  PoisonAfterStep(int64_t at, std::string path) : at_(at), path_(std::move(path)) {}
  void AfterStep(LstmLm& model, double) override {
    if (++steps_ == at_ - 1) snapshot_ = ReadFile(path_).value_or("");
    if (steps_ == at_) {
      torch::NoGradGuard no_grad;
      model->mutable_layer(1).w_hh[0][0] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  const std::string& snapshot() const { return snapshot_; }

 private:
  int64_t at_;
  int64_t steps_ = 0;
  std::string path_;
  std::string snapshot_;
};

TEST(TrainerResume, BadStateIsNeverWrittenOverTheLastGoodCheckpoint) {
  const std::string path = TmpPath("poison.ckpt");
  PoisonAfterStep poison(20, path);  // step 20 is a checkpoint step
  LstmLm model = NewModel(9);
  auto r = Train(model, TrainIds(), ValidIds(), Options(path), &poison);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  const std::string msg(r.status().message());
  EXPECT_THAT(msg, HasSubstr("lstm1_w_hh"));
  EXPECT_THAT(msg, HasSubstr("global step 20"));
  EXPECT_THAT(msg, HasSubstr("last good checkpoint " + path));
  EXPECT_EQ(*ReadFile(path), poison.snapshot());
  auto ckpt = LoadLmTrainingCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->progress.global_step, 10);
}

// An extra parameter whose gradient is infinite while the loss is finite: sqrt at 0.
class InfiniteExtraGradient : public TrainingHooks {
 public:
  torch::Tensor Penalty(LstmLm&) override { return torch::sqrt(x_).sum(); }
  std::vector<torch::Tensor> ExtraParameters() override { return {x_}; }

 private:
  torch::Tensor x_ = torch::zeros({3}).requires_grad_();
};

TEST(TrainerResume, NonFiniteGradientOfAnExtraParameterStopsTraining) {
  InfiniteExtraGradient hooks;
  LstmLm model = NewModel(10);
  auto r = Train(model, TrainIds(), ValidIds(), Options(""), &hooks);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("epoch 1 step 1: gradient of extra parameter 0 of 1"));
  EXPECT_TRUE(torch::equal(hooks.ExtraParameters()[0], torch::zeros({3})));  // no update
}

}  // namespace
}  // namespace rnnprune
