// The BiDAF trainer's view of its training checkpoints: everything TrainBidaf
// (training/bidaf_trainer.h) needs to continue a run that was killed, so that the resumed run
// ends with bit-identical step losses and parameters (on one thread). Stored in the one
// container of training/checkpoint.h (trainer "bidaf") as:
//
//   progress              the fields of BidafTrainingProgress (finished BidafEpochStats
//                         included) plus "optimizer" ("adam" or "adadelta") and
//                         "ema_num_updates"; non-finite doubles as "inf", "-inf", "nan"
//   group "step_losses"   one tensor "nats", float64 [global_step]: BidafLoss of every step
//   group "model"         every named parameter (trainable and frozen, e.g. the GloVe
//                         embedding), in named_parameters() order
//   group "buffer"        the model's named_buffers() (BiDAF has none today)
//   group "ema"           the moving average's shadows (its shadows() order; empty without one)
//   optimizer "weights"   Adam's moments and step counts, or Adadelta's E[g^2], E[dx^2] and
//                         step counts (training/adadelta.h)
//   group "extra"         a pruning method's extra parameters (ModelHooks::ExtraParameters(),
//                         named "0", "1", ...; empty without hooks)
//   optimizer "extra"     their optimizer's state (ModelHooks::ExtraOptimizer()), present
//                         exactly when the hooks have one
//   group "hook"          the hooks' own state (ModelHooks::SaveTrainingState(), e.g. a
//                         gradual schedule's step counter and masks; absent in checkpoints
//                         written before hooks had state, read as empty)
#ifndef RNNPRUNE_TRAINING_BIDAF_TRAINING_CHECKPOINT_H_
#define RNNPRUNE_TRAINING_BIDAF_TRAINING_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/bidaf.h"
#include "torch/optim/optimizer.h"
#include "torch/types.h"
#include "training/bidaf_trainer.h"
#include "training/checkpoint.h"
#include "training/model_hooks.h"
#include "training/moving_average.h"

namespace rnnprune {

// Where a BiDAF run stands between two optimizer steps.
struct BidafTrainingProgress {
  int64_t epoch = 1;            // 1-based epoch to run next (or in progress); epochs + 1 at the
                                // end of training
  int64_t step = 0;             // batches of `epoch` already trained; 0 at an epoch boundary
  int64_t global_step = 0;      // optimizer steps taken over all epochs
  int64_t steps_per_epoch = 0;  // of the run that wrote the checkpoint (checked on resume)
  int64_t batch_size = 0;       // ditto, questions per batch
  int64_t train_examples = 0;   // ditto, the size of the training set
  double epoch_loss_sum = 0;    // nats, BidafLoss summed over the questions trained in `epoch`
  int64_t epoch_questions = 0;  // questions trained in `epoch`
  double epoch_seconds = 0;     // wall time of `epoch`'s steps so far, seconds (all processes)
  std::vector<BidafEpochStats> epochs;   // finished epochs
  int64_t questions = 0;                 // questions trained over finished epochs
  double seconds = 0;                    // wall time of finished epochs, seconds
  std::vector<double> step_losses_nats;  // every step so far (global_step of them), nats
};

// The contents of a BiDAF training checkpoint (see the file comment for the on-disk keys).
// Tensors are CPU tensors of the model's dtypes.
struct BidafTrainingCheckpoint {
  std::string config_hash;
  std::string optimizer_name;  // "adam" or "adadelta"
  BidafTrainingProgress progress;
  std::vector<std::pair<std::string, torch::Tensor>> parameters;  // named_parameters() order
  std::vector<std::pair<std::string, torch::Tensor>> buffers;     // named_buffers() order
  std::string optimizer_state;  // a LibTorch archive (Optimizer::save), bytes
  // The moving average's shadows (ExponentialMovingAverage::shadows() order; empty without
  // one) and its update count.
  std::vector<std::pair<std::string, torch::Tensor>> ema_shadows;
  int64_t ema_num_updates = 0;
  // The hooks' extra parameters ("0", "1", ...) and their optimizer's state ("" when none).
  std::vector<std::pair<std::string, torch::Tensor>> extra_parameters;
  std::string extra_optimizer_state;
  std::map<std::string, torch::Tensor> hook_state;  // ModelHooks::SaveTrainingState()
  torch::Tensor rng_state;                          // uint8 [n], torch's default CPU generator
};

// Writes `checkpoint` to `path` through the container (training/checkpoint.h
// SaveTrainingCheckpoint: atomic; nothing written on error). Errors: FailedPrecondition naming
// the tensor ("model '...'", "buffer '...'", "ema '...'") when it holds NaN/Inf, or the step
// whose loss is not finite (the previous file is then untouched); InvalidArgument when the step
// losses do not match global_step. Other errors name the path (serialisation, I/O).
absl::Status SaveBidafTrainingCheckpoint(const BidafTrainingCheckpoint& checkpoint,
                                         const std::string& path);

// Reads a checkpoint written by SaveBidafTrainingCheckpoint from `bytes` (`what` names it in
// errors). Everything the container checks (ParseTrainingCheckpoint), then BiDAF's own
// consistency (one step loss per global step, a position inside the epoch, a known optimiser,
// a non-negative average count), not the contents' fit to a model (see
// RestoreBidafTrainingCheckpoint). Errors: InvalidArgument naming `what`. Never throws.
absl::StatusOr<BidafTrainingCheckpoint> ParseBidafTrainingCheckpoint(absl::string_view bytes,
                                                                     const std::string& what);

// ParseBidafTrainingCheckpoint of the file at `path`. Errors: NotFound (no file), else as
// ParseBidafTrainingCheckpoint, naming `path`. The file is left as it is.
absl::StatusOr<BidafTrainingCheckpoint> LoadBidafTrainingCheckpoint(const std::string& path);

// Captures the live state of a run: every named parameter and buffer of `model`, `optimizer`
// serialised (its `optimizer_name`), the shadows and update count of `ema` (may be null: no
// average), the extra parameters of `hooks` and their optimizer's state (null: no hooks),
// torch's default CPU generator, `config_hash` and `progress`. Tensors are detached
// aliases of the live ones: save before the next step. Errors: InvalidArgument when LibTorch
// fails (e.g. the optimizer cannot be serialised).
absl::StatusOr<BidafTrainingCheckpoint> CaptureBidafTrainingCheckpoint(
    const Bidaf& model, torch::optim::Optimizer& optimizer, const std::string& optimizer_name,
    const ExponentialMovingAverage* ema, ModelHooks* hooks, const std::string& config_hash,
    const BidafTrainingProgress& progress);

// Copies `checkpoint` (read from `path`) into the live objects: the model's parameters and
// buffers, the optimizer's state (its options stay as built), the moving average (`ema`, null
// when the run has none), the extra parameters of `hooks`, their optimizer's state and the
// hooks' own state (null: no hooks) and torch's default CPU generator. Everything that can be
// checked is checked before any weight is changed: parameter and buffer names, shapes and
// dtypes; the optimizer's name; the presence and shadows of a moving average; the count and
// shapes of the extra parameters and the presence of their optimizer's state; the hooks' own
// state (ModelHooks::RestoreTrainingState refuses one that does not fit). Errors:
// FailedPrecondition naming `path` and the first mismatch; InvalidArgument when LibTorch rejects
// the optimizer or generator state (after which the live objects may be partly restored: do not
// train on).
absl::Status RestoreBidafTrainingCheckpoint(const BidafTrainingCheckpoint& checkpoint,
                                            const std::string& path, Bidaf& model,
                                            torch::optim::Optimizer& optimizer,
                                            const std::string& optimizer_name,
                                            ExponentialMovingAverage* ema, ModelHooks* hooks);

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_BIDAF_TRAINING_CHECKPOINT_H_
