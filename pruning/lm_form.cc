#include "pruning/lm_form.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "torch/torch.h"
#include "training/step_sizes.h"

namespace rnnprune {
namespace {

std::string LayerName(size_t l) { return absl::StrCat("lstm", l); }

// The LM run with parameters replaced (names of named_parameters()).
LmOutput RunWithParameters(LstmLm& model, const torch::Tensor& input, LstmState* state,
                           const std::map<std::string, torch::Tensor>& replaced) {
  std::map<std::string, torch::Tensor> p = ParameterMap(model->named_parameters());
  for (const auto& [name, tensor] : replaced) {
    TORCH_CHECK(p.count(name) > 0, "LmHooksOf: '", name, "' is not a parameter of the LSTM LM");
    p[name] = tensor;
  }
  std::vector<LstmLayerWeights> layers;
  for (size_t l = 0; l < model->config().hidden_sizes.size(); ++l) {
    const std::string n = LayerName(l) + "_";
    layers.push_back({p.at(n + "w_ih"), p.at(n + "w_hh"), p.at(n + "b_ih"), p.at(n + "b_hh")});
  }
  return model->RunWith(input, state, p.at("embedding.weight"), layers, p.at("decoder.weight"),
                        p.at("decoder.bias"));
}

// The LM run with per-example gates [B, I_l] / [B, H_l] (missing: all open).
LmOutput RunWithGates(LstmLm& model, const torch::Tensor& input, LstmState* state,
                      const ForwardPlan& how) {
  const LstmLmConfig& c = model->config();
  const int64_t batch = input.size(1);
  std::vector<torch::Tensor> in, hidden;
  size_t used = 0;
  for (size_t l = 0; l < c.hidden_sizes.size(); ++l) {
    const auto pick = [&](const std::map<std::string, torch::Tensor>& m, int64_t size) {
      const auto it = m.find(LayerName(l));
      if (it == m.end()) return torch::ones({batch, size});
      ++used;
      return it->second;
    };
    in.push_back(pick(how.input_gates, c.InputSize(l)));
    hidden.push_back(pick(how.hidden_gates, c.hidden_sizes[l]));
  }
  TORCH_CHECK(used == how.input_gates.size() + how.hidden_gates.size(),
              "LmHooksOf: gates for an LSTM the LM does not have (its LSTMs are lstm0 .. lstm",
              c.hidden_sizes.size() - 1, ")");
  return model->RunWithNeuronGates(input, state, in, hidden);
}

// A model-agnostic method on the LM's trainer and protocol.
class LmFormOfMethod : public PruningMethod {
 public:
  LmFormOfMethod(std::unique_ptr<ModelMethod> method, LstmLmConfig config)
      : method_(std::move(method)), hooks_(method_.get()), config_(std::move(config)) {}

  absl::Status Begin(LstmLm& model) override {
    PrunableModelView view = LmView(model);
    return method_->Begin(view);
  }
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override {
    return hooks_.Forward(model, input, state);
  }
  torch::Tensor Penalty(LstmLm& model) override { return hooks_.Penalty(model); }
  std::vector<torch::Tensor> ExtraParameters() override { return hooks_.ExtraParameters(); }
  torch::optim::Optimizer* ExtraOptimizer() override { return hooks_.ExtraOptimizer(); }
  void AfterStep(LstmLm& model, double learning_rate) override {
    hooks_.AfterStep(model, learning_rate);
  }
  nlohmann::json Diagnostics(const LstmLm& model) override { return hooks_.Diagnostics(model); }
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    return hooks_.SaveTrainingState();
  }
  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) override {
    return hooks_.RestoreTrainingState(state);
  }
  bool StructureFixedAtStart() const override { return method_->StructureFixedAtStart(); }
  nlohmann::json RecordedOptions() const override { return method_->RecordedOptions(); }

  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    const PrunableModelView view = LmView(model);
    ASSIGN_OR_RETURN(NeuronGates gates, method_->FinalGates(view));
    ASSIGN_OR_RETURN(auto masks, method_->FinalWeightMasks(view));
    PruningStructure s;
    if (!masks.empty()) {
      RETURN_IF_ERROR(ApplyWeightMasks(masks, view.parameters));
      s.weight_masks = std::move(masks);
    } else if (!gates.input.empty() || !gates.hidden.empty()) {
      s.structured = true;
      ASSIGN_OR_RETURN(s.neurons, NeuronMaskOf(gates, config_));
    }
    return s;
  }

 private:
  std::unique_ptr<ModelMethod> method_;
  LmHooksOf hooks_;
  LstmLmConfig config_;
};

}  // namespace

PrunableModelView LmView(const LstmLm& model) {
  return {model->PruningLayout(), ParameterMap(model->named_parameters()), model->is_training(),
          model->batch_share()};
}

LmOutput LmHooksOf::Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) {
  const ForwardPlan how = hooks_->Forward(LmView(model), input.size(1));
  const bool gated = !how.input_gates.empty() || !how.hidden_gates.empty();
  TORCH_CHECK(!gated || how.parameters.empty(),
              "LmHooksOf: a forward plan with both replaced parameters and per-example gates");
  if (gated) return RunWithGates(model, input, state, how);
  if (!how.parameters.empty()) return RunWithParameters(model, input, state, how.parameters);
  return model->Run(input, state);
}

torch::Tensor LmHooksOf::Penalty(LstmLm& model) { return hooks_->Penalty(LmView(model)); }

void LmHooksOf::AfterStep(LstmLm& model, double learning_rate) {
  PrunableModelView view = LmView(model);
  hooks_->AfterStep(view, StepSizes(learning_rate));
}

nlohmann::json LmHooksOf::Diagnostics(const LstmLm& model) {
  return hooks_->Diagnostics(LmView(model));
}

absl::StatusOr<NeuronMask> NeuronMaskOf(const NeuronGates& gates, const LstmLmConfig& config) {
  NeuronMask mask = NeuronMask::AllOpen(config);
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    if (const auto it = gates.input.find(LayerName(l)); it != gates.input.end()) {
      mask.input[l] = it->second;
    }
    if (const auto it = gates.hidden.find(LayerName(l)); it != gates.hidden.end()) {
      mask.hidden[l] = it->second;
    }
  }
  RETURN_IF_ERROR(mask.Validate(config));
  return mask;
}

GateTargets GateTargetsOf(const TargetSizes& sizes) {
  GateTargets t;
  t.input[LayerName(0)] = sizes.embedding;
  for (size_t l = 0; l < sizes.inputs.size(); ++l) t.input[LayerName(l + 1)] = sizes.inputs[l];
  for (size_t l = 0; l < sizes.hidden.size(); ++l) t.hidden[LayerName(l)] = sizes.hidden[l];
  return t;
}

PruningMethodFactory LmFormOf(ModelMethodFactory create) {
  return [create = std::move(create)](
             const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
    ModelMethodOptions m;
    m.model = {LstmLmPruningLayout(o.config), LstmLmParameterShapes(o.config), true};
    m.lambda = o.lambda;
    m.penalty_scale = o.penalty_scale;
    m.sparsity = o.sparsity;
    m.total_steps = o.total_steps;
    m.seed = o.seed;
    m.given_options = o.given_options;
    m.own = o.own;
    if (!o.target_sizes.empty()) {
      ASSIGN_OR_RETURN(TargetSizes sizes, TargetSizes::Parse(o.target_sizes, o.config));
      m.targets = GateTargetsOf(sizes);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<ModelMethod> method, create(m));
    return std::unique_ptr<PruningMethod>(new LmFormOfMethod(std::move(method), o.config));
  };
}

}  // namespace rnnprune
