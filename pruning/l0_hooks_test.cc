// The paper's method on BiDAF through the BiDAF trainer (issue 16): L0 gates on every LSTM
// direction trained with the weights, their final gates compacted exactly, and a run killed
// mid-training resumed bit-identically (gates and their Adam included).
#include "pruning/l0_hooks.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "pruning/bidaf_compaction.h"
#include "pruning/l0_gates.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"
#include "training/bidaf_testing.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {
namespace {

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// L0 hooks on every direction of `model`, each gate costing the weights it removes, at strength
// `lambda` (per weight, per batch).
std::unique_ptr<L0Hooks> Hooks(Bidaf& model, double lambda) {
  const PrunableModelView view = model->View();
  auto costs = UniformSetCosts(NeuronGroupSizes(view.layout, view.parameters));
  EXPECT_TRUE(costs.ok()) << costs.status();
  L0GatesOptions o;
  o.input_cost = costs->first;
  o.hidden_cost = costs->second;
  for (const PrunableLstm& l : view.layout.lstms) {
    o.input_lambda[l.name] = o.hidden_lambda[l.name] = lambda;
  }
  absl::StatusOr<std::unique_ptr<L0Hooks>> hooks = L0Hooks::Create(view, o, 0.5);
  EXPECT_TRUE(hooks.ok()) << hooks.status();
  return std::move(*hooks);
}

BidafTrainOptions Options(ModelHooks* hooks) {
  BidafTrainOptions o;
  o.optimizer = "adam";
  o.learning_rate = 1e-2;
  o.epochs = 4;
  o.batch_size = 2;
  o.ema_decay = 0;
  o.seed = 3;
  o.hooks = hooks;
  return Quiet(o);
}

TEST(L0HooksOnBidaf, TrainCloseGatesAndCompactExactly) {
  const TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 1);
  std::unique_ptr<L0Hooks> hooks = Hooks(model, 3e-5);
  const double before = hooks->gates().ExpectedCost();
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, Options(hooks.get()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(hooks->gates().ExpectedCost(), before);
  ASSERT_TRUE(r->diagnostics.contains("gate_sets"));
  EXPECT_EQ(r->diagnostics["gate_sets"].size(), 12u);  // 3 LSTMs x 2 directions x 2 sets

  NeuronGates gates = hooks->FinalGates();
  int64_t closed = 0;
  for (const auto* set : {&gates.input, &gates.hidden}) {
    for (const auto& [name, z] : *set) closed += z.eq(0).sum().item<int64_t>();
  }
  EXPECT_GT(closed, 0);
  absl::StatusOr<BidafCompaction> c = CompactBidaf(model, gates);
  ASSERT_TRUE(c.ok()) << c.status();
  // Evaluation through the hooks (deterministic gates folded in) and the compacted model agree.
  absl::StatusOr<BidafEvalResult> gated = EvaluateBidaf(model, task.examples, 4, 30, hooks.get());
  absl::StatusOr<BidafEvalResult> small = EvaluateBidaf(c->model, task.examples, 4, 30);
  ASSERT_TRUE(gated.ok()) << gated.status();
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->predictions, gated->predictions);
  EXPECT_EQ(small->f1, gated->f1);
}

// A NaN gradient at backward pass `at` stands for a crash: TrainBidaf stops before that update.
void InterruptAt(Bidaf& model, int64_t at) {
  auto calls = std::make_shared<int64_t>(0);
  model->named_parameters()["w_end"].register_hook([=](torch::Tensor grad) {
    return ++*calls == at ? grad * std::numeric_limits<float>::quiet_NaN() : grad;
  });
}

TEST(L0HooksOnBidaf, ResumeAfterAKillIsBitIdentical) {
  const TinyTask task = MakeTinyTask();
  Bidaf reference = MakeModel(task.config, 1);
  std::unique_ptr<L0Hooks> reference_hooks = Hooks(reference, 2e-4);
  BidafTrainOptions o = Options(reference_hooks.get());
  o.checkpoint_path = TmpPath("l0_a.ckpt");
  o.checkpoint_every_steps = 2;
  o.config_hash = "l0";
  absl::StatusOr<BidafTrainResult> a = TrainBidaf(reference, task.examples, o);
  ASSERT_TRUE(a.ok()) << a.status();

  Bidaf model = MakeModel(task.config, 1);
  std::unique_ptr<L0Hooks> hooks = Hooks(model, 2e-4);
  InterruptAt(model, 6);
  o.hooks = hooks.get();
  o.checkpoint_path = TmpPath("l0_b.ckpt");
  ASSERT_FALSE(TrainBidaf(model, task.examples, o).ok());
  // A new process: a fresh model and fresh gates, resumed from the file.
  Bidaf resumed = MakeModel(task.config, 2);
  std::unique_ptr<L0Hooks> resumed_hooks = Hooks(resumed, 2e-4);
  o.hooks = resumed_hooks.get();
  o.resume = true;
  absl::StatusOr<BidafTrainResult> b = TrainBidaf(resumed, task.examples, o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->resumed);
  EXPECT_EQ(b->resumed_at_global_step, 4);
  EXPECT_EQ(a->step_losses_nats, b->step_losses_nats);
  const auto pa = reference->named_parameters(), pb = resumed->named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
  }
  const std::vector<torch::Tensor> la = reference_hooks->ExtraParameters();
  const std::vector<torch::Tensor> lb = resumed_hooks->ExtraParameters();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_TRUE(torch::equal(la[i], lb[i])) << i;

  // Resuming without the method (or with another) is refused, naming what differs.
  Bidaf plain = MakeModel(task.config, 1);
  o.hooks = nullptr;
  absl::StatusOr<BidafTrainResult> refused = TrainBidaf(plain, task.examples, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("extra parameters"));
}

}  // namespace
}  // namespace rnnprune
