// Structured magnitude pruning: ranks the hidden neurons of each layer by the L2 norm of their
// ISS group (Wen et al., ICLR 2018; IssGroupSquaredNorms in pruning/method.h) and the embedding
// dimensions by the L2 norm of the weights they feed (embedding column and W_ih^0 column), and,
// when the targets fix them, the inputs of layers l >= 2 by the L2 norm of their W_ih^l
// column; keeps the largest down to the target sizes (by default those the L0 runs reached),
// then fine-tunes the compacted model. One-shot magnitude criterion at neuron granularity, in the
// spirit of Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017.
//
// This file is the worked example of baselines/README.md: one file, one registration line.
#include <memory>
#include <vector>

#include "common/status_macros.h"
#include "pruning/gate_targets.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class StructuredMagnitude : public FixedNeuronMaskMethod {
 public:
  explicit StructuredMagnitude(const MethodOptions& o) : options_(o) {}

 protected:
  absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) override {
    ASSIGN_OR_RETURN(TargetSizes targets,
                     TargetSizes::Parse(options_.target_sizes, model->config()));
    torch::NoGradGuard no_grad;
    NeuronScores scores;
    scores.embedding = EmbeddingDimSquaredNorms(model);
    scores.hidden = IssGroupSquaredNorms(model);
    scores.inputs = UpperInputSquaredNorms(model);
    return MaskKeepingLargest(model, scores, targets);
  }

 private:
  MethodOptions options_;
};

// The same over any model's layout: every gate ranked by the squared L2 norm of the weights it
// removes (pruning/neuron_groups.h; for a hidden unit, its ISS group).
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

PruningMethodInfo Info() {
  PruningMethodInfo info = MethodInfo(
      "structured_magnitude",
      "neurons ranked by the L2 norm of their ISS group, smallest removed, then fine-tuning",
      /*structured=*/true, SettingKind::kTargetSizes, {},
      [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
        return std::unique_ptr<PruningMethod>(new StructuredMagnitude(o));
      });
  info.create_for_any_model =
      [](const ModelMethodOptions& o) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
    return std::unique_ptr<ModelMethod>(new StructuredMagnitudeForAnyModel(o.targets));
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(Info());

}  // namespace rnnprune
