// Method-specific tests of the baselines, through the registry (a baseline has no header).
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pruning/compaction.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"
#include "training/step_sizes.h"

namespace rnnprune {
namespace {

LstmLmConfig Config() {
  LstmLmConfig c;
  c.vocab_size = 23;
  c.embedding_size = 6;
  c.hidden_sizes = {7, 5};
  c.init_scale = 0.4;
  return c;
}

std::unique_ptr<PruningMethod> Make(const std::string& name, MethodOptions o) {
  auto m = CreatePruningMethod(name, o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

// Zeroes every weight of the ISS group of hidden unit k of layer l.
void PlantZeroGroup(LstmLm& model, int64_t l, int64_t k) {
  torch::NoGradGuard no_grad;
  LstmLayerWeights& w = model->mutable_layer(l);
  const int64_t h = w.w_hh.size(1);
  for (int64_t g = 0; g < 4; ++g) {
    w.w_ih[g * h + k].zero_();
    w.w_hh[g * h + k].zero_();
    w.b_ih[g * h + k].zero_();
    w.b_hh[g * h + k].zero_();
  }
  w.w_hh.select(1, k).zero_();
  if (l + 1 < model->num_layers()) {
    model->mutable_layer(l + 1).w_ih.select(1, k).zero_();
  } else {
    model->decoder_weight().select(1, k).zero_();
  }
}

// The squared norm of the ISS group of unit k of layer l, summed weight by weight.
double HandGroupSquaredNorm(const LstmLm& model, int64_t l, int64_t k) {
  const LstmLayerWeights& w = model->layer(l);
  const int64_t h = w.w_hh.size(1);
  torch::Tensor in_group = torch::zeros_like(w.w_hh, torch::kBool);
  for (int64_t g = 0; g < 4; ++g) in_group[g * h + k] = true;
  in_group.select(1, k).fill_(true);
  double sum = w.w_hh.pow(2).masked_select(in_group).sum().item<double>();
  for (int64_t g = 0; g < 4; ++g) {
    sum += w.w_ih[g * h + k].pow(2).sum().item<double>() +
           std::pow(w.b_ih[g * h + k].item<double>(), 2) +
           std::pow(w.b_hh[g * h + k].item<double>(), 2);
  }
  const torch::Tensor& consumer =
      l + 1 < model->num_layers() ? model->layer(l + 1).w_ih : model->decoder_weight();
  return sum + consumer.select(1, k).pow(2).sum().item<double>();
}

TEST(IssGroupLasso, GroupNormsCountEachWeightOnce) {
  torch::manual_seed(1);
  LstmLm model(Config());
  const std::vector<torch::Tensor> norms = IssGroupSquaredNorms(model);
  ASSERT_EQ(norms.size(), 2u);
  // Layer 0 (read by layer 1's W_ih) and layer 1 (read by the decoder), every unit.
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t k = 0; k < norms[l].size(0); ++k) {
      const double expected = HandGroupSquaredNorm(model, l, k);
      EXPECT_NEAR(norms[l][k].item<double>(), expected, 1e-5 * expected) << l << " " << k;
    }
  }
}

TEST(IssGroupLasso, PlantedZeroGroupIsRemovedAndOutputsDoNotChange) {
  torch::manual_seed(2);
  LstmLm model(Config());
  PlantZeroGroup(model, 0, 3);
  PlantZeroGroup(model, 1, 1);
  MethodOptions o;
  o.config = Config();
  o.lambda = 1e-3;
  auto iss = Make("iss", o);
  ASSERT_NE(iss, nullptr);
  ASSERT_TRUE(iss->Begin(model).ok());
  auto s = iss->Finish(model);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->structured);
  EXPECT_EQ(s->neurons.KeptHidden(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(s->neurons.hidden[0][3].item<float>(), 0.0f);
  EXPECT_EQ(s->neurons.hidden[1][1].item<float>(), 0.0f);
  auto compacted = Compact(model, s->neurons);
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  EXPECT_EQ(compacted->model->config().hidden_sizes, (std::vector<int64_t>{6, 4}));
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::randint(0, 23, {11, 2}, torch::kInt64);
  LstmState s1 = model->InitialState(2), s2 = compacted->model->InitialState(2);
  // The full model, no gates at all: removing an all-zero group changes nothing.
  const torch::Tensor full = model->forward(input, &s1);
  const torch::Tensor small = compacted->model->forward(input, &s2);
  EXPECT_TRUE(torch::allclose(full, small, 1e-5, 1e-5)) << (full - small).abs().max().item<float>();
}

TEST(IssGroupLasso, ProximalStepZeroesSmallGroupsAndShrinksTheOthers) {
  torch::manual_seed(3);
  LstmLm model(Config());
  // Make unit 2 of layer 0 tiny: its group norm falls below lr * lambda.
  {
    torch::NoGradGuard no_grad;
    LstmLayerWeights& w = model->mutable_layer(0);
    for (int64_t g = 0; g < 4; ++g) {
      w.w_ih[g * 7 + 2].mul_(1e-3);
      w.w_hh[g * 7 + 2].mul_(1e-3);
      w.b_ih[g * 7 + 2].mul_(1e-3);
      w.b_hh[g * 7 + 2].mul_(1e-3);
    }
    w.w_hh.select(1, 2).mul_(1e-3);
    model->mutable_layer(1).w_ih.select(1, 2).mul_(1e-3);
  }
  const std::vector<torch::Tensor> before = IssGroupSquaredNorms(model);
  ASSERT_LT(before[0][2].sqrt().item<double>(), 0.01);
  MethodOptions o;
  o.config = Config();
  o.lambda = 0.1;
  auto iss = Make("iss", o);
  ASSERT_NE(iss, nullptr);
  EXPECT_FALSE(iss->Penalty(model).defined());   // optimised by the proximal step instead
  iss->AfterStep(model, /*learning_rate=*/0.5);  // shrink = 0.05 per group
  const std::vector<torch::Tensor> after = IssGroupSquaredNorms(model);
  EXPECT_EQ(after[0][2].item<float>(), 0.0f);
  for (int64_t k = 0; k < 7; ++k) {
    if (k == 2) continue;
    const double b = before[0][k].sqrt().item<double>(), a = after[0][k].sqrt().item<double>();
    EXPECT_GT(a, 0.0) << k;
    // Soft threshold: about ||w|| - 0.05 (overlaps with other groups shrink it a bit more).
    EXPECT_LT(a, b - 0.05 + 1e-6) << k;
    EXPECT_GT(a, b - 0.2) << k;
  }
  auto s = iss->Finish(model);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->neurons.KeptHidden(), (std::vector<int64_t>{6, 5}));
  // The embedding is not part of any group: untouched.
  EXPECT_EQ(model->embedding_weight().eq(0).sum().item<int64_t>(), 0);
}

TEST(IssGroupLasso, ThresholdSetsSmallGroupedWeightsToZero) {
  torch::manual_seed(8);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.lambda = 0;
  o.given_options["zero_threshold"] = "0.05";
  auto iss = Make("iss", o);
  ASSERT_NE(iss, nullptr);
  iss->AfterStep(model, 0.25);
  for (const torch::Tensor& w :
       {model->layer(0).w_ih, model->layer(1).w_hh, model->decoder_weight()}) {
    EXPECT_EQ((w.abs().lt(0.05) & w.ne(0)).sum().item<int64_t>(), 0);
    EXPECT_GT(w.eq(0).sum().item<int64_t>(), 0);
  }
}

// Over any model, ISS takes its proximal step in the metric of the weights' optimizer: with Adam,
// a hidden group is zeroed exactly when ||w_g / d_g|| <= penalty (d: Adam's per-weight step
// sizes), and a kept group's own gate rows are scaled by 1 - penalty / ||w_g / d_g||. The same
// penalty in SGD's metric (step lr) zeroes nothing: with gradients of a real training's size,
// Adam's steps are far larger than lr times the gradient.
TEST(IssOverAnyModel, ProximalStepTakesTheOptimizersMetric) {
  torch::manual_seed(9);
  LstmLm model(Config());
  PrunableModelView view{model->PruningLayout(), ParameterMap(model->named_parameters())};
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : view.parameters) params.push_back(p);
  const double lr = 0.01;
  torch::optim::Adam adam(params, torch::optim::AdamOptions(lr));
  for (int t = 0; t < 3; ++t) {
    for (torch::Tensor& p : params) p.mutable_grad() = 1e-3 * torch::randn_like(p);
    adam.step();
  }
  auto adam_sizes = StepSizes::Of(adam, lr);
  ASSERT_TRUE(adam_sizes.ok()) << adam_sizes.status();
  std::map<std::string, torch::Tensor> per_step;
  for (const auto& [name, p] : view.parameters) per_step[name] = p / adam_sizes->For(p);
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(view.layout, per_step);
  const torch::Tensor n0 = norms.hidden.at("lstm0").sqrt();
  const torch::Tensor sorted = std::get<0>(n0.sort());
  const double penalty = 0.5 * (sorted[2].item<double>() + sorted[3].item<double>());
  const torch::Tensor w_ih0 = view.parameters.at("lstm0_w_ih").detach().clone();

  const auto make = [&]() {
    ModelMethodOptions o;
    o.model = view;
    o.lambda = penalty;
    o.penalty_scale = 1.0;
    auto iss = CreateModelMethod("iss", o);
    EXPECT_TRUE(iss.ok()) << iss.status();
    return iss.ok() ? *std::move(iss) : nullptr;
  };
  std::unique_ptr<ModelMethod> sgd_iss = make();
  ASSERT_NE(sgd_iss, nullptr);
  PrunableModelView copy{view.layout, {}};
  for (const auto& [name, p] : view.parameters) copy.parameters[name] = p.detach().clone();
  sgd_iss->AfterStep(copy, StepSizes(lr));
  auto sgd_gates = sgd_iss->FinalGates(copy);
  ASSERT_TRUE(sgd_gates.ok());
  for (const auto& [name, g] : sgd_gates->hidden) EXPECT_TRUE(g.gt(0).all().item<bool>()) << name;

  std::unique_ptr<ModelMethod> iss = make();
  ASSERT_NE(iss, nullptr);
  iss->AfterStep(view, *adam_sizes);
  auto gates = iss->FinalGates(view);
  ASSERT_TRUE(gates.ok());
  for (const std::string lstm : {"lstm0", "lstm1"}) {
    const torch::Tensor n = norms.hidden.at(lstm).sqrt();
    EXPECT_TRUE(torch::equal(gates->hidden.at(lstm).gt(0), n.gt(penalty))) << lstm;
  }
  EXPECT_EQ(gates->hidden.at("lstm0").eq(0).sum().item<int64_t>(), 3);
  const torch::Tensor w_ih0_after = view.parameters.at("lstm0_w_ih");
  const int64_t h = n0.size(0);
  for (int64_t k = 0; k < h; ++k) {
    const double scale = std::max(0.0, 1.0 - penalty / n0[k].item<double>());
    for (int64_t g = 0; g < 4; ++g) {
      const torch::Tensor expected = w_ih0[g * h + k] * scale;
      // Weights below Wen et al.'s threshold (1e-4) are zeroed after the scaling.
      const torch::Tensor expected_zeroed = expected * expected.abs().ge(1e-4);
      EXPECT_TRUE(torch::allclose(w_ih0_after[g * h + k], expected_zeroed, 1e-5, 1e-7))
          << "unit " << k << " gate " << g;
    }
  }
}

TEST(MagnitudePruning, FollowsTheCubicScheduleAndReachesTheTarget) {
  torch::manual_seed(4);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.sparsity = 0.9;
  o.total_steps = 75;  // the search phase: pruning ends at step 75, mask updates every 3 steps
  auto mag = Make("magnitude", o);
  ASSERT_NE(mag, nullptr);
  ASSERT_TRUE(mag->Begin(model).ok());
  auto sparsity = [&] {
    const torch::Tensor w = model->layer(0).w_hh;
    return w.eq(0).sum().item<double>() / static_cast<double>(w.numel());
  };
  for (int t = 1; t <= 30; ++t) mag->AfterStep(model, 0.25);
  // s_30 = 0.9 (1 - (1 - 30/75)^3) = 0.7056, rounded to whole weights of the [20, 5] matrix.
  EXPECT_NEAR(sparsity(), 0.9 * (1 - std::pow(1 - 30.0 / 75.0, 3)), 1.0 / 100);
  for (int t = 31; t <= 75; ++t) mag->AfterStep(model, 0.25);
  EXPECT_NEAR(sparsity(), 0.9, 1.0 / 100);
  for (int t = 76; t <= 100; ++t) mag->AfterStep(model, 0.25);  // past the schedule: held
  EXPECT_NEAR(sparsity(), 0.9, 1.0 / 100);
  auto s = mag->Finish(model);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(WeightSparsity(*s), 0.9, 0.01);
  // The kept weights are the largest: every kept |w| >= every pruned |w| was at pruning time;
  // after it, pruned weights are exactly 0.
  EXPECT_TRUE(ValidateStructure(model, *s).ok());
}

TEST(MagnitudePruning, PrunedWeightsStayPrunedWhenTrainingMovesThem) {
  torch::manual_seed(9);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.sparsity = 0.8;
  o.total_steps = 40;  // pruning ends at step 40, mask updates every 2 steps
  auto mag = Make("magnitude", o);
  ASSERT_NE(mag, nullptr);
  ASSERT_TRUE(mag->Begin(model).ok());
  torch::Tensor pruned_before = torch::zeros_like(model->layer(0).w_hh, torch::kBool);
  for (int t = 1; t <= 40; ++t) {
    {
      // What an SGD step does: move every weight, the pruned ones included.
      torch::NoGradGuard no_grad;
      for (const std::string& n : LstmWeightNames(model)) {
        torch::Tensor w = ParameterByName(model, n);
        w.add_(torch::randn_like(w) * 0.05);
      }
    }
    mag->AfterStep(model, 0.25);
    const torch::Tensor w = model->layer(0).w_hh;
    const torch::Tensor pruned = w.eq(0);
    // Nested masks: once pruned, always pruned (and exactly 0 after every step).
    EXPECT_TRUE((pruned_before & pruned.logical_not()).sum().item<int64_t>() == 0) << t;
    pruned_before = pruned;
  }
  EXPECT_NEAR(pruned_before.to(torch::kFloat64).mean().item<double>(), 0.8, 0.01);
}

TEST(StructuredMagnitude, KeepsTheNeuronsWithTheLargestGroupNorms) {
  torch::manual_seed(5);
  LstmLm model(Config());
  {
    torch::NoGradGuard no_grad;
    model->mutable_layer(0).w_ih.mul_(0.01);  // shrink layer 0's rows except unit 4's
    for (int64_t g = 0; g < 4; ++g) model->mutable_layer(0).w_ih[g * 7 + 4].mul_(1000);
  }
  MethodOptions o;
  o.config = Config();
  o.target_sizes = {3, 1, 5};
  auto sm = Make("structured_magnitude", o);
  ASSERT_NE(sm, nullptr);
  ASSERT_TRUE(sm->Begin(model).ok());
  auto s = sm->Finish(model);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->neurons.KeptHidden(), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(s->neurons.KeptInputs()[0], 3);
  EXPECT_EQ(s->neurons.hidden[0][4].item<float>(), 1.0f);
}

TEST(RandomRemoval, SameSeedSameNeuronsOtherSeedOthers) {
  torch::manual_seed(6);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.target_sizes = {3, 3, 2};
  o.seed = 11;
  auto a = Make("random", o), b = Make("random", o);
  o.seed = 12;
  auto c = Make("random", o);
  for (auto* m : {a.get(), b.get(), c.get()}) ASSERT_TRUE(m->Begin(model).ok());
  const NeuronMask ma = a->Finish(model)->neurons, mb = b->Finish(model)->neurons,
                   mc = c->Finish(model)->neurons;
  EXPECT_EQ(ma.KeptHidden(), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(torch::equal(ma.hidden[0], mb.hidden[0]) && torch::equal(ma.input[0], mb.input[0]));
  EXPECT_FALSE(torch::equal(ma.hidden[0], mc.hidden[0]) &&
               torch::equal(ma.hidden[1], mc.hidden[1]) && torch::equal(ma.input[0], mc.input[0]));
}

TEST(L1Lasso, SoftThresholdsOnlyTheLstmWeights) {
  torch::manual_seed(7);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.lambda = 0.1;
  o.given_options["zero_threshold"] = "1e-4";
  auto lasso = Make("lasso", o);
  ASSERT_NE(lasso, nullptr);
  const torch::Tensor before = model->layer(1).w_hh.clone();
  lasso->AfterStep(model, /*learning_rate=*/1.0);  // shrink = 0.1
  const torch::Tensor want = before.sign() * (before.abs() - 0.1).clamp_min(0);
  EXPECT_TRUE(torch::allclose(model->layer(1).w_hh, want, 0, 1e-6));
  auto s = lasso->Finish(model);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->weight_masks.size(), 4u);
  // init U(-0.4, 0.4): a quarter of the weights fall under 0.1.
  EXPECT_NEAR(WeightSparsity(*s), 0.25, 0.08);
  EXPECT_EQ(model->layer(0).b_ih.eq(0).sum().item<int64_t>(), 0);
  EXPECT_EQ(model->decoder_weight().eq(0).sum().item<int64_t>(), 0);
  EXPECT_EQ(model->embedding_weight().eq(0).sum().item<int64_t>(), 0);
}

// One penalty scale for every method (pruning/method.h PenaltyScale): one epoch of Lasso's
// proximal steps at lr 1 shrinks a weight by lambda / batch size, whatever the data size (the
// same as the gradient of lambda * |w| / N summed over the epoch's N tokens, per sequence).
TEST(L1Lasso, ShrinkPerEpochIsTheSameForTwoDataSizes) {
  const int64_t batch = 4, bptt = 10;
  for (int64_t rows : {101, 401}) {
    SCOPED_TRACE(rows);
    MethodOptions o;
    o.config = Config();
    o.lambda = 3.0;
    o.penalty_scale = PenaltyScale(rows * batch, batch, bptt);
    auto lasso = Make("lasso", o);
    ASSERT_NE(lasso, nullptr);
    LstmLm model(Config());
    {
      torch::NoGradGuard no_grad;
      model->mutable_layer(0).w_hh.fill_(1.0);
    }
    const int64_t windows = (rows - 1) / bptt;
    for (int64_t w = 0; w < windows; ++w) lasso->AfterStep(model, /*learning_rate=*/1.0);
    EXPECT_NEAR(model->layer(0).w_hh[0][0].item<double>(), 1.0 - 3.0 / batch, 1e-5);
  }
}

TEST(StructuredMagnitude, TargetsOfTheUpperInputsChooseAmongKeptUnits) {
  torch::manual_seed(12);
  LstmLm model(Config());
  MethodOptions o;
  o.config = Config();
  o.target_sizes = {4, 3, 5, 4};  // E, I2, H1, H2
  auto sm = Make("structured_magnitude", o);
  ASSERT_NE(sm, nullptr);
  ASSERT_TRUE(sm->Begin(model).ok());
  auto s = sm->Finish(model);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->neurons.KeptHidden(), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(s->neurons.KeptInputs(), (std::vector<int64_t>{4, 3}));
  // Layer 2 reads only units layer 1 keeps.
  EXPECT_EQ((s->neurons.input[1].gt(0) & s->neurons.hidden[0].eq(0)).sum().item<int64_t>(), 0);
  auto compacted = Compact(model, s->neurons);
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  EXPECT_EQ(compacted->model->config().InputSize(1), 3);
  EXPECT_EQ(compacted->model->config().embedding_size, 4);
}

}  // namespace
}  // namespace rnnprune
