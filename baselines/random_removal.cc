// Random neuron removal, a sanity floor: keeps a uniformly random subset of each layer's hidden
// neurons, of the embedding dimensions and, when the targets fix them, of the inputs of layers
// l >= 2 among the kept units below, of the target sizes (by default those the L0 runs
// reached), drawn from the run's seed, then fine-tunes like every other method. A structured
// method that does not beat it has learned nothing about which neurons matter.
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status_macros.h"
#include "pruning/gate_targets.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class RandomRemoval : public FixedNeuronMaskMethod {
 public:
  explicit RandomRemoval(const MethodOptions& o) : options_(o) {}

 protected:
  absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) override {
    const LstmLmConfig& c = model->config();
    ASSIGN_OR_RETURN(TargetSizes targets, TargetSizes::Parse(options_.target_sizes, c));
    return MaskKeepingLargest(model, RandomNeuronScores(c, options_.seed), targets);
  }

 private:
  MethodOptions options_;
};

// The same over any model's layout (RandomGateScores).
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

PruningMethodInfo Info() {
  PruningMethodInfo info = MethodInfo(
      "random", "random neuron removal to the target sizes, then fine-tuning (sanity floor)",
      /*structured=*/true, SettingKind::kTargetSizes, {},
      [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
        return std::unique_ptr<PruningMethod>(new RandomRemoval(o));
      });
  info.create_for_any_model =
      [](const ModelMethodOptions& o) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
    return std::unique_ptr<ModelMethod>(new RandomRemovalForAnyModel(o.targets, o.seed));
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(Info());

}  // namespace rnnprune
