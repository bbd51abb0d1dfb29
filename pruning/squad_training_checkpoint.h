// BiDAF training checkpoints: everything TrainBidaf (pruning/squad_trainer.h) needs to continue a
// run that was killed, so that the resumed run ends with bit-identical step losses and
// parameters (on one thread). The PTB trainer's counterpart is pruning/training_checkpoint.h.
//
// A file holds one LibTorch archive (torch::serialize::OutputArchive, a zip) with these keys:
//
//   format            string  "rnnprune.bidaf_training_checkpoint"
//   version           int     kBidafTrainingCheckpointVersion (1); readers refuse other versions
//   config_hash       string  the run's BidafTrainOptions::config_hash (common/config_hash.h)
//   progress          string  JSON: epoch, step, global_step, steps_per_epoch, batch_size,
//                             train_examples, epoch_loss_sum, epoch_questions, epoch_seconds,
//                             questions, seconds, epochs (finished BidafEpochStats); see
//                             BidafTrainingProgress. Non-finite doubles are written as the
//                             strings "inf", "-inf", "nan".
//   progress/step_losses tensor float64 [global_step]: BidafLoss of every step so far, nats
//   model/names       string  JSON array of every parameter name (trainable and frozen, e.g. the
//                             GloVe embedding), in named_parameters() order; model/<name> each
//                             tensor
//   buffer/names      string  JSON array of the model's buffer names, in named_buffers() order
//                             (BiDAF has none today); buffer/<name> each tensor
//   optimizer/name    string  "adam" or "adadelta" (BidafTrainOptions::optimizer)
//   optimizer/state   string  bytes of a LibTorch archive written by Optimizer::save (Adam: its
//                             moments and step counts; Adadelta, pruning/adadelta.h: E[g^2],
//                             E[dx^2] and step counts), checked as the outer file on load
//   ema/names         string  JSON array of the moving average's shadow names (its
//                             shadows() order; [] when ema_decay is 0); ema/<name> each shadow
//   ema/num_updates   int     ExponentialMovingAverage::num_updates()
//   rng/torch_cpu     tensor  uint8 state of torch's default CPU generator (dropout, any
//                             torch::rand* without an explicit generator)
//
// New state goes in as new keys with a version bump; readers check every key they need.
#ifndef RNNPRUNE_PRUNING_SQUAD_TRAINING_CHECKPOINT_H_
#define RNNPRUNE_PRUNING_SQUAD_TRAINING_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/bidaf.h"
#include "models/moving_average.h"
#include "pruning/squad_trainer.h"
#include "torch/optim/optimizer.h"
#include "torch/types.h"

namespace rnnprune {

inline constexpr int kBidafTrainingCheckpointVersion = 1;

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
  std::vector<BidafEpochStats> epochs;  // finished epochs
  int64_t questions = 0;                // questions trained over finished epochs
  double seconds = 0;                   // wall time of finished epochs, seconds
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
  torch::Tensor rng_state;  // uint8 [n], torch's default CPU generator
};

// Writes `checkpoint` to `path` atomically (common/files.h WriteFileAtomicallyWith: temporary
// file in the same folder, fsync, rename, folder fsync), so that a kill at any moment leaves
// either the previous checkpoint or the new one. Refuses to write bad state: FailedPrecondition
// naming the tensor when a parameter, buffer or shadow holds NaN/Inf, or a step loss is not
// finite (the previous file is then untouched). Other errors name the path (serialisation,
// I/O).
absl::Status SaveBidafTrainingCheckpoint(const BidafTrainingCheckpoint& checkpoint,
                                         const std::string& path);

// Reads a checkpoint written by SaveBidafTrainingCheckpoint. The file is read whole and checked
// (models/torch_archive.h CheckTorchArchive: zip structure, CRC-32 of every entry, pickle
// lengths) before LibTorch parses it, and so is the embedded optimizer archive. Checks the
// contents' own consistency (one step loss per global step, a position inside the epoch, a
// uint8 generator state, no duplicate names), not their fit to a model (see
// RestoreBidafTrainingCheckpoint). Errors, each naming `path`: NotFound (no file);
// InvalidArgument when the file is truncated, corrupt, not a BiDAF training checkpoint, of
// another version, lacks a key or is inconsistent. Never throws; the file is left as it is.
absl::StatusOr<BidafTrainingCheckpoint> LoadBidafTrainingCheckpoint(const std::string& path);

// Captures the live state of a run: every named parameter and buffer of `model`, `optimizer`
// serialised (its `optimizer_name`), the shadows and update count of `ema` (may be null: no
// average), torch's default CPU generator, `config_hash` and `progress`. Tensors are detached
// aliases of the live ones: save before the next step. Errors: InvalidArgument when LibTorch
// fails (e.g. the optimizer cannot be serialised).
absl::StatusOr<BidafTrainingCheckpoint> CaptureBidafTrainingCheckpoint(
    const Bidaf& model, torch::optim::Optimizer& optimizer, const std::string& optimizer_name,
    const ExponentialMovingAverage* ema, const std::string& config_hash,
    const BidafTrainingProgress& progress);

// Copies `checkpoint` (read from `path`) into the live objects: the model's parameters and
// buffers, the optimizer's state (its options stay as built), the moving average (`ema`, null
// when the run has none) and torch's default CPU generator. Everything that can be checked is
// checked before anything is changed: parameter and buffer names, shapes and dtypes; the
// optimizer's name; the presence and shadows of a moving average. Errors: FailedPrecondition
// naming `path` and the first mismatch; InvalidArgument when LibTorch rejects the optimizer or
// generator state (after which the live objects may be partly restored: do not train on).
absl::Status RestoreBidafTrainingCheckpoint(const BidafTrainingCheckpoint& checkpoint,
                                            const std::string& path, Bidaf& model,
                                            torch::optim::Optimizer& optimizer,
                                            const std::string& optimizer_name,
                                            ExponentialMovingAverage* ema);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_SQUAD_TRAINING_CHECKPOINT_H_
