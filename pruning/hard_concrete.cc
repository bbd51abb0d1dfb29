#include "pruning/hard_concrete.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "torch/torch.h"

namespace rnnprune {

absl::Status HardConcreteOptions::Validate() const {
  if (!(beta > 0)) return absl::InvalidArgumentError(absl::StrCat("beta=", beta, " must be > 0"));
  if (!(gamma < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("gamma=", gamma, " must be < 0"));
  }
  if (!(zeta > 1)) return absl::InvalidArgumentError(absl::StrCat("zeta=", zeta, " must be > 1"));
  if (!(eps > 0 && eps < 0.5)) {
    return absl::InvalidArgumentError(absl::StrCat("eps=", eps, " must be in (0, 0.5)"));
  }
  if (!(init_keep_probability > 0 && init_keep_probability < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("init_keep_probability=", init_keep_probability, " must be in (0, 1)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<HardConcreteGates> HardConcreteGates::Create(int64_t n,
                                                            const HardConcreteOptions& options) {
  if (n < 1) return absl::InvalidArgumentError(absl::StrCat("gate count n=", n, " must be >= 1"));
  absl::Status s = options.Validate();
  if (!s.ok()) return s;
  const double p = options.init_keep_probability;
  torch::Tensor la = torch::full({n}, std::log(p / (1 - p)), torch::kFloat32);
  return HardConcreteGates(la.requires_grad_(), options);
}

torch::Tensor HardConcreteGates::Sample() const { return Sample(1).squeeze(0); }

torch::Tensor HardConcreteGates::Sample(int64_t batch, const BatchShare& share) const {
  const auto& o = options_;
  TORCH_CHECK(log_alpha_.scalar_type() == torch::kFloat && log_alpha_.device().is_cpu(),
              "HardConcreteGates: log_alpha must be float32 on the CPU");
  torch::Tensor u = RandForShare({batch, size()}, share, 0) * (1 - 2 * o.eps) + o.eps;
  torch::Tensor s = torch::sigmoid((torch::log(u) - torch::log1p(-u) + log_alpha_) / o.beta);
  return torch::clamp(s * (o.zeta - o.gamma) + o.gamma, 0.0, 1.0);
}

torch::Tensor HardConcreteGates::Deterministic() const {
  const auto& o = options_;
  return torch::clamp(torch::sigmoid(log_alpha_) * (o.zeta - o.gamma) + o.gamma, 0.0, 1.0);
}

torch::Tensor HardConcreteGates::ProbabilityNonZero() const {
  const auto& o = options_;
  return torch::sigmoid(log_alpha_ - o.beta * std::log(-o.gamma / o.zeta));
}

}  // namespace rnnprune
