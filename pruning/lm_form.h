// A model-agnostic pruning method (pruning/model_method.h) run by the LSTM LM's trainer and
// protocol (training/hooks.h, pruning/protocol.h): the one bridge from the methods written
// against a model's LSTM layout to the LM, so that such a method has a single implementation for
// the LM and for BiDAF. A baseline registers `LmFormOf(factory)` as its LM factory
// (PruningMethodInfo::create) and the same factory as create_for_any_model.
#ifndef RNNPRUNE_PRUNING_LM_FORM_H_
#define RNNPRUNE_PRUNING_LM_FORM_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "models/prunable_model.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "training/hooks.h"
#include "training/model_hooks.h"

namespace rnnprune {

// The LM as a model-agnostic method sees it: its layout (LstmLmImpl::PruningLayout), its named
// parameters (aliases of the live tensors) and whether it is in training mode.
PrunableModelView LmView(const LstmLm& model);

// ModelHooks run by the LM trainer (not owned; alive as long as this). Forward runs the hooks'
// ForwardPlan: replaced parameters through LstmLmImpl::RunWith (per-example gates are not
// supported on the LM: c10::Error naming them); AfterStep passes StepSizes(learning rate) (SGD's
// uniform step); Penalty, extra parameters and their optimizer, Diagnostics and the training
// state are passed through.
class LmHooksOf : public TrainingHooks {
 public:
  explicit LmHooksOf(ModelHooks* hooks) : hooks_(hooks) {}
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override;
  torch::Tensor Penalty(LstmLm& model) override;
  std::vector<torch::Tensor> ExtraParameters() override { return hooks_->ExtraParameters(); }
  torch::optim::Optimizer* ExtraOptimizer() override { return hooks_->ExtraOptimizer(); }
  void AfterStep(LstmLm& model, double learning_rate) override;
  nlohmann::json Diagnostics(const LstmLm& model) override;
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    return hooks_->SaveTrainingState();
  }
  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) override {
    return hooks_->RestoreTrainingState(state);
  }

 private:
  ModelHooks* hooks_;
};

// The LM's NeuronMask of `gates` (LSTM names "lstm<l>"; an LSTM or set the gates leave out is
// all open). Errors: InvalidArgument when the result does not fit `config` (NeuronMask::Validate).
absl::StatusOr<NeuronMask> NeuronMaskOf(const NeuronGates& gates, const LstmLmConfig& config);

// The LM's target sizes as gate targets: E' on lstm0's inputs, each I_l' given (layers l >= 2,
// numbered from 1 as in TargetSizes) on lstm<l-1>'s inputs, H_l' on lstm<l-1>'s hidden units.
GateTargets GateTargetsOf(const TargetSizes& sizes);

// The LM factory of a model-agnostic method: builds the method from the LM's options (the model
// seen through its config: LstmLmPruningLayout and LstmLmParameterShapes, meta tensors; target
// sizes parsed by TargetSizes::Parse) and runs it on the LM. Finish returns the method's final
// gates as a NeuronMask (structured), or its weight masks, applied to the weights (unstructured).
// Errors: those of TargetSizes::Parse and of `create`.
PruningMethodFactory LmFormOf(ModelMethodFactory create);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_LM_FORM_H_
