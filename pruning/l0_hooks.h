// The paper's method (Wen et al. 2020: L0 neuron selection) in its model-agnostic form
// (pruning/model_method.h: training hooks and final gates): hard concrete gates on the input and
// hidden neurons of every LSTM and direction of any model that describes its LSTMs
// (pruning/l0_gates.h), sampled per example in training, deterministic and folded into the weights
// in evaluation, NLL + expected L0, the gates' log_alpha trained by their own Adam and clamped to
// [log 0.01, log 100] (Louizos et al. 2018). The BiDAF trainer runs it; its final gates go to the
// shared compaction.
#ifndef RNNPRUNE_PRUNING_L0_HOOKS_H_
#define RNNPRUNE_PRUNING_L0_HOOKS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "models/prunable_model.h"
#include "nlohmann/json.hpp"
#include "pruning/l0_gates.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
#include "torch/optim/adam.h"
#include "training/model_hooks.h"

namespace rnnprune {

class L0Hooks : public ModelMethod {
 public:
  // log_alpha's clamp (Louizos et al. 2018).
  static constexpr double kMinLogAlpha = -4.605170185988091;  // log(0.01)
  static constexpr double kMaxLogAlpha = 4.605170185988091;   // log(100)

  // Gates for every LSTM of `model` (options as L0Gates::Create), and the Adam at
  // `gate_learning_rate` (> 0) that trains their log_alpha. Errors: those of L0Gates::Create;
  // InvalidArgument for a learning rate that is not > 0 and finite.
  static absl::StatusOr<std::unique_ptr<L0Hooks>> Create(const PrunableModelView& model,
                                                         const L0GatesOptions& options,
                                                         double gate_learning_rate);

  // Training: one sample of every gate per example (on the activations); evaluation: the
  // deterministic gates folded into the weights (ApplyNeuronGates).
  ForwardPlan Forward(const PrunableModelView& model, int64_t batch) override;
  torch::Tensor Penalty(const PrunableModelView& model) override { return gates_.Penalty(); }
  std::vector<torch::Tensor> ExtraParameters() override { return gates_.LogAlphas(); }
  torch::optim::Optimizer* ExtraOptimizer() override { return adam_.get(); }
  void AfterStep(PrunableModelView& model, const StepSizes& step) override {
    gates_.Clamp(kMinLogAlpha, kMaxLogAlpha);
  }
  nlohmann::json Diagnostics(const PrunableModelView& model) override {
    return gates_.Diagnostics();
  }

  // The final structure: the deterministic gates (detached).
  NeuronGates FinalGates() const { return gates_.Deterministic(); }
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    return gates_.Deterministic();
  }
  // What the records name: the strengths and costs of every set and the gates' optimizer.
  nlohmann::json RecordedOptions() const override { return recorded_; }
  void set_recorded_options(nlohmann::json recorded) { recorded_ = std::move(recorded); }
  const L0Gates& gates() const { return gates_; }

 private:
  explicit L0Hooks(L0Gates gates) : gates_(std::move(gates)) {}

  L0Gates gates_;
  std::unique_ptr<torch::optim::Adam> adam_;
  nlohmann::json recorded_ = nlohmann::json::object();
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_L0_HOOKS_H_
