#include "pruning/l0_neuron_selection.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "torch/torch.h"

namespace rnnprune {

absl::Status L0Options::Validate() const {
  if (!(lambda_input >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lambda_input=", lambda_input, " must be >= 0"));
  }
  if (!(lambda_hidden >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lambda_hidden=", lambda_hidden, " must be >= 0"));
  }
  return gates.Validate();
}

absl::StatusOr<std::unique_ptr<L0NeuronSelection>> L0NeuronSelection::Create(
    const LstmLmConfig& config, const L0Options& options) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<L0NeuronSelection> s(
      new L0NeuronSelection(options, CountGateWeights(config)));
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    ASSIGN_OR_RETURN(HardConcreteGates in,
                     HardConcreteGates::Create(config.InputSize(l), options.gates));
    ASSIGN_OR_RETURN(HardConcreteGates hid,
                     HardConcreteGates::Create(config.hidden_sizes[l], options.gates));
    s->input_gates_.push_back(std::move(in));
    s->hidden_gates_.push_back(std::move(hid));
  }
  return s;
}

NeuronMask L0NeuronSelection::SampleMask() const {
  NeuronMask m;
  for (const auto& g : input_gates_) m.input.push_back(g.Sample());
  for (const auto& g : hidden_gates_) m.hidden.push_back(g.Sample());
  return m;
}

NeuronMask L0NeuronSelection::DeterministicMask() const {
  torch::NoGradGuard no_grad;
  NeuronMask m;
  for (const auto& g : input_gates_) m.input.push_back(g.Deterministic().detach());
  for (const auto& g : hidden_gates_) m.hidden.push_back(g.Deterministic().detach());
  return m;
}

LmOutput L0NeuronSelection::Forward(LstmLm& model, const torch::Tensor& input,
                                    LstmState* state) {
  const NeuronMask mask = model->is_training() ? SampleMask() : DeterministicMask();
  return RunGated(model, mask, input, state);
}

torch::Tensor L0NeuronSelection::WeightedL0(bool input) const {
  const auto& sets = input ? input_gates_ : hidden_gates_;
  const auto& counts = input ? counts_.input : counts_.hidden;
  torch::Tensor total = torch::zeros({});
  for (size_t l = 0; l < sets.size(); ++l) {
    total = total + static_cast<double>(counts[l]) * sets[l].ProbabilityNonZero().sum();
  }
  return total;
}

torch::Tensor L0NeuronSelection::Penalty(LstmLm& model) {
  return options_.lambda_input * WeightedL0(true) + options_.lambda_hidden * WeightedL0(false);
}

std::vector<torch::Tensor> L0NeuronSelection::ExtraParameters() {
  std::vector<torch::Tensor> p;
  for (auto& g : input_gates_) p.push_back(g.log_alpha());
  for (auto& g : hidden_gates_) p.push_back(g.log_alpha());
  return p;
}

absl::StatusOr<PruningStructure> L0NeuronSelection::Finish(LstmLm& model) {
  PruningStructure s;
  s.structured = true;
  s.neurons = DeterministicMask();
  return s;
}

double L0NeuronSelection::ExpectedL0() const {
  torch::NoGradGuard no_grad;
  return (WeightedL0(true) + WeightedL0(false)).item<double>();
}

RNNPRUNE_REGISTER_PRUNING_METHOD((PruningMethodInfo{
    "l0",
    "L0 neuron selection with hard concrete gates on input and hidden neurons (Wen et al. 2020)",
    /*structured=*/true, SettingKind::kLambda, {5e-5, 1e-4},
    [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
      L0Options lo;
      lo.lambda_hidden = o.lambda;
      lo.lambda_input = o.lambda * o.l0_input_lambda_ratio;
      lo.gates.init_keep_probability = o.l0_init_keep;
      ASSIGN_OR_RETURN(std::unique_ptr<L0NeuronSelection> m,
                       L0NeuronSelection::Create(o.config, lo));
      return std::unique_ptr<PruningMethod>(std::move(m));
    }}));

}  // namespace rnnprune
