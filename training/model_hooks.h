// The hooks of a pruning method for training any model that describes its LSTMs
// (models/lstm_pruning_layout.h): the model-agnostic counterpart of training/hooks.h (which the
// LM trainer takes). The BiDAF trainer (training/bidaf_trainer.h) runs them; a method written
// against them names no model.
#ifndef RNNPRUNE_TRAINING_MODEL_HOOKS_H_
#define RNNPRUNE_TRAINING_MODEL_HOOKS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/prunable_model.h"
#include "nlohmann/json.hpp"
#include "torch/optim/optimizer.h"
#include "torch/types.h"
#include "training/step_sizes.h"

namespace rnnprune {

// What a pruning method adds to training. The default implementation is plain dense training.
class ModelHooks {
 public:
  virtual ~ModelHooks() = default;
  // How the forward pass of a batch of `batch` examples runs (models/prunable_model.h
  // ForwardPlan), in training mode (model.training: e.g. sampled gates) and in evaluation
  // (e.g. deterministic gates folded into the weights). Empty: the model's own pass.
  virtual ForwardPlan Forward(const PrunableModelView& model, int64_t batch) { return {}; }
  // Added to the loss of a batch (a scalar tensor in the loss's units); undefined: none.
  virtual torch::Tensor Penalty(const PrunableModelView& model) { return {}; }
  // Extra trainable tensors (e.g. gate log_alpha), never clipped with the weights, updated by
  // ExtraOptimizer(), which a method with extra parameters must provide (owned by the hooks).
  virtual std::vector<torch::Tensor> ExtraParameters() { return {}; }
  virtual torch::optim::Optimizer* ExtraOptimizer() { return nullptr; }
  // After every optimizer step (e.g. clamping log_alpha, a proximal step), with the step sizes
  // of the weights' update (training/step_sizes.h: their learning rate and, for an adaptive
  // optimizer, the per-weight step sizes it took).
  virtual void AfterStep(PrunableModelView& model, const StepSizes& step) {}
  // Once after the last optimizer step of a training run, on the trained values, before the
  // trainer swaps moving averages of the weights in (TrainBidaf's ema_decay: the model it returns
  // holds the averages, in which a group zeroed by a proximal step is only close to zero), e.g.
  // to read the structure the training reached (ISS's zero groups).
  virtual void AfterTraining(const PrunableModelView& model) {}
  // Statistics of the hooks' own state (e.g. closed gates per set); null: none. Must not change
  // any state or draw random numbers.
  virtual nlohmann::json Diagnostics(const PrunableModelView& model) { return nullptr; }
  // State the hooks change during training besides ExtraParameters() (e.g. a step counter and
  // the masks of a gradual schedule), as named tensors (names: letters, digits, '_', '.', '/'),
  // saved in training checkpoints (training/bidaf_training_checkpoint.h group "hook") so that a
  // resumed run continues exactly where it stopped; {} (the default): none.
  virtual std::map<std::string, torch::Tensor> SaveTrainingState() { return {}; }
  // Restores what SaveTrainingState() returned (after the model's and the extra parameters'
  // values). Errors: InvalidArgument when `state` does not fit these hooks.
  virtual absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) {
    return absl::OkStatus();
  }
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_MODEL_HOOKS_H_
