#include "pruning/l0_neuron_selection.h"

#include <cmath>

#include "gtest/gtest.h"
#include "pruning/compaction.h"
#include "pruning/trainer.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

LstmLmConfig Tiny() {
  LstmLmConfig c;
  c.vocab_size = 12;
  c.embedding_size = 10;
  c.hidden_sizes = {16, 12};
  c.init_scale = 0.5;
  return c;
}

torch::Tensor PatternStream(int64_t n) {
  torch::manual_seed(123);
  auto base = torch::arange(0, n, torch::kInt64).remainder(7);
  return torch::where(torch::rand({n}) < 0.1, torch::randint(0, 12, {n}, torch::kInt64), base);
}

TEST(L0NeuronSelection, PenaltyIsWeightedExpectedL0) {
  L0Options o;
  o.lambda_input = 2e-3;
  o.lambda_hidden = 5e-3;
  o.gates.init_keep_probability = 0.5;
  auto s = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_TRUE(s.ok()) << s.status();
  LstmLm model(Tiny());
  const GateWeightCounts n = CountGateWeights(Tiny());
  // Counts from the docstring: z_x^0: V + 4 H_0; z_x^1: 4 H_1; z_h^0: 4 E + 8 H_0 + 4 + 4 H_1;
  // z_h^1: 4 H_0 + 8 H_1 + 4 + V.
  EXPECT_EQ(n.input, (std::vector<int64_t>{12 + 64, 48}));
  EXPECT_EQ(n.hidden, (std::vector<int64_t>{40 + 128 + 4 + 48, 64 + 96 + 4 + 12}));
  const double p = (*s)->input_gates()[0].ProbabilityNonZero()[0].item<double>();
  const double want = 2e-3 * p * (10 * 76 + 16 * 48) + 5e-3 * p * (16 * 220 + 12 * 176);
  EXPECT_NEAR((*s)->Penalty(model).item<double>(), want, 1e-6 * want);
  const double l0 = p * (10 * 76 + 16 * 48 + 16 * 220 + 12 * 176);
  EXPECT_NEAR((*s)->ExpectedL0(), l0, 1e-5 * l0);
}

TEST(L0NeuronSelection, OpenGatesInEvalEqualThePlainModel) {
  auto s = L0NeuronSelection::Create(Tiny(), L0Options());  // keep 0.95: z_hat = 1
  ASSERT_TRUE(s.ok());
  LstmLm model(Tiny());
  model->eval();
  auto input = torch::randint(0, 12, {6, 2}, torch::kInt64);
  LstmState a = model->InitialState(2), b = model->InitialState(2);
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::allclose((*s)->Forward(model, input, &a).Logits(), model->forward(input, &b)));
}

// Training with a strong penalty closes gates; the gated model (deterministic gates) and its
// compaction give the same perplexity.
TEST(L0NeuronSelection, TrainingClosesGatesAndCompactionAgrees) {
  torch::set_num_threads(1);
  torch::manual_seed(5);
  LstmLm model(Tiny());
  L0Options o;
  o.lambda_input = 1.5e-3;
  o.lambda_hidden = 1.5e-3;
  auto s = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_TRUE(s.ok());
  const double l0_before = (*s)->ExpectedL0();
  TrainOptions t;
  t.schedule.epochs = 6;
  t.schedule.decay_after_epochs = 10;
  t.schedule.batch_size = 4;
  t.schedule.bptt = 10;
  t.eval_each_epoch = false;
  t.log = [](const std::string&) {};
  auto stream = PatternStream(4000);
  auto r = Train(model, stream.narrow(0, 0, 3000), {}, t, s->get());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT((*s)->ExpectedL0(), 0.9 * l0_before);
  NeuronMask mask = (*s)->DeterministicMask();
  int64_t closed = 0;
  for (const auto& m : mask.hidden) closed += (m == 0).sum().item<int64_t>();
  for (const auto& m : mask.input) closed += (m == 0).sum().item<int64_t>();
  EXPECT_GT(closed, 0);
  auto c = Compact(model, mask);
  ASSERT_TRUE(c.ok()) << c.status();
  auto gated = EvaluatePerplexity(model, stream.narrow(0, 3000, 1000), 1, 10, 0, s->get());
  auto compact = EvaluatePerplexity(c->model, stream.narrow(0, 3000, 1000), 1, 10);
  ASSERT_TRUE(gated.ok() && compact.ok());
  EXPECT_NEAR(gated->perplexity, compact->perplexity, 1e-4 * gated->perplexity);
  EXPECT_LT(gated->perplexity, 4.0);  // still models the pattern
}

TEST(L0NeuronSelection, RejectsNegativeLambda) {
  L0Options o;
  o.lambda_hidden = -1;
  auto s = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("lambda_hidden=-1"), std::string::npos);
}

}  // namespace
}  // namespace rnnprune
