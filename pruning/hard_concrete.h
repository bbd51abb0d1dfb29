// Hard concrete gates (Louizos, Welling, Kingma, "Learning Sparse Neural Networks through L0
// Regularization", ICLR 2018, Section 3): a stretched and clipped binary concrete distribution
// whose samples are exactly 0 or 1 with non-zero probability, so that the expected L0 norm
// becomes a differentiable function of log_alpha.
#ifndef RNNPRUNE_PRUNING_HARD_CONCRETE_H_
#define RNNPRUNE_PRUNING_HARD_CONCRETE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "models/batch_share.h"
#include "torch/types.h"

namespace rnnprune {

// Parameters of the hard concrete distribution; the defaults are Louizos et al.'s.
struct HardConcreteOptions {
  double beta = 2.0 / 3.0;  // temperature
  double gamma = -0.1;      // stretch interval (gamma, zeta), gamma < 0
  double zeta = 1.1;        // zeta > 1
  double eps = 1e-6;        // u ~ U(eps, 1 - eps), keeping log u and log(1 - u) finite
  // log_alpha starts at log(p / (1 - p)) for this initial keep probability p in (0, 1)
  // (Louizos et al. initialise log_alpha the same way from a drop rate). With p = 0.95 the
  // deterministic gate starts fully open (z_hat = 1), as fine-tuning a dense model needs.
  double init_keep_probability = 0.95;

  // Errors: InvalidArgument naming the field: beta <= 0, gamma >= 0, zeta <= 1, eps outside
  // (0, 0.5), init_keep_probability outside (0, 1).
  absl::Status Validate() const;
};

// A set of n gates with trainable log_alpha [n] (float32). Not a torch::nn::Module: the owner
// registers log_alpha() with its optimizer.
class HardConcreteGates {
 public:
  // n >= 1 gates, log_alpha filled from options.init_keep_probability.
  // Errors: InvalidArgument for n < 1 or invalid options.
  static absl::StatusOr<HardConcreteGates> Create(int64_t n, const HardConcreteOptions& options);

  // One training sample z [n] in [0, 1] (differentiable wrt log_alpha), Louizos et al. Eq. 10:
  //   u ~ U(eps, 1 - eps), s = sigmoid((log u - log(1 - u) + log_alpha) / beta),
  //   z = min(1, max(0, s (zeta - gamma) + gamma)).
  // Draws from the global torch RNG.
  torch::Tensor Sample() const;
  // `batch` independent samples, one per example (as Louizos et al. sample theirs): [batch, n].
  // With a `share` of a global batch (data-parallel training), the noise of the global batch is
  // drawn and the share's `batch` rows kept (models/batch_share.h RandForShare).
  torch::Tensor Sample(int64_t batch, const BatchShare& share = {}) const;

  // The test-time gate z_hat [n] (Louizos et al., Eq. 13):
  //   z_hat = min(1, max(0, sigmoid(log_alpha) (zeta - gamma) + gamma)).
  torch::Tensor Deterministic() const;

  // P(z != 0) [n] = sigmoid(log_alpha - beta log(-gamma / zeta)) (Louizos et al., Eq. 12),
  // differentiable wrt log_alpha: the expected L0 norm is its sum.
  torch::Tensor ProbabilityNonZero() const;

  int64_t size() const { return log_alpha_.size(0); }
  torch::Tensor& log_alpha() { return log_alpha_; }  // [n], requires_grad
  const torch::Tensor& log_alpha() const { return log_alpha_; }
  const HardConcreteOptions& options() const { return options_; }

 private:
  HardConcreteGates(torch::Tensor log_alpha, const HardConcreteOptions& options)
      : log_alpha_(std::move(log_alpha)), options_(options) {}
  torch::Tensor log_alpha_;
  HardConcreteOptions options_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_HARD_CONCRETE_H_
