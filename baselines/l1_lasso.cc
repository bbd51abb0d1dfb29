// L1 Lasso (unstructured): the mean NLL per token plus (lambda / N) * sum |w| over the LSTM
// weight matrices (W_ih and W_hh of every layer; Tibshirani 1996; the unstructured baseline of
// Wen et al. 2018 and 2020), N the training tokens of an epoch (the penalty scale of every
// method, pruning/method.h PenaltyScale). Optimised by proximal SGD: after the SGD step on the
// NLL, the soft-threshold w <- sign(w) max(|w| - lr * s * lambda, 0) with s = penalty_scale
// (the proximal operator of the L1 norm), then weights with |w| < zero_threshold are set to exactly
// 0 (the same rule as the ISS baseline). The final structure is the pattern of non-zeros: irregular
// sparsity, timed both in CSR form and as dense matrices with zeros.
#include <memory>
#include <string>
#include <vector>

#include "pruning/method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class L1Lasso : public PruningMethod {
 public:
  explicit L1Lasso(const MethodOptions& o)
      : options_(o), zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }

  void AfterStep(LstmLm& model, double learning_rate) override {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> weights;
    const double shrink = learning_rate * options_.penalty_scale * options_.lambda;
    for (const std::string& name : LstmWeightNames(model)) {
      torch::Tensor w = ParameterByName(model, name);
      w.copy_(w.sign() * (w.abs() - shrink).clamp_min(0.0));
      weights.push_back(w);
    }
    ZeroSmallWeights(weights, zero_threshold_);
  }

  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    torch::NoGradGuard no_grad;
    PruningStructure s;
    for (const std::string& name : LstmWeightNames(model)) {
      s.weight_masks[name] = ParameterByName(model, name).ne(0);
    }
    return s;
  }

 private:
  MethodOptions options_;
  double zero_threshold_;
};

PruningMethodInfo LassoInfo() {
  PruningMethodInfo info = MethodInfo(
      "lasso", "L1 Lasso on the LSTM weights, proximal SGD plus thresholding (unstructured)",
      /*structured=*/false, SettingKind::kLambda, {1e-4},
      [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
        return std::unique_ptr<PruningMethod>(new L1Lasso(o));
      });
  info.options = {ZeroThresholdOption()};
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(LassoInfo());

}  // namespace rnnprune
