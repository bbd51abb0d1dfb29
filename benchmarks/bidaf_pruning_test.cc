#include "benchmarks/bidaf_pruning.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "pruning/gate_targets.h"
#include "pruning/l0_gates.h"
#include "pruning/l0_hooks.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"
#include "training/bidaf_testing.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

BidafTrainOptions Epochs(int64_t n) {
  BidafTrainOptions o;
  o.optimizer = "adam";
  o.learning_rate = 1e-2;
  o.epochs = n;
  o.batch_size = 2;
  o.ema_decay = 0;
  o.seed = 5;
  return Quiet(o);
}

BidafPruningPlan Plan() {
  BidafPruningPlan plan;
  plan.search = Epochs(5);  // 15 steps: Adam at 0.5 moves log_alpha from log 19 to closed in ~11
  plan.recovery = Epochs(1);
  return plan;
}

std::unique_ptr<L0Hooks> L0(Bidaf& model) {
  const PrunableModelView view = model->View();
  auto costs = UniformSetCosts(NeuronGroupSizes(view.layout, view.parameters));
  EXPECT_TRUE(costs.ok());
  L0GatesOptions o;
  o.input_cost = costs->first;
  o.hidden_cost = costs->second;
  for (const PrunableLstm& l : view.layout.lstms) {
    o.input_lambda[l.name] = o.hidden_lambda[l.name] = 3e-5;
  }
  return std::move(*L0Hooks::Create(view, o, 0.5));
}

// The dense control, the paper's method and structured magnitude at the sizes L0 kept, from one
// parent with one budget: the control deploys the dense model after S + M epochs; L0 searches S
// epochs, is compacted and recovers M; structured magnitude is compacted at once and trains
// S + M epochs. The parent is never changed.
TEST(BidafPruning, EveryKindOfMethodRunsTheSameProtocol) {
  const TinyTask task = MakeTinyTask();
  Bidaf parent = MakeModel(task.config, 1);
  ASSERT_TRUE(TrainBidaf(parent, task.examples, Epochs(3)).ok());
  const std::vector<torch::Tensor> before = Snapshot(parent);
  const std::vector<SquadExample> validation(task.examples.begin(), task.examples.begin() + 2);

  absl::StatusOr<BidafPruningOutcome> control =
      RunBidafPruning(parent, task.examples, validation, task.examples, Plan());
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_FALSE(control->search.has_value());
  EXPECT_EQ(control->recovery.epochs.size(), 6u);
  EXPECT_TRUE(control->recovery.epochs[0].validated);
  EXPECT_TRUE(control->gates.hidden.empty());

  std::unique_ptr<L0Hooks> hooks = L0(parent);
  BidafPruningPlan l0_plan = Plan();
  l0_plan.hooks = hooks.get();
  l0_plan.final_gates = [&](const PrunableModelView&) -> absl::StatusOr<NeuronGates> {
    return hooks->FinalGates();
  };
  absl::StatusOr<BidafPruningOutcome> l0 =
      RunBidafPruning(parent, task.examples, validation, task.examples, l0_plan);
  ASSERT_TRUE(l0.ok()) << l0.status();
  ASSERT_TRUE(l0->search.has_value());
  EXPECT_EQ(l0->search->epochs.size(), 5u);
  EXPECT_EQ(l0->recovery.epochs.size(), 1u);
  EXPECT_LT(l0->lstm_parameters, control->lstm_parameters);
  EXPECT_LT(l0->parameters, control->parameters);
  EXPECT_EQ(l0->eval.questions, static_cast<int64_t>(task.examples.size()));

  BidafPruningPlan sm_plan = Plan();
  sm_plan.fixed_at_start = true;
  GateTargets targets;
  targets.hidden = l0->kept_hidden;
  sm_plan.final_gates = [&](const PrunableModelView& m) {
    return GatesKeepingLargest(m.layout, m.parameters,
                               NeuronGroupSquaredNorms(m.layout, m.parameters), targets);
  };
  absl::StatusOr<BidafPruningOutcome> sm =
      RunBidafPruning(parent, task.examples, validation, task.examples, sm_plan);
  ASSERT_TRUE(sm.ok()) << sm.status();
  EXPECT_FALSE(sm->search.has_value());
  EXPECT_EQ(sm->recovery.epochs.size(), 6u);
  EXPECT_EQ(sm->kept_hidden, l0->kept_hidden);

  const std::vector<torch::Tensor> after = Snapshot(parent);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;
}

TEST(BidafPruning, ACollapsedStructureIsAClearError) {
  const TinyTask task = MakeTinyTask();
  Bidaf parent = MakeModel(task.config, 1);
  BidafPruningPlan plan = Plan();
  plan.fixed_at_start = true;
  plan.final_gates = [](const PrunableModelView& m) -> absl::StatusOr<NeuronGates> {
    NeuronGates g = NeuronGates::AllOpen(m.layout, m.parameters);
    g.hidden["output.bw"].zero_();
    return g;
  };
  absl::StatusOr<BidafPruningOutcome> r =
      RunBidafPruning(parent, task.examples, {}, task.examples, plan);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("LSTM 'output.bw': every hidden neuron is closed"));
}

}  // namespace
}  // namespace rnnprune
