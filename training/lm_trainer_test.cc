#include "training/lm_trainer.h"

#include <cmath>
#include <limits>

#include "datasets/ptb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig TinyModel(int64_t vocab) {
  LstmLmConfig c;
  c.vocab_size = vocab;
  c.embedding_size = 16;
  c.hidden_sizes = {16, 12};
  c.dropout = 0.1;
  c.init_scale = 0.1;
  return c;
}

// A synthetic stream with structure (a repeated pattern plus noise) that an LSTM can learn.
torch::Tensor PatternStream(int64_t n, int64_t vocab) {
  torch::manual_seed(123);
  auto base = torch::arange(0, n, torch::kInt64).remainder(7);
  auto noise = torch::randint(0, vocab, {n}, torch::kInt64);
  auto pick = torch::rand({n}) < 0.1;
  return torch::where(pick, noise, base);
}

TrainOptions Quiet(int epochs, int decay_after = 1) {
  TrainOptions o;
  o.schedule.epochs = epochs;
  o.schedule.decay_after_epochs = decay_after;
  o.schedule.batch_size = 4;
  o.schedule.bptt = 10;
  o.log = [](const std::string&) {};
  return o;
}

TEST(Trainer, LearnsAPatternAndFollowsTheSchedule) {
  torch::set_num_threads(1);
  const int64_t vocab = 12;
  auto stream = PatternStream(4000, vocab);
  torch::manual_seed(7);
  LstmLmConfig config = TinyModel(vocab);
  config.init_scale = 0.5;  // with 0.1 this tiny model sits on a long initial plateau
  config.dropout = 0.0;
  LstmLm model(config);
  auto before = EvaluatePerplexity(model, stream.narrow(0, 3000, 1000));
  ASSERT_TRUE(before.ok()) << before.status();
  auto result = Train(model, stream.narrow(0, 0, 3000), stream.narrow(0, 3000, 1000), Quiet(8, 6));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs.size(), 8u);
  EXPECT_DOUBLE_EQ(result->epochs[5].learning_rate, 1.0);
  EXPECT_DOUBLE_EQ(result->epochs[6].learning_rate, 0.5);
  EXPECT_DOUBLE_EQ(result->epochs[7].learning_rate, 0.25);
  EXPECT_EQ(result->epochs[0].tokens, (3000 / 4 - 1) * 4);
  auto after = EvaluatePerplexity(model, stream.narrow(0, 3000, 1000));
  ASSERT_TRUE(after.ok());
  // Near-uniform at init (~12); the pattern with 10% noise allows well under 3.
  EXPECT_GT(before->perplexity, 10.0);
  EXPECT_LT(after->perplexity, 3.0);
  EXPECT_NEAR(result->epochs[7].valid_perplexity, after->perplexity, 1e-6);
}

TEST(Trainer, SameSeedOneThreadGivesIdenticalNumbers) {
  torch::set_num_threads(1);
  auto stream = PatternStream(2000, 10);
  double ppl[2];
  for (int run = 0; run < 2; ++run) {
    torch::manual_seed(42);
    LstmLm model(TinyModel(10));
    auto r = Train(model, stream.narrow(0, 0, 1500), stream.narrow(0, 1500, 500), Quiet(2));
    ASSERT_TRUE(r.ok()) << r.status();
    ppl[run] = r->epochs.back().valid_perplexity;
  }
  EXPECT_EQ(ppl[0], ppl[1]);
  // A different seed gives a different model.
  torch::manual_seed(43);
  LstmLm other(TinyModel(10));
  auto r = Train(other, stream.narrow(0, 0, 1500), stream.narrow(0, 1500, 500), Quiet(2));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->epochs.back().valid_perplexity, ppl[0]);
}

TEST(Evaluate, UniformModelHasPerplexityEqualToVocabSize) {
  LstmLm model(TinyModel(37));
  {
    torch::NoGradGuard g;
    model->decoder_weight().zero_();
    model->decoder_bias().zero_();
  }
  auto r = EvaluatePerplexity(model, torch::randint(0, 37, {500}, torch::kInt64));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->perplexity, 37.0, 1e-3);
  EXPECT_EQ(r->tokens, 499);  // batch 1: every token but the first is predicted
  EXPECT_NEAR(r->mean_nll_nats, std::log(37.0), 1e-5);
}

TEST(Evaluate, WindowLengthDoesNotChangeBatchOnePerplexity) {
  torch::manual_seed(5);
  LstmLm model(TinyModel(20));
  auto ids = torch::randint(0, 20, {700}, torch::kInt64);
  auto a = EvaluatePerplexity(model, ids, 1, 35);
  auto b = EvaluatePerplexity(model, ids, 1, 8);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NEAR(a->perplexity, b->perplexity, 1e-4 * a->perplexity);
  EXPECT_TRUE(model->is_training());  // mode restored
  EXPECT_FALSE(EvaluatePerplexity(model, ids, 0, 35).ok());
  EXPECT_FALSE(EvaluatePerplexity(model, ids, 1, 0).ok());
}

class NanPenalty : public TrainingHooks {
 public:
  torch::Tensor Penalty(LstmLm&) override {
    return torch::tensor(std::numeric_limits<float>::quiet_NaN());
  }
};

TEST(Trainer, NonFiniteLossStopsWithTheStep) {
  LstmLm model(TinyModel(10));
  auto w_before = model->layer(0).w_ih.clone();
  NanPenalty hooks;
  auto r = Train(model, PatternStream(500, 10), {}, Quiet(1), &hooks);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("epoch 1 step 1"));
  EXPECT_TRUE(torch::equal(model->layer(0).w_ih, w_before));  // no update was applied
}

TEST(Trainer, RejectsBadSchedule) {
  LstmLm model(TinyModel(10));
  TrainOptions o = Quiet(1);
  o.schedule.batch_size = 0;
  auto r = Train(model, PatternStream(500, 10), {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("batch_size=0"));
}

// Hooks with one extra parameter and an optimiser of their own: a large penalty gradient on it,
// and a record of the windows each step saw.
class OwnOptimizerHooks : public TrainingHooks {
 public:
  OwnOptimizerHooks() : extra_(torch::zeros({3}).requires_grad_()), sgd_({extra_}, 0.0) {}
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override {
    first_tokens.push_back(input[0][0].item<int64_t>());
    return model->Run(input, state);
  }
  torch::Tensor Penalty(LstmLm&) override { return 1e6 * extra_.sum(); }
  std::vector<torch::Tensor> ExtraParameters() override { return {extra_}; }
  torch::optim::Optimizer* ExtraOptimizer() override { return &sgd_; }
  nlohmann::json Diagnostics(const LstmLm&) override {
    return {{"sum", extra_.sum().item<double>()}};
  }
  void set_learning_rate(double lr) {
    static_cast<torch::optim::SGDOptions&>(sgd_.param_groups()[0].options()).lr(lr);
  }
  torch::Tensor extra_;
  torch::optim::SGD sgd_;
  std::vector<int64_t> first_tokens;
};

TEST(Trainer, ExtraParametersStepWithTheHooksOwnOptimizerUnclipped) {
  torch::set_num_threads(1);
  LstmLm model(TinyModel(12));
  const torch::Tensor w_before = model->layer(0).w_ih.clone();
  OwnOptimizerHooks hooks;  // lr 0: the extra parameter must not move, the weights must
  TrainOptions o = Quiet(1);
  o.max_steps_per_epoch = 3;
  ASSERT_TRUE(Train(model, PatternStream(800, 12), {}, o, &hooks).ok());
  EXPECT_TRUE(torch::equal(hooks.extra_, torch::zeros({3})));
  EXPECT_FALSE(torch::equal(model->layer(0).w_ih, w_before));
  // lr 1e-6: one step of gradient 1e6 moves each entry by exactly -1 per step (no clip at 5).
  hooks.set_learning_rate(1e-6);
  ASSERT_TRUE(Train(model, PatternStream(800, 12), {}, o, &hooks).ok());
  EXPECT_TRUE(torch::allclose(hooks.extra_, torch::full({3}, -3.0), 1e-5, 1e-5)) << hooks.extra_;
}

TEST(Trainer, FirstWindowAndDiagnostics) {
  torch::set_num_threads(1);
  const torch::Tensor stream = torch::arange(0, 4 * 101, torch::kInt64).remainder(12);
  ASSERT_TRUE(Batchify(stream, 4).ok());
  const torch::Tensor batched = *Batchify(stream, 4);
  LstmLm model(TinyModel(12));
  OwnOptimizerHooks hooks;
  TrainOptions o = Quiet(2);
  o.first_window = 6;  // of 10 windows of 10 rows
  o.max_steps_per_epoch = 3;
  o.diagnostics_every_steps = 2;
  auto r = Train(model, stream, {}, o, &hooks);
  ASSERT_TRUE(r.ok()) << r.status();
  // Each epoch reads windows 6, 7, 8: rows 60, 70, 80 of the first stream.
  const std::vector<int64_t> rows = {60, 70, 80, 60, 70, 80};
  ASSERT_EQ(hooks.first_tokens.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(hooks.first_tokens[i], batched[rows[i]][0].item<int64_t>()) << i;
  }
  // Steps 0, 2, 4 and the last (6).
  ASSERT_EQ(r->diagnostics.size(), 4u);
  EXPECT_EQ(r->diagnostics[2]["step"], 4);
  EXPECT_EQ(r->diagnostics[3]["step"], 6);
  EXPECT_TRUE(r->diagnostics[3].contains("sum"));
  o.first_window = 10;
  auto bad = Train(model, stream, {}, o, &hooks);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("first_window=10 must be in [0, 10)"));
}

TEST(Trainer, TrainResultJsonRoundTrips) {
  TrainResult r;
  r.epochs.push_back({1, 0.25, 400, 280000, 91.5, 0, 30.5, 9180.3});
  r.tokens = 280000;
  r.train_seconds = 30.5;
  r.tokens_per_second = 9180.3;
  r.resumed = true;
  r.resumed_at_global_step = 200;
  r.diagnostics.push_back({{"step", 0}, {"x", 1}});
  auto back = TrainResultFromJson(TrainResultToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(TrainResultToJson(*back), TrainResultToJson(r));
  EXPECT_FALSE(TrainResultFromJson(nlohmann::json::object()).ok());
}

TEST(Trainer, TrainsOnTheFixtureCorpus) {
  PtbLoadOptions lo;
  lo.verify_checksums = false;
  auto corpus = LoadPtb("datasets/testdata/tiny_ptb", lo);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  LstmLm model(TinyModel(corpus->vocab.size()));
  TrainOptions o = Quiet(2);
  o.schedule.batch_size = 2;
  o.schedule.bptt = 3;
  auto r = Train(model, corpus->train, corpus->valid, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->epochs.back().valid_perplexity, 1.0);
}

}  // namespace
}  // namespace rnnprune
