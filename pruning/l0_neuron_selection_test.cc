// The paper's method on the LSTM LM (pruning/l0_neuron_selection.h through pruning/lm_form.h):
// its penalty, costs, gate optimizer and clamp, evaluation pass, training and compaction.
#include "pruning/l0_neuron_selection.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "pruning/compaction.h"
#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/neuron_mask.h"
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

// L0 on `model` (its layout and live parameters) at `lambda` for the hidden sets, with the
// given own options (flag -> text; the rest at their defaults).
std::unique_ptr<L0Hooks> L0On(const LstmLm& model, double lambda,
                              std::map<std::string, std::string> given = {},
                              GateCost cost = GateCost::kWeights, double penalty_scale = 1.0) {
  ModelMethodOptions o;
  o.model = LmView(model);
  o.lambda = lambda;
  o.penalty_scale = penalty_scale;
  absl::StatusOr<nlohmann::json> own = ResolveOwnOptions("l0", given);
  EXPECT_TRUE(own.ok()) << own.status();
  o.own = own.value_or(nlohmann::json::object());
  absl::StatusOr<std::unique_ptr<L0Hooks>> h = CreateL0Hooks(cost, o);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? std::move(*h) : nullptr;
}

// The deterministic gates as the LM's NeuronMask.
NeuronMask MaskOf(const L0Hooks& hooks) {
  return NeuronMaskOf(hooks.gates().Deterministic(), Tiny()).value();
}

torch::Tensor PatternStream(int64_t n) {
  torch::manual_seed(123);
  auto base = torch::arange(0, n, torch::kInt64).remainder(7);
  return torch::where(torch::rand({n}) < 0.1, torch::randint(0, 12, {n}, torch::kInt64), base);
}

TEST(L0NeuronSelection, PenaltyIsWeightedExpectedL0PerGateSet) {
  LstmLm model(Tiny());
  // lambda 5e-3 for the hidden sets, 1e-3 for E (ratio 0.2), 2e-3 for I2 (ratio 0.4).
  std::unique_ptr<L0Hooks> s = L0On(model, 5e-3,
                                    {{"l0_embedding_lambda_ratio", "0.2"},
                                     {"l0_input_lambda_ratio", "0.4"},
                                     {"l0_init_keep", "0.5"}},
                                    GateCost::kWeights, /*penalty_scale=*/0.5);
  ASSERT_NE(s, nullptr);
  LmHooksOf lm(s.get());
  const GateWeightCounts n = CountGateWeights(Tiny());
  // Counts from the docstring: z_x^0: V + 4 H_0; z_x^1: 4 H_1; z_h^0: 4 E + 8 H_0 + 4 + 4 H_1;
  // z_h^1: 4 H_0 + 8 H_1 + 4 + V.
  EXPECT_EQ(n.input, (std::vector<int64_t>{12 + 64, 48}));
  EXPECT_EQ(n.hidden, (std::vector<int64_t>{40 + 128 + 4 + 48, 64 + 96 + 4 + 12}));
  const double p = s->gates().input_sets()[0].ProbabilityNonZero()[0].item<double>();
  const double want = 0.5 * p * (1e-3 * 10 * 76 + 2e-3 * 16 * 48 + 5e-3 * (16 * 220 + 12 * 176));
  EXPECT_NEAR(lm.Penalty(model).item<double>(), want, 1e-6 * want);
  const double l0 = p * (10 * 76 + 16 * 48 + 16 * 220 + 12 * 176);
  EXPECT_NEAR(s->gates().ExpectedCost(), l0, 1e-5 * l0);
  EXPECT_NEAR(s->RecordedOptions()["lambda_embedding"].get<double>(), 1e-3, 1e-12);
  EXPECT_NEAR(s->RecordedOptions()["lambda_input"].get<double>(), 2e-3, 1e-12);
  EXPECT_EQ(s->RecordedOptions()["lambda_hidden"].get<double>(), 5e-3);
}

TEST(L0NeuronSelection, SpeedAwareCostIsTheMultiplyAddsAGateRemoves) {
  // z_x^0: 4 H_0 (the embedding lookup costs none); z_x^1: 4 H_1;
  // z_h^0: 4 E + 8 H_0 - 4 + 4 H_1; z_h^1: 4 H_0 + 8 H_1 - 4 + V.
  const GateWeightCounts m = CountGateMultiplyAdds(Tiny());
  EXPECT_EQ(m.input, (std::vector<int64_t>{64, 48}));
  EXPECT_EQ(m.hidden, (std::vector<int64_t>{40 + 128 - 4 + 48, 64 + 96 - 4 + 12}));
  // Removing every hidden unit of layer 2 and every input of layer 2 accounts for the LSTM
  // multiply-adds of layer 2 and the decoder, each counted once per gate (overlaps per gate).
  LstmLm model(Tiny());
  std::unique_ptr<L0Hooks> s = L0On(
      model, 1,
      {{"l0_embedding_lambda_ratio", "0"}, {"l0_input_lambda_ratio", "0"}, {"l0_init_keep", "0.5"}},
      GateCost::kMultiplyAdds);
  ASSERT_NE(s, nullptr);
  const double p = s->gates().hidden_sets()[0].ProbabilityNonZero()[0].item<double>();
  EXPECT_NEAR(LmHooksOf(s.get()).Penalty(model).item<double>(), p * (16 * 212 + 12 * 168), 1e-3);
  EXPECT_EQ(s->RecordedOptions()["gate_cost"], "multiply_adds");
}

// The toy objective of the penalty alone: Adam moves every log_alpha by its learning rate on the
// first step (Adam's first update is lr * sign(gradient)), and the clamp holds both bounds.
TEST(L0NeuronSelection, AdamTrainsLogAlphaAndTheClampHolds) {
  LstmLm model(Tiny());
  std::unique_ptr<L0Hooks> s = L0On(model, 1.0, {{"l0_gate_learning_rate", "0.25"}});
  ASSERT_NE(s, nullptr);  // keep 0.95: log_alpha = log 19
  LmHooksOf lm(s.get());
  torch::optim::Optimizer* adam = lm.ExtraOptimizer();
  ASSERT_NE(adam, nullptr);
  const auto step = [&] {
    adam->zero_grad();
    lm.Penalty(model).backward();
    adam->step();
    lm.AfterStep(model, /*learning_rate=*/1.0);
  };
  step();
  for (const auto* sets : {&s->gates().input_sets(), &s->gates().hidden_sets()}) {
    for (const HardConcreteGates& g : *sets) {
      EXPECT_NEAR(g.log_alpha().min().item<double>(), std::log(19.0) - 0.25, 1e-5);
      EXPECT_NEAR(g.log_alpha().max().item<double>(), std::log(19.0) - 0.25, 1e-5);
    }
  }
  for (int i = 0; i < 200; ++i) step();
  // The penalty pushes every gate closed: down to the lower bound and no further.
  for (const auto* sets : {&s->gates().input_sets(), &s->gates().hidden_sets()}) {
    for (const HardConcreteGates& g : *sets) {
      EXPECT_NEAR(g.log_alpha().min().item<double>(), L0Hooks::kMinLogAlpha, 1e-6);
      EXPECT_NEAR(g.log_alpha().max().item<double>(), L0Hooks::kMinLogAlpha, 1e-6);
    }
  }
  const NeuronGates closed = s->gates().Deterministic();
  for (const auto& [name, z] : closed.hidden) EXPECT_EQ(z.ne(0).sum().item<int64_t>(), 0) << name;

  // The upper bound: a start above log 100 is clamped after the first step.
  std::unique_ptr<L0Hooks> high = L0On(model, 1.0, {{"l0_init_keep", "0.999"}});
  ASSERT_NE(high, nullptr);  // log_alpha = log 999
  EXPECT_NEAR(high->gates().hidden_sets()[1].log_alpha()[0].item<double>(), std::log(999.0), 1e-4);
  LmHooksOf(high.get()).AfterStep(model, 1.0);
  EXPECT_NEAR(high->gates().hidden_sets()[1].log_alpha().max().item<double>(),
              L0Hooks::kMaxLogAlpha, 1e-6);
}

TEST(L0NeuronSelection, OpenGatesInEvalEqualThePlainModel) {
  LstmLm model(Tiny());
  std::unique_ptr<L0Hooks> s = L0On(model, 0);  // keep 0.95: z_hat = 1
  ASSERT_NE(s, nullptr);
  model->eval();
  auto input = torch::randint(0, 12, {6, 2}, torch::kInt64);
  LstmState a = model->InitialState(2), b = model->InitialState(2);
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::allclose(LmHooksOf(s.get()).Forward(model, input, &a).Logits(),
                              model->forward(input, &b)));
}

// Training with a strong penalty closes gates; the gated model (deterministic gates) and its
// compaction give the same perplexity.
TEST(L0NeuronSelection, TrainingClosesGatesAndCompactionAgrees) {
  torch::set_num_threads(1);
  torch::manual_seed(5);
  LstmLm model(Tiny());
  std::unique_ptr<L0Hooks> s = L0On(model, 8e-4, {{"l0_gate_learning_rate", "0.05"}});
  ASSERT_NE(s, nullptr);
  LmHooksOf lm(s.get());
  const double l0_before = s->gates().ExpectedCost();
  TrainOptions t;
  t.schedule.epochs = 6;
  t.schedule.decay_after_epochs = 10;
  t.schedule.batch_size = 4;
  t.schedule.bptt = 10;
  t.eval_each_epoch = false;
  t.diagnostics_every_steps = 50;
  t.log = [](const std::string&) {};
  auto stream = PatternStream(4000);
  auto r = Train(model, stream.narrow(0, 0, 3000), {}, t, &lm);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(s->gates().ExpectedCost(), 0.9 * l0_before);
  NeuronMask mask = MaskOf(*s);
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
    EXPECT_LE(g["mean_log_alpha"].get<double>(), L0Hooks::kMaxLogAlpha);
  }
  EXPECT_NEAR(last["expected_cost"].get<double>(), s->gates().ExpectedCost(), 1e-3);

  auto c = Compact(model, mask);
  ASSERT_TRUE(c.ok()) << c.status();
  auto gated = EvaluatePerplexity(model, stream.narrow(0, 3000, 1000), 1, 10, 0, &lm);
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
    // lambda * R: R the expected cost the gates keep (the same gates, built as the LM form
    // builds them).
    mo.own = ResolveOwnOptions("l0", mo.given_options).value();
    ModelMethodOptions same;
    same.model = LmView(model);
    same.lambda = mo.lambda;
    same.penalty_scale = mo.penalty_scale;
    same.own = mo.own;
    std::unique_ptr<L0Hooks> gates = CreateL0Hooks(GateCost::kWeights, same).value();
    const double epoch = 3.0 * gates->gates().ExpectedCost();  // lambda * R, nats
    EXPECT_NEAR(per_window * batch * windows, epoch, 1e-6 * epoch);
  }
}

TEST(L0NeuronSelection, RejectsNegativeLambda) {
  MethodOptions mo;
  mo.config = Tiny();
  mo.lambda = -1;
  absl::StatusOr<std::unique_ptr<PruningMethod>> s = CreatePruningMethod("l0", mo);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("lambda=-1"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace rnnprune
