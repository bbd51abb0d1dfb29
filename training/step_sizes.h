// The per-weight step sizes of an optimizer's last update: the metric in which a proximal method
// (ISS group Lasso, baselines/iss_group_lasso.cc) takes its proximal step, so that the penalty
// and the loss are stepped in the same geometry.
//
// Every supported optimizer updates a weight x as x <- x - d * g_hat, with g_hat its estimate of
// the gradient and d > 0 its step size for that weight:
//   SGD (torch::optim::SGD, no momentum):  d = lr,                      g_hat = g
//   Adam (torch::optim::Adam, Kingma & Ba 2015, Algorithm 1, as LibTorch 1.13 computes it):
//                                          d = lr / (sqrt(v / (1 - beta2^t)) + eps),
//                                          g_hat = m / (1 - beta1^t)
//   Adadelta (training/adadelta.h, Zeiler 2012):
//                                          d = lr * sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps),
//                                          g_hat = g
// The proximal operator of a penalty c * R in that diagonal metric is
// argmin_x sum_i (x_i - y_i)^2 / (2 d_i) + c * R(x) (Parikh & Boyd, "Proximal Algorithms" 2014,
// Section 3.2; for Adam, the scaled proximal step of ProxGen, Yun, Lozano, Yang, NeurIPS 2021).
// With SGD's uniform d this is the usual proximal step of size lr.
#ifndef RNNPRUNE_TRAINING_STEP_SIZES_H_
#define RNNPRUNE_TRAINING_STEP_SIZES_H_

#include "absl/status/statusor.h"
#include "torch/optim/optimizer.h"
#include "torch/types.h"

namespace rnnprune {

class StepSizes {
 public:
  // The same step size `learning_rate` for every weight (SGD).
  explicit StepSizes(double learning_rate) : learning_rate_(learning_rate) {}

  // The step sizes of `optimizer`'s last update with learning rate `learning_rate` (its first
  // param group's). `optimizer` must outlive the result, and the parameters it steps are those
  // For() is asked about. SGD's momentum and any weight decay change g_hat, not d; Adam's amsgrad
  // takes the running maximum of v. Errors: Unimplemented when `optimizer` is none of
  // torch::optim::SGD, torch::optim::Adam, rnnprune::Adadelta.
  static absl::StatusOr<StepSizes> Of(const torch::optim::Optimizer& optimizer,
                                      double learning_rate);

  double learning_rate() const { return learning_rate_; }
  // True when every weight's step size is learning_rate() (SGD).
  bool uniform() const { return optimizer_ == nullptr; }

  // The step sizes d of parameter `p`'s weights: float32, p's shape, > 0 (all learning_rate()
  // when uniform(), or for a parameter the optimizer has no state for, e.g. one without a
  // gradient yet or frozen). For Adadelta, d comes from the running averages as they are after
  // the update (the update itself used E[dx^2] from before it). Not differentiable.
  torch::Tensor For(const torch::Tensor& p) const;

 private:
  enum class Kind { kUniform, kAdam, kAdadelta };
  StepSizes(double learning_rate, const torch::optim::Optimizer* optimizer, Kind kind, double beta2,
            double eps)
      : learning_rate_(learning_rate),
        optimizer_(optimizer),
        kind_(kind),
        beta2_(beta2),
        eps_(eps) {}

  double learning_rate_;
  const torch::optim::Optimizer* optimizer_ = nullptr;
  Kind kind_ = Kind::kUniform;
  double beta2_ = 0;
  double eps_ = 0;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_STEP_SIZES_H_
