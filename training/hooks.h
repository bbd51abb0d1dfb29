// The hooks interface of the LM trainer (training/lm_trainer.h Train): what a pruning method
// adds to training (a forward pass with gates, a penalty, extra parameters with their own
// optimiser, steps after each update, state for checkpoints, diagnostics). pruning/method.h
// builds every method on it; the trainer knows no method by name.
#ifndef RNNPRUNE_TRAINING_HOOKS_H_
#define RNNPRUNE_TRAINING_HOOKS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/lstm_lm.h"
#include "nlohmann/json.hpp"
#include "torch/optim/optimizer.h"
#include "torch/types.h"

namespace rnnprune {

// What a pruning method adds to training. The default implementation is plain dense training.
class TrainingHooks {
 public:
  virtual ~TrainingHooks() = default;
  // Forward pass of one window: input [T, B] int64 -> the last layer's output and the
  // decoder (LmOutput; logits = hidden W^T + b); updates `state`. A method with gates applies
  // them here (e.g. as scaled weights through LstmLmImpl::RunWith).
  virtual LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) {
    return model->Run(input, state);
  }
  // Regulariser added to the loss of one window (a scalar tensor, same normalisation as the
  // loss: per sequence, i.e. divided by the batch size); an undefined tensor means none.
  virtual torch::Tensor Penalty(LstmLm& model) { return {}; }
  // Extra trainable tensors (e.g. gate log_alpha), excluded from the weights' gradient-norm
  // clip. They are updated by ExtraOptimizer() when it is not null, else by the weights' SGD.
  virtual std::vector<torch::Tensor> ExtraParameters() { return {}; }
  // The optimiser of exactly ExtraParameters() (e.g. Adam for gate log_alpha, as Louizos et al.
  // 2018 train them), owned by the hooks and alive as long as they are; null (the default): the
  // extra parameters join the weights' SGD at its learning rate. Train zeroes its gradients and
  // steps it after the weights' step, before AfterStep; its state (e.g. Adam's moments) is part
  // of training checkpoints. Its learning rate is its own: the weights' schedule does not touch
  // it.
  virtual torch::optim::Optimizer* ExtraOptimizer() { return nullptr; }
  // Called after every optimizer step (e.g. thresholding, masks, proximal steps, clamping
  // log_alpha), with the weights' learning rate of that step.
  virtual void AfterStep(LstmLm& model, double learning_rate) {}
  // Statistics of the hooks' own state worth following during training (e.g. per gate set: how
  // many gates are closed, open or in between), as a JSON object; null (the default): none.
  // Train records them every TrainOptions::diagnostics_every_steps optimizer steps and after the
  // last one (TrainResult::diagnostics). Must not change any state or draw random numbers.
  virtual nlohmann::json Diagnostics(const LstmLm& model) { return nullptr; }
  // State the hook changes during training besides ExtraParameters() (e.g. a step counter,
  // masks, or the bytes of an RNG of its own; torch's global CPU generator is saved by the
  // trainer), as named tensors (names: letters, digits, '_', '.', '/'). Saved in training
  // checkpoints after a step, so that a resumed run continues exactly where it stopped. A hook
  // whose training behaviour depends only on its extra parameters and torch's global generator
  // needs neither of these.
  virtual std::map<std::string, torch::Tensor> SaveTrainingState() { return {}; }
  // Restores what SaveTrainingState() returned (called after the model's and the extra
  // parameters were restored). Errors: InvalidArgument when `state` does not fit this hook.
  virtual absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) {
    return absl::OkStatus();
  }
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_HOOKS_H_
