// Random neuron removal, a sanity floor: keeps a uniformly random subset of each layer's hidden
// neurons, of the embedding dimensions and, when the targets fix them, of the inputs of layers
// l >= 2 among the kept units below, of the target sizes (by default those the L0 runs
// reached), drawn from the run's seed, then fine-tunes like every other method. A structured
// method that does not beat it has learned nothing about which neurons matter.
#include <cstdint>
#include <memory>
#include <utility>

#include "pruning/gate_targets.h"
#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Over any model's layout: random scores (RandomGateScores, from the run's seed), the largest
// kept; the LSTM LM runs it through pruning/lm_form.h.
class RandomRemovalForAnyModel : public FixedGatesMethod {
 public:
  RandomRemovalForAnyModel(GateTargets targets, uint64_t seed)
      : targets_(std::move(targets)), seed_(seed) {}

 protected:
  absl::StatusOr<NeuronGates> ChooseGates(const PrunableModelView& model) override {
    return GatesKeepingLargest(model.layout, model.parameters,
                               RandomGateScores(model.layout, model.parameters, seed_), targets_);
  }

 private:
  GateTargets targets_;
  uint64_t seed_;
};

absl::StatusOr<std::unique_ptr<ModelMethod>> Create(const ModelMethodOptions& o) {
  return std::unique_ptr<ModelMethod>(new RandomRemovalForAnyModel(o.targets, o.seed));
}

PruningMethodInfo Info() {
  PruningMethodInfo info = MethodInfo(
      "random", "random neuron removal to the target sizes, then fine-tuning (sanity floor)",
      /*structured=*/true, SettingKind::kTargetSizes, {}, LmFormOf(Create));
  info.create_for_any_model = Create;
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(Info());

}  // namespace rnnprune
