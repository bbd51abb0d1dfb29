// Adadelta (Zeiler 2012, "ADADELTA: An Adaptive Learning Rate Method", arXiv 1212.5701,
// Algorithm 1) as a torch::optim optimiser: LibTorch 1.13's C++ frontend has none. BiDAF (Seo et
// al. 2017, Section 4 "Training details") trains with AdaDelta at an initial learning rate of 0.5.
//
// For each parameter x with gradient g (every tensor below has x's shape, dtype and device):
//   g        <- g + weight_decay * x                        (when weight_decay > 0)
//   E[g^2]   <- rho * E[g^2] + (1 - rho) * g^2
//   delta    <- sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
//   E[dx^2]  <- rho * E[dx^2] + (1 - rho) * delta^2
//   x        <- x - lr * delta
// Both accumulators start at 0. This is PyTorch's torch.optim.Adadelta and TensorFlow's
// ApplyAdadelta, term for term; Zeiler's algorithm is lr = 1.
#ifndef RNNPRUNE_TRAINING_ADADELTA_H_
#define RNNPRUNE_TRAINING_ADADELTA_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "torch/arg.h"
#include "torch/optim/optimizer.h"
#include "torch/serialize/archive.h"
#include "torch/types.h"

namespace rnnprune {

// Defaults: lr 0.5 (BiDAF, Section 4); rho 0.95 and eps 1e-6 (Zeiler 2012, Section 4.1). For
// reference, PyTorch defaults to rho 0.9, eps 1e-6, lr 1.0, and TF1's AdadeltaOptimizer (which
// the BiDAF code uses) to rho 0.95, eps 1e-8.
struct AdadeltaOptions : public torch::optim::OptimizerCloneableOptions<AdadeltaOptions> {
  explicit AdadeltaOptions(double lr = 0.5) : lr_(lr) {}
  TORCH_ARG(double, lr);                  // >= 0, multiplies delta
  TORCH_ARG(double, rho) = 0.95;          // in [0, 1], decay of both running averages
  TORCH_ARG(double, eps) = 1e-6;          // >= 0, added under both square roots
  TORCH_ARG(double, weight_decay) = 0.0;  // >= 0, L2 coefficient added to the gradient

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

// Per-parameter state: the two running averages (x's shape) and the number of steps taken.
struct AdadeltaParamState : public torch::optim::OptimizerCloneableParamState<AdadeltaParamState> {
  TORCH_ARG(torch::Tensor, square_avg);  // E[g^2]
  TORCH_ARG(torch::Tensor, acc_delta);   // E[dx^2]
  TORCH_ARG(int64_t, step) = 0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

// Usage as any torch::optim optimiser: zero_grad(), loss.backward(), step(). Parameters without
// a gradient are skipped (their state is not created). Sparse gradients are refused. Not
// thread-safe. The constructor throws c10::Error (TORCH_CHECK) for options outside the ranges
// above.
class Adadelta : public torch::optim::Optimizer {
 public:
  explicit Adadelta(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                    AdadeltaOptions defaults = AdadeltaOptions());
  explicit Adadelta(std::vector<torch::Tensor> params, AdadeltaOptions defaults = AdadeltaOptions())
      : Adadelta(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(
                     std::move(params))},
                 defaults) {}

  // One update of every parameter that has a gradient, without recording it for autograd.
  // Returns the closure's loss when a closure is given (it is called with grad enabled first),
  // else an undefined tensor. Throws c10::Error on a sparse gradient.
  torch::Tensor step(LossClosure closure = nullptr) override;

  // The state (running averages, step counts) and param groups, in the format of LibTorch's own
  // optimisers (torch::save / torch::load). As theirs, load() restores the state only: the
  // options stay those this optimiser was built with.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_ADADELTA_H_
