#include "pruning/l0_neuron_selection.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "pruning/compaction.h"
#include "pruning/method.h"
#include "torch/torch.h"
#include "training/lm_trainer.h"

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

TEST(L0NeuronSelection, PenaltyIsWeightedExpectedL0PerGateSet) {
  L0Options o;
  o.lambda_embedding = 1e-3;
  o.lambda_input = 2e-3;
  o.lambda_hidden = 5e-3;
  o.penalty_scale = 0.5;
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
  const double want = 0.5 * p * (1e-3 * 10 * 76 + 2e-3 * 16 * 48 + 5e-3 * (16 * 220 + 12 * 176));
  EXPECT_NEAR((*s)->Penalty(model).item<double>(), want, 1e-6 * want);
  const double l0 = p * (10 * 76 + 16 * 48 + 16 * 220 + 12 * 176);
  EXPECT_NEAR((*s)->ExpectedL0(), l0, 1e-5 * l0);
}

TEST(L0NeuronSelection, SpeedAwareCostIsTheMultiplyAddsAGateRemoves) {
  // z_x^0: 4 H_0 (the embedding lookup costs none); z_x^1: 4 H_1;
  // z_h^0: 4 E + 8 H_0 - 4 + 4 H_1; z_h^1: 4 H_0 + 8 H_1 - 4 + V.
  const GateWeightCounts m = CountGateMultiplyAdds(Tiny());
  EXPECT_EQ(m.input, (std::vector<int64_t>{64, 48}));
  EXPECT_EQ(m.hidden, (std::vector<int64_t>{40 + 128 - 4 + 48, 64 + 96 - 4 + 12}));
  // Removing every hidden unit of layer 2 and every input of layer 2 accounts for the LSTM
  // multiply-adds of layer 2 and the decoder, each counted once per gate (overlaps per gate).
  L0Options o;
  o.cost = GateCost::kMultiplyAdds;
  o.lambda_hidden = 1;
  o.gates.init_keep_probability = 0.5;
  auto s = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_TRUE(s.ok());
  LstmLm model(Tiny());
  const double p = (*s)->hidden_gates()[0].ProbabilityNonZero()[0].item<double>();
  EXPECT_NEAR((*s)->Penalty(model).item<double>(), p * (16 * 212 + 12 * 168), 1e-3);
  EXPECT_EQ((*s)->RecordedOptions()["gate_cost"], "multiply_adds");
}

// The toy objective of the penalty alone: Adam moves every log_alpha by its learning rate on the
// first step (Adam's first update is lr * sign(gradient)), and the clamp holds both bounds.
TEST(L0NeuronSelection, AdamTrainsLogAlphaAndTheClampHolds) {
  L0Options o;
  o.lambda_hidden = o.lambda_input = o.lambda_embedding = 1.0;
  o.gate_learning_rate = 0.25;
  auto s = L0NeuronSelection::Create(Tiny(), o);  // keep 0.95: log_alpha = log 19
  ASSERT_TRUE(s.ok());
  LstmLm model(Tiny());
  torch::optim::Optimizer* adam = (*s)->ExtraOptimizer();
  ASSERT_NE(adam, nullptr);
  const auto step = [&] {
    adam->zero_grad();
    (*s)->Penalty(model).backward();
    adam->step();
    (*s)->AfterStep(model, /*learning_rate=*/1.0);
  };
  step();
  for (const auto* sets : {&(*s)->input_gates(), &(*s)->hidden_gates()}) {
    for (const HardConcreteGates& g : *sets) {
      EXPECT_NEAR(g.log_alpha().min().item<double>(), std::log(19.0) - 0.25, 1e-5);
      EXPECT_NEAR(g.log_alpha().max().item<double>(), std::log(19.0) - 0.25, 1e-5);
    }
  }
  for (int i = 0; i < 200; ++i) step();
  // The penalty pushes every gate closed: down to the lower bound and no further.
  for (const auto* sets : {&(*s)->input_gates(), &(*s)->hidden_gates()}) {
    for (const HardConcreteGates& g : *sets) {
      EXPECT_NEAR(g.log_alpha().min().item<double>(), L0NeuronSelection::kMinLogAlpha, 1e-6);
      EXPECT_NEAR(g.log_alpha().max().item<double>(), L0NeuronSelection::kMinLogAlpha, 1e-6);
    }
  }
  EXPECT_EQ((*s)->DeterministicMask().KeptHidden(), (std::vector<int64_t>{0, 0}));

  // The upper bound: a start above log 100 is clamped after the first step.
  o.gates.init_keep_probability = 0.999;  // log_alpha = log 999
  auto high = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_TRUE(high.ok());
  EXPECT_NEAR((*high)->hidden_gates()[1].log_alpha()[0].item<double>(), std::log(999.0), 1e-4);
  (*high)->AfterStep(model, 1.0);
  EXPECT_NEAR((*high)->hidden_gates()[1].log_alpha().max().item<double>(),
              L0NeuronSelection::kMaxLogAlpha, 1e-6);
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
  o.lambda_embedding = o.lambda_input = o.lambda_hidden = 8e-4;
  o.gate_learning_rate = 0.05;
  auto s = L0NeuronSelection::Create(Tiny(), o);
  ASSERT_TRUE(s.ok());
  const double l0_before = (*s)->ExpectedL0();
  TrainOptions t;
  t.schedule.epochs = 6;
  t.schedule.decay_after_epochs = 10;
  t.schedule.batch_size = 4;
  t.schedule.bptt = 10;
  t.eval_each_epoch = false;
  t.diagnostics_every_steps = 50;
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

  // Gate statistics: at step 0, every 50 steps, and after the last step, consistent with the
  // final mask.
  const int64_t steps = 6 * 75;  // 75 windows of 10 rows per epoch at batch 4 (3000 tokens)
  ASSERT_EQ(r->diagnostics.size(), static_cast<size_t>(1 + (steps - 1) / 50 + 1));
  EXPECT_EQ(r->diagnostics.front()["step"], 0);
  EXPECT_EQ(r->diagnostics[1]["step"], 50);
  const nlohmann::json& last = r->diagnostics.back();
  EXPECT_EQ(last["step"], steps);
  const std::vector<int64_t> kept_in = mask.KeptInputs(), kept_hid = mask.KeptHidden();
  const std::vector<std::pair<std::string, int64_t>> want = {
      {"E", kept_in[0]}, {"I2", kept_in[1]}, {"H1", kept_hid[0]}, {"H2", kept_hid[1]}};
  ASSERT_EQ(last["gate_sets"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const nlohmann::json& g = last["gate_sets"][i];
    EXPECT_EQ(g["set"], want[i].first);
    EXPECT_EQ(g["partial"].get<int64_t>() + g["open"].get<int64_t>(), want[i].second);
    EXPECT_EQ(g["closed"].get<int64_t>() + want[i].second, g["size"].get<int64_t>());
    EXPECT_LE(g["mean_log_alpha"].get<double>(), L0NeuronSelection::kMaxLogAlpha);
  }
  EXPECT_NEAR(last["expected_cost"].get<double>(), (*s)->ExpectedL0(), 1e-3);

  auto c = Compact(model, mask);
  ASSERT_TRUE(c.ok()) << c.status();
  auto gated = EvaluatePerplexity(model, stream.narrow(0, 3000, 1000), 1, 10, 0, s->get());
  auto compact = EvaluatePerplexity(c->model, stream.narrow(0, 3000, 1000), 1, 10);
  ASSERT_TRUE(gated.ok() && compact.ok());
  EXPECT_NEAR(gated->perplexity, compact->perplexity, 1e-4 * gated->perplexity);
  EXPECT_LT(gated->perplexity, 4.0);  // still models the pattern
}

// One penalty scale for every method (pruning/method.h PenaltyScale): the same lambda adds the
// same penalty per epoch, lambda * R nats, whatever the data size (the proximal methods:
// baselines/baselines_test.cc).
TEST(PenaltyScale, SameSettingSamePenaltyPerEpochForTwoDataSizes) {
  const int64_t batch = 4, bptt = 10;
  LstmLm model(Tiny());
  for (int64_t rows : {101, 401}) {  // rows - 1 = 10 and 40 windows of 10
    SCOPED_TRACE(rows);
    const int64_t stream_tokens = rows * batch;
    const int64_t n = EpochTrainingTokens(stream_tokens, batch);
    ASSERT_EQ(n, (rows - 1) * batch);
    const int64_t windows = (rows - 1) / bptt;
    MethodOptions mo;
    mo.config = Tiny();
    mo.lambda = 3.0;
    mo.given_options["l0_init_keep"] = "0.5";
    mo.penalty_scale = PenaltyScale(stream_tokens, batch, bptt);
    EXPECT_DOUBLE_EQ(mo.penalty_scale, static_cast<double>(bptt) / n);
    auto l0 = CreatePruningMethod("l0", mo);
    ASSERT_TRUE(l0.ok()) << l0.status();
    // The window's loss is per sequence (mean over the batch): times the batch size, nats.
    const double per_window = (*l0)->Penalty(model).item<double>();
    auto* gates = dynamic_cast<L0NeuronSelection*>(l0->get());
    ASSERT_NE(gates, nullptr);
    const double epoch = 3.0 * gates->ExpectedL0();  // lambda * R, nats
    EXPECT_NEAR(per_window * batch * windows, epoch, 1e-6 * epoch);
  }
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
