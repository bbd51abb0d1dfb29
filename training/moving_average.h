// Exponential moving average of a module's parameters, for evaluating with averaged weights
// (BiDAF, Seo et al. 2017, Section 4: "exponential moving average of all weights with decay
// rate 0.999" at test time; the authors' code uses tf.train.ExponentialMovingAverage).
#ifndef RNNPRUNE_TRAINING_MOVING_AVERAGE_H_
#define RNNPRUNE_TRAINING_MOVING_AVERAGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "torch/nn/module.h"
#include "torch/types.h"

namespace rnnprune {

struct EmaOptions {
  double decay = 0.999;  // in [0, 1); 0.999 as the paper
  // Bias handling. false (default; the BiDAF code, which builds the TF average without
  // num_updates): each shadow starts as a copy of its parameter when the average is created,
  // and every update uses `decay`. true (TF's num_updates): update n (0-based) uses
  // min(decay, (1 + n) / (10 + n)), so early averages forget the initial values faster.
  bool warmup = false;
};

// Shadow copies of every parameter of a module that requires grad (frozen parameters, e.g.
// BiDAF's GloVe embedding, are not trained and not averaged), matched by name. Shadows have the
// parameters' dtype and device. Not thread-safe.
class ExponentialMovingAverage {
 public:
  // Copies the trainable parameters of `module`. Errors: InvalidArgument when decay is outside
  // [0, 1) or the module has no trainable parameter.
  static absl::StatusOr<ExponentialMovingAverage> Create(const torch::nn::Module& module,
                                                         const EmaOptions& options = {});

  // After an optimiser step: shadow = decay_n * shadow + (1 - decay_n) * param, with decay_n =
  // CurrentDecay(); then num_updates() grows by 1. Not recorded by autograd. Errors:
  // FailedPrecondition while the averages are swapped in; InvalidArgument when the module's
  // trainable parameters differ (names or shapes) from those at Create.
  absl::Status Update(const torch::nn::Module& module);

  // Exchanges the module's trainable parameters and the shadows, bit for bit: the first call
  // puts the averages into the module (the trained values are kept here), the second restores
  // the trained values exactly. Not recorded by autograd. Errors: InvalidArgument on a
  // parameter mismatch (nothing is changed then).
  absl::Status Swap(torch::nn::Module& module);

  // True between an odd and an even number of Swap calls.
  bool swapped() const { return swapped_; }
  int64_t num_updates() const { return num_updates_; }
  // The decay the next Update uses (see EmaOptions::warmup).
  double CurrentDecay() const;
  // (name, shadow) in the module's parameter order; the shadows hold the averages unless
  // swapped().
  const std::vector<std::pair<std::string, torch::Tensor>>& shadows() const { return shadows_; }

  // Replaces the shadows' values and the update count with saved ones (e.g. from a training
  // checkpoint: shadows() and num_updates() of an earlier average of the same module), bit for
  // bit; the options stay those given at Create. Not recorded by autograd. Errors (nothing is
  // changed then): FailedPrecondition while the averages are swapped in; InvalidArgument when
  // `shadows` differ from this average's in count, names, shapes or dtypes (naming the first
  // mismatch), or num_updates < 0.
  absl::Status Restore(const std::vector<std::pair<std::string, torch::Tensor>>& shadows,
                       int64_t num_updates);

 private:
  explicit ExponentialMovingAverage(const EmaOptions& options) : options_(options) {}
  // The module's trainable parameters matched to shadows_, or InvalidArgument.
  absl::StatusOr<std::vector<torch::Tensor>> Match(const torch::nn::Module& module) const;

  EmaOptions options_;
  std::vector<std::pair<std::string, torch::Tensor>> shadows_;
  int64_t num_updates_ = 0;
  bool swapped_ = false;
};

// Evaluates with averaged weights for the lifetime of the scope:
//   { ScopedAveragedWeights scope(&ema, model.get()); if (!scope.status().ok()) ...; Evaluate(); }
// The constructor swaps the averages in and the destructor swaps the trained weights back
// (bit-exact). Both pointers must outlive the scope. When the constructor's swap fails, or the
// average was already swapped, status() says why and the destructor does nothing.
class ScopedAveragedWeights {
 public:
  ScopedAveragedWeights(ExponentialMovingAverage* ema, torch::nn::Module* module);
  ~ScopedAveragedWeights();
  ScopedAveragedWeights(const ScopedAveragedWeights&) = delete;
  ScopedAveragedWeights& operator=(const ScopedAveragedWeights&) = delete;

  const absl::Status& status() const { return status_; }

 private:
  ExponentialMovingAverage* ema_;
  torch::nn::Module* module_;
  absl::Status status_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_MOVING_AVERAGE_H_
