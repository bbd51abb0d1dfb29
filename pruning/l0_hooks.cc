#include "pruning/l0_hooks.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "torch/torch.h"

namespace rnnprune {

absl::StatusOr<std::unique_ptr<L0Hooks>> L0Hooks::Create(const PrunableModelView& model,
                                                         const L0GatesOptions& options,
                                                         double gate_learning_rate) {
  if (!(gate_learning_rate > 0 && std::isfinite(gate_learning_rate))) {
    return absl::InvalidArgumentError(
        absl::StrCat("gate_learning_rate=", gate_learning_rate, " must be finite and > 0"));
  }
  ASSIGN_OR_RETURN(L0Gates gates, L0Gates::Create(model.layout, model.parameters, options));
  std::unique_ptr<L0Hooks> hooks(new L0Hooks(std::move(gates)));
  hooks->adam_ = std::make_unique<torch::optim::Adam>(
      hooks->gates_.LogAlphas(), torch::optim::AdamOptions(gate_learning_rate));
  return hooks;
}

ForwardPlan L0Hooks::Forward(const PrunableModelView& model, int64_t batch) {
  ForwardPlan how;
  if (model.training) {
    NeuronGates z = gates_.Sample(batch, model.batch_share);
    how.input_gates = std::move(z.input);
    how.hidden_gates = std::move(z.hidden);
  } else {
    how.parameters = ApplyNeuronGates(model.layout, model.parameters, gates_.Deterministic());
  }
  return how;
}

}  // namespace rnnprune
