// L1 Lasso (unstructured): the loss plus (lambda / N) * sum |w| over the LSTM weight matrices
// (W_ih and W_hh of every LSTM of the model's layout, every direction of BiDAF's; Tibshirani
// 1996; the unstructured baseline of Wen et al. 2018 and 2020), N the training examples of an
// epoch (tokens for the LM: the penalty scale of every method, pruning/method.h PenaltyScale).
// Optimised by proximal steps: after the optimizer's step on the loss, the soft-threshold of
// the L1 norm in the metric of that step (training/step_sizes.h: x <- x - d * g_hat),
//   w <- sign(w) max(|w| - d * c, 0),   c = penalty_scale * lambda,
// which for SGD's uniform d = lr is the usual w <- sign(w) max(|w| - lr * c, 0), and for Adam
// shrinks each weight by its own step size, so that a weight is zeroed exactly when
// |w / d| <= c (with Adam, a uniform shrink of lr * c would be negligible beside steps of about
// lr: ISS's reason, baselines/iss_group_lasso.cc). The L1 penalty is separable, so this is the
// exact proximal operator in that diagonal metric (Parikh & Boyd, "Proximal Algorithms" 2014,
// Section 6.5.2). Then weights with |w| < zero_threshold are set to exactly 0 (the same rule as
// the ISS baseline). The final structure is the pattern of non-zeros of the trained values
// (read before a trainer swaps moving averages in): irregular sparsity.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "torch/torch.h"
#include "training/step_sizes.h"

namespace rnnprune {
namespace {

class L1Lasso : public ModelMethod {
 public:
  explicit L1Lasso(const ModelMethodOptions& o)
      : penalty_scale_(o.penalty_scale),
        lambda_(o.lambda),
        zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }

  void AfterStep(PrunableModelView& model, const StepSizes& step) override {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> weights;
    for (const std::string& name : LstmWeightMatrixNames(model.layout)) {
      torch::Tensor w = model.parameters.at(name);
      if (step.uniform()) {  // lr * s * lambda, in the order the LM's runs were recorded with
        const double shrink = step.learning_rate() * penalty_scale_ * lambda_;
        w.copy_(w.sign() * (w.abs() - shrink).clamp_min(0.0));
      } else {
        w.copy_(w.sign() * (w.abs() - step.For(w) * (penalty_scale_ * lambda_)).clamp_min(0.0));
      }
      weights.push_back(w);
    }
    ZeroSmallWeights(weights, zero_threshold_);
  }
  // The zeros of the trained values: a moving average of the weights (BiDAF's EMA) is close to
  // zero where they are zero, never exactly.
  void AfterTraining(const PrunableModelView& model) override {
    trained_ = NonZeroWeightMasks(model);
  }

  // Nothing removed by neuron: the structure is in FinalWeightMasks.
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    return NeuronGates{};
  }
  // Those AfterTraining read; without a training run, the zeros of `model`.
  absl::StatusOr<std::map<std::string, torch::Tensor>> FinalWeightMasks(
      const PrunableModelView& model) override {
    return trained_.has_value() ? *trained_ : NonZeroWeightMasks(model);
  }

 private:
  double penalty_scale_, lambda_, zero_threshold_;
  std::optional<std::map<std::string, torch::Tensor>> trained_;
};

absl::StatusOr<std::unique_ptr<ModelMethod>> Create(const ModelMethodOptions& o) {
  return std::unique_ptr<ModelMethod>(new L1Lasso(o));
}

PruningMethodInfo LassoInfo() {
  PruningMethodInfo info = MethodInfo(
      "lasso", "L1 Lasso on the LSTM weights, proximal steps plus thresholding (unstructured)",
      /*structured=*/false, SettingKind::kLambda, {1e-4}, LmFormOf(Create));
  info.options = {ZeroThresholdOption()};
  info.create_for_any_model = Create;
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(LassoInfo());

}  // namespace rnnprune
