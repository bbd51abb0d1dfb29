#include "benchmarks/bidaf_pruning.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "pruning/gate_targets.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
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

BidafPruningPlan Plan(ModelMethod* method) {
  BidafPruningPlan plan;
  plan.method = method;
  plan.search = Epochs(5);  // 15 steps: Adam at 0.5 takes log_alpha from log 19 to closed in ~11
  plan.recovery = Epochs(1);
  return plan;
}

// The registry's model-agnostic form of `name` for `parent`.
std::unique_ptr<ModelMethod> Method(const std::string& name, Bidaf& parent, double lambda = 0,
                                    GateTargets targets = {}) {
  ModelMethodOptions o;
  o.model = parent->View();
  o.lambda = lambda;
  o.targets = std::move(targets);
  o.total_steps = 15;
  absl::StatusOr<std::unique_ptr<ModelMethod>> m = CreateModelMethod(name, o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

class BidafPruning : public ::testing::Test {
 protected:
  void SetUp() override {
    task_ = MakeTinyTask();
    parent_ = MakeModel(task_.config, 1);
    ASSERT_TRUE(TrainBidaf(parent_, task_.examples, Epochs(3)).ok());
    validation_.assign(task_.examples.begin(), task_.examples.begin() + 2);
  }
  absl::StatusOr<BidafPruningOutcome> Run(ModelMethod* method) {
    return RunBidafPruning(parent_, task_.examples, validation_, task_.examples, Plan(method));
  }

  TinyTask task_;
  Bidaf parent_{nullptr};
  std::vector<SquadExample> validation_;
};

// The dense control, the paper's method, ISS, and structured magnitude and random removal at the
// sizes L0 kept, from one parent with one budget: the control searches and recovers without
// removing anything; L0 searches S epochs, is compacted and recovers M; the fixed structures are
// compacted at once and train S + M epochs. The parent is never changed.
TEST_F(BidafPruning, EveryModelAgnosticMethodRunsTheSameProtocol) {
  std::vector<torch::Tensor> before;
  for (const torch::Tensor& p : parent_->parameters()) before.push_back(p.detach().clone());

  std::unique_ptr<ModelMethod> dense = Method("dense", parent_);
  absl::StatusOr<BidafPruningOutcome> control = Run(dense.get());
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_EQ(control->search->epochs.size(), 5u);
  EXPECT_EQ(control->recovery.epochs.size(), 1u);
  EXPECT_TRUE(control->recovery.epochs[0].validated);
  EXPECT_TRUE(control->gates.hidden.empty());

  std::unique_ptr<ModelMethod> l0 = Method("l0", parent_, /*lambda=*/3e-5);
  absl::StatusOr<BidafPruningOutcome> pruned = Run(l0.get());
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(pruned->search->epochs.size(), 5u);
  ASSERT_TRUE(pruned->search->diagnostics.contains("gate_sets"));
  EXPECT_LT(pruned->lstm_parameters, control->lstm_parameters);
  EXPECT_LT(pruned->parameters, control->parameters);
  EXPECT_EQ(pruned->eval.questions, static_cast<int64_t>(task_.examples.size()));

  // ISS's proximal group steps in Adam's metric remove whole units (lambda per batch; on this
  // tiny model, one thread, 0.05 removes units of modelling.0.fw and both output directions in
  // 15 steps, 0.1 closes every unit of modelling.0.fw).
  std::unique_ptr<ModelMethod> iss = Method("iss", parent_, /*lambda=*/0.05);
  absl::StatusOr<BidafPruningOutcome> grouped = Run(iss.get());
  ASSERT_TRUE(grouped.ok()) << grouped.status();
  EXPECT_LT(grouped->lstm_parameters, control->lstm_parameters);

  GateTargets targets;
  targets.hidden = pruned->kept_hidden;
  for (const std::string name : {"structured_magnitude", "random"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<ModelMethod> fixed = Method(name, parent_, 0, targets);
    absl::StatusOr<BidafPruningOutcome> r = Run(fixed.get());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->search.has_value());
    EXPECT_EQ(r->recovery.epochs.size(), 6u);
    EXPECT_EQ(r->kept_hidden, pruned->kept_hidden);
  }
  size_t i = 0;
  for (const torch::Tensor& p : parent_->parameters()) {
    EXPECT_TRUE(torch::equal(p, before[i])) << i;
    ++i;
  }
}

// With a moving average of the weights (BiDAF's EMA), the search phase ends on the averages, in
// which a group the proximal steps zeroed is only close to zero: ISS reads its structure from
// the trained values (ModelHooks::AfterTraining), so it removes the units whose groups are zero
// there, as its diagnostics count them.
TEST_F(BidafPruning, IssReadsItsZeroGroupsFromTheTrainedValuesNotTheAverages) {
  std::unique_ptr<ModelMethod> iss = Method("iss", parent_, /*lambda=*/0.05);
  BidafPruningPlan plan = Plan(iss.get());
  plan.search.ema_decay = 0.9;
  absl::StatusOr<BidafPruningOutcome> r =
      RunBidafPruning(parent_, task_.examples, validation_, task_.examples, plan);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->search.has_value());
  EXPECT_TRUE(r->search->holds_averaged_weights);
  const nlohmann::json& zero = r->search->diagnostics.at("zero_groups");
  int64_t removed = 0;
  for (const auto& [name, kept] : r->kept_hidden) {
    SCOPED_TRACE(name);
    const int64_t hidden = zero.at(name).at("hidden").get<int64_t>();
    EXPECT_EQ(kept, hidden - zero.at(name).at("closed").get<int64_t>());
    removed += hidden - kept;
  }
  EXPECT_GT(removed, 0);
}

// The unstructured methods keep every neuron: their final masks zero LSTM weights, which stay 0
// through the recovery phase (whose Adam steps would move them otherwise), in the deployed model
// of the parent's shape. Gradual magnitude pruning reaches its sparsity in every W_ih and W_hh of
// every direction; Lasso's proximal steps in Adam's metric zero weights, read from the trained
// values, not the moving averages the search phase ends on.
TEST_F(BidafPruning, UnstructuredMethodsHoldTheirZerosThroughRecovery) {
  std::unique_ptr<ModelMethod> dense = Method("dense", parent_);
  absl::StatusOr<BidafPruningOutcome> control = Run(dense.get());
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_TRUE(control->weight_masks.empty());
  EXPECT_EQ(control->lstm_nonzero_parameters, control->lstm_parameters);

  ModelMethodOptions o;
  o.model = parent_->View();
  o.sparsity = 0.5;
  o.total_steps = 15;
  absl::StatusOr<std::unique_ptr<ModelMethod>> magnitude = CreateModelMethod("magnitude", o);
  ASSERT_TRUE(magnitude.ok()) << magnitude.status();
  std::unique_ptr<ModelMethod> lasso = Method("lasso", parent_, /*lambda=*/0.5);
  for (ModelMethod* method : {magnitude->get(), lasso.get()}) {
    BidafPruningPlan plan = Plan(method);
    plan.search.ema_decay = 0.9;
    absl::StatusOr<BidafPruningOutcome> r =
        RunBidafPruning(parent_, task_.examples, validation_, task_.examples, plan);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->gates.hidden.empty());
    EXPECT_EQ(r->lstm_parameters, control->lstm_parameters);             // every neuron kept
    ASSERT_EQ(r->weight_masks.size(), 2 * 2 * parent_->lstms().size());  // W_ih, W_hh per direction
    const std::map<std::string, torch::Tensor> deployed =
        ParameterMap(r->model->named_parameters());
    int64_t pruned = 0, masked = 0;
    for (const auto& [name, mask] : r->weight_masks) {
      SCOPED_TRACE(name);
      EXPECT_TRUE(deployed.at(name).masked_select(mask.logical_not()).eq(0).all().item<bool>());
      pruned += mask.logical_not().sum().item<int64_t>();
      masked += mask.numel();
      if (method == magnitude->get()) {
        EXPECT_EQ(mask.logical_not().sum().item<int64_t>(), std::llround(0.5 * mask.numel()));
      }
    }
    EXPECT_GT(pruned, 0);
    EXPECT_DOUBLE_EQ(r->lstm_weight_sparsity, static_cast<double>(pruned) / masked);
    EXPECT_LE(r->lstm_nonzero_parameters, r->lstm_parameters - pruned);
  }
}

// Methods unknown to the model-agnostic registry say so by name; a target the model cannot meet
// is a clear error naming the direction (a collapsed structure: bidaf_compaction_test).
TEST_F(BidafPruning, UnsupportedMethodsAndBadTargetsAreClearErrors) {
  EXPECT_THAT(RegisteredModelMethods(),
              ::testing::IsSupersetOf({"dense", "iss", "l0", "l0_speed", "lasso", "magnitude",
                                       "random", "structured_magnitude"}));
  // l0_speed's gates cost the multiply-adds they remove: one cost per set on BiDAF too.
  std::unique_ptr<ModelMethod> speed = Method("l0_speed", parent_, 1e-5);
  ASSERT_NE(speed, nullptr);
  EXPECT_EQ(speed->RecordedOptions()["gate_cost"], "multiply_adds");
  ModelMethodOptions o;
  o.model = parent_->View();
  EXPECT_EQ(CreateModelMethod("l1", o).status().code(), absl::StatusCode::kNotFound);
  o.sparsity = 1.0;
  absl::StatusOr<std::unique_ptr<ModelMethod>> full = CreateModelMethod("magnitude", o);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(full.status().message()), HasSubstr("sparsity=1 must be in [0, 1)"));

  GateTargets targets;
  for (const std::string d : {"contextual", "modelling.0", "output"}) {
    targets.hidden[d + ".fw"] = targets.hidden[d + ".bw"] = 2;
  }
  targets.hidden["output.bw"] = 99;
  std::unique_ptr<ModelMethod> bad = Method("structured_magnitude", parent_, 0, targets);
  absl::StatusOr<BidafPruningOutcome> r = Run(bad.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("LSTM 'output.bw': target of 99 hidden neurons must be in [1, 8]"));
}

}  // namespace
}  // namespace rnnprune
