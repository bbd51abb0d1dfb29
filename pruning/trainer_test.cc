#include "pruning/trainer.h"

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
