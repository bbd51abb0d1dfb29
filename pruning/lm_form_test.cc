// The bridge from model-agnostic methods to the LSTM LM (pruning/lm_form.h): the LM's view, the
// forward plans it runs, the step sizes it passes, and how a method's final structure becomes
// the LM protocol's PruningStructure.
#include "pruning/lm_form.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/lstm_lm.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig Tiny() {
  LstmLmConfig c;
  c.vocab_size = 13;
  c.embedding_size = 5;
  c.hidden_sizes = {6, 4};
  c.dropout = 0;
  c.init_scale = 0.5;
  return c;
}

// A method that returns what it was told to, and records what the LM passed it.
class Probe : public ModelMethod {
 public:
  ForwardPlan plan;
  NeuronGates gates;
  std::map<std::string, torch::Tensor> masks;
  std::vector<double> learning_rates;
  std::vector<bool> uniform;

  ForwardPlan Forward(const PrunableModelView&, int64_t) override { return plan; }
  void AfterStep(PrunableModelView&, const StepSizes& step) override {
    learning_rates.push_back(step.learning_rate());
    uniform.push_back(step.uniform());
  }
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView&) override { return gates; }
  absl::StatusOr<std::map<std::string, torch::Tensor>> FinalWeightMasks(
      const PrunableModelView&) override {
    return masks;
  }
};

// LmFormOf around a Probe it hands back.
std::unique_ptr<PruningMethod> OnLm(Probe** probe, const MethodOptions& o) {
  absl::StatusOr<std::unique_ptr<PruningMethod>> m =
      LmFormOf([probe](const ModelMethodOptions&) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
        auto p = std::make_unique<Probe>();
        *probe = p.get();
        return std::unique_ptr<ModelMethod>(std::move(p));
      })(o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

TEST(LmForm, TheViewIsTheLiveParametersAndTheLayout) {
  torch::manual_seed(1);
  LstmLm model(Tiny());
  const PrunableModelView view = LmView(model);
  EXPECT_EQ(view.layout.lstms.size(), 2u);
  EXPECT_EQ(LstmWeightMatrixNames(view.layout),
            (std::vector<std::string>{"lstm0_w_ih", "lstm0_w_hh", "lstm1_w_ih", "lstm1_w_hh"}));
  torch::NoGradGuard no_grad;
  view.parameters.at("lstm1_w_hh").fill_(0.25);
  EXPECT_TRUE(model->named_parameters()["lstm1_w_hh"].eq(0.25).all().item<bool>());
}

// A plan of replaced parameters runs RunWith, one of per-example gates RunWithNeuronGates (an
// LSTM left out is open), no plan the model's own pass; AfterStep passes SGD's uniform step.
TEST(LmForm, RunsTheForwardPlanAndPassesTheLearningRate) {
  torch::manual_seed(2);
  LstmLm model(Tiny());
  model->eval();
  MethodOptions o;
  o.config = Tiny();
  Probe* probe = nullptr;
  std::unique_ptr<PruningMethod> m = OnLm(&probe, o);
  ASSERT_NE(probe, nullptr);
  const torch::Tensor input = torch::randint(0, 13, {4, 3}, torch::kInt64);
  torch::NoGradGuard no_grad;
  const auto logits = [&](auto run) {
    LstmState s = model->InitialState(3);
    return run(&s).Logits();
  };
  const torch::Tensor own = logits([&](LstmState* s) { return model->Run(input, s); });
  EXPECT_TRUE(torch::equal(logits([&](LstmState* s) { return m->Forward(model, input, s); }), own));

  std::map<std::string, torch::Tensor> p = ParameterMap(model->named_parameters());
  probe->plan.parameters["decoder.bias"] = p.at("decoder.bias") + 1.0;
  const torch::Tensor shifted = logits([&](LstmState* s) { return m->Forward(model, input, s); });
  EXPECT_TRUE(torch::allclose(shifted, own + 1.0, 1e-5, 1e-5));

  probe->plan = {};
  probe->plan.hidden_gates["lstm1"] = torch::tensor({{1.f, 0.f, 1.f, 1.f}}).expand({3, 4});
  const torch::Tensor gated = logits([&](LstmState* s) { return m->Forward(model, input, s); });
  const torch::Tensor want = logits([&](LstmState* s) {
    return model->RunWithNeuronGates(input, s, {torch::ones({3, 5}), torch::ones({3, 6})},
                                     {torch::ones({3, 6}), probe->plan.hidden_gates["lstm1"]});
  });
  EXPECT_TRUE(torch::equal(gated, want));
  EXPECT_FALSE(torch::allclose(gated, own));
  probe->plan.hidden_gates["lstm7"] = torch::ones({3, 4});
  EXPECT_THROW(m->Forward(model, input, nullptr), c10::Error);

  m->AfterStep(model, 0.7);
  EXPECT_EQ(probe->learning_rates, (std::vector<double>{0.7}));
  EXPECT_EQ(probe->uniform, (std::vector<bool>{true}));
}

// Final gates become the LM's NeuronMask; final weight masks are applied to the weights and
// returned as an unstructured structure; neither: the dense structure.
TEST(LmForm, FinishTurnsGatesIntoANeuronMaskAndAppliesWeightMasks) {
  torch::manual_seed(3);
  LstmLm model(Tiny());
  MethodOptions o;
  o.config = Tiny();
  Probe* probe = nullptr;
  std::unique_ptr<PruningMethod> m = OnLm(&probe, o);
  ASSERT_NE(probe, nullptr);
  absl::StatusOr<PruningStructure> none = m->Finish(model);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->structured || none->has_weight_masks());

  probe->gates.hidden["lstm0"] = torch::tensor({1.f, 0.f, 0.5f, 1.f, 1.f, 0.f});
  absl::StatusOr<PruningStructure> s = m->Finish(model);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->structured);
  EXPECT_TRUE(torch::equal(s->neurons.hidden[0], probe->gates.hidden["lstm0"]));
  EXPECT_EQ(s->neurons.KeptHidden(), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(s->neurons.KeptInputs(), (std::vector<int64_t>{5, 6}));
  probe->gates.hidden["lstm0"] = torch::ones({7});
  EXPECT_THAT(std::string(m->Finish(model).status().message()), HasSubstr("hidden"));

  probe->gates = {};
  const torch::Tensor w = model->named_parameters()["lstm1_w_ih"];
  probe->masks["lstm1_w_ih"] = torch::rand(w.sizes()) < 0.5;
  absl::StatusOr<PruningStructure> u = m->Finish(model);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_FALSE(u->structured);
  ASSERT_EQ(u->weight_masks.count("lstm1_w_ih"), 1u);
  EXPECT_TRUE(w.masked_select(probe->masks["lstm1_w_ih"].logical_not()).eq(0).all().item<bool>());
  probe->masks["lstm1_w_ih"] = torch::ones({2, 2}, torch::kBool);
  EXPECT_THAT(std::string(m->Finish(model).status().message()),
              HasSubstr("weight mask 'lstm1_w_ih' must be a bool tensor of shape"));
}

// The LM's target sizes name the same sets as the layout's LSTMs.
TEST(LmForm, TargetSizesBecomeGateTargets) {
  absl::StatusOr<TargetSizes> sizes = TargetSizes::Parse({4, 3, 5, 2}, Tiny());
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  const GateTargets t = GateTargetsOf(*sizes);
  EXPECT_EQ(t.input, (std::map<std::string, int64_t>{{"lstm0", 4}, {"lstm1", 3}}));
  EXPECT_EQ(t.hidden, (std::map<std::string, int64_t>{{"lstm0", 5}, {"lstm1", 2}}));
}

}  // namespace
}  // namespace rnnprune
