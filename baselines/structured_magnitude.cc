// Structured magnitude pruning: ranks every neuron gate by the squared L2 norm of the weights it
// removes (pruning/neuron_groups.h NeuronGroupSquaredNorms): a hidden unit by its ISS group (Wen
// et al., ICLR 2018: its gate rows, and every column that reads it), an input neuron by its W_ih
// columns (for the LM's embedding dimensions, also the embedding column); keeps the largest of
// each set down to the target sizes (by default those the L0 runs reached; input sets of
// inner LSTMs only when the targets fix them), then fine-tunes the compacted model. One-shot
// magnitude criterion at neuron granularity, in the spirit of Li et al., "Pruning Filters for
// Efficient ConvNets", ICLR 2017.
//
// This file is the worked example of baselines/README.md: one file, one registration line.
#include <memory>
#include <utility>

#include "pruning/gate_targets.h"
#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Over any model's layout: every gate ranked by the squared L2 norm of the weights it removes
// (pruning/neuron_groups.h; for a hidden unit, its ISS group; for an LM embedding dimension, its
// embedding column and W_ih^0 column). The LSTM LM runs it through pruning/lm_form.h.
class StructuredMagnitudeForAnyModel : public FixedGatesMethod {
 public:
  explicit StructuredMagnitudeForAnyModel(GateTargets targets) : targets_(std::move(targets)) {}

 protected:
  absl::StatusOr<NeuronGates> ChooseGates(const PrunableModelView& model) override {
    torch::NoGradGuard no_grad;
    return GatesKeepingLargest(model.layout, model.parameters,
                               NeuronGroupSquaredNorms(model.layout, model.parameters), targets_);
  }

 private:
  GateTargets targets_;
};

absl::StatusOr<std::unique_ptr<ModelMethod>> Create(const ModelMethodOptions& o) {
  return std::unique_ptr<ModelMethod>(new StructuredMagnitudeForAnyModel(o.targets));
}

PruningMethodInfo Info() {
  PruningMethodInfo info = MethodInfo(
      "structured_magnitude",
      "neurons ranked by the L2 norm of their ISS group, smallest removed, then fine-tuning",
      /*structured=*/true, SettingKind::kTargetSizes, {}, LmFormOf(Create));
  info.create_for_any_model = Create;
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(Info());

}  // namespace rnnprune
