#include "training/step_sizes.h"

#include <cmath>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "torch/optim/adam.h"
#include "torch/optim/sgd.h"
#include "training/adadelta.h"

namespace rnnprune {

absl::StatusOr<StepSizes> StepSizes::Of(const torch::optim::Optimizer& optimizer,
                                        double learning_rate) {
  if (dynamic_cast<const torch::optim::SGD*>(&optimizer) != nullptr) {
    return StepSizes(learning_rate);
  }
  if (const auto* adam = dynamic_cast<const torch::optim::Adam*>(&optimizer)) {
    const auto& o =
        static_cast<const torch::optim::AdamOptions&>(adam->param_groups().at(0).options());
    return StepSizes(learning_rate, &optimizer, Kind::kAdam, std::get<1>(o.betas()), o.eps());
  }
  if (const auto* adadelta = dynamic_cast<const Adadelta*>(&optimizer)) {
    const auto& o = static_cast<const AdadeltaOptions&>(adadelta->param_groups().at(0).options());
    return StepSizes(learning_rate, &optimizer, Kind::kAdadelta, 0, o.eps());
  }
  return absl::UnimplementedError(
      "StepSizes: the optimizer is none of torch::optim::SGD, torch::optim::Adam, "
      "rnnprune::Adadelta; its per-weight step sizes are unknown");
}

torch::Tensor StepSizes::For(const torch::Tensor& p) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor all_lr = torch::full_like(p, learning_rate_, torch::kFloat32);
  if (optimizer_ == nullptr) return all_lr;
  const auto& states = optimizer_->state();
  const auto it = states.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
  if (it == states.end()) return all_lr;
  if (kind_ == Kind::kAdam) {
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const torch::Tensor v = s.max_exp_avg_sq().defined() ? s.max_exp_avg_sq() : s.exp_avg_sq();
    const double bias_correction2 = 1.0 - std::pow(beta2_, static_cast<double>(s.step()));
    return (v.sqrt() / std::sqrt(bias_correction2) + eps_).reciprocal() * learning_rate_;
  }
  const auto& s = static_cast<const AdadeltaParamState&>(*it->second);
  return (s.acc_delta() + eps_).sqrt() / (s.square_avg() + eps_).sqrt() * learning_rate_;
}

}  // namespace rnnprune
