// Training checkpoints: everything Train (pruning/trainer.h) needs to continue a run that was
// killed, so that the resumed run ends with bit-identical parameters (on one thread).
//
// A file holds one LibTorch archive (torch::serialize::OutputArchive, a zip) with these keys:
//
//   format            string  "rnnprune.training_checkpoint"
//   version           int     kTrainingCheckpointVersion (2); readers refuse other versions
//   config_hash       string  the run's TrainOptions::config_hash (common/config_hash.h)
//   progress          string  JSON: epoch, step, global_step, steps_per_epoch, batch_size,
//                             epoch_nll_sum, epoch_tokens, epoch_train_seconds, tokens,
//                             train_seconds, epochs (finished EpochStats), diagnostics (the
//                             hooks' statistics so far); see TrainingProgress.
//                             Non-finite doubles are written as the strings "inf", "-inf", "nan".
//   model/names       string  JSON array of the model's parameter names, in named_parameters()
//                             order; model/<name> holds each tensor (shapes may be heterogeneous)
//   extra/count       int     number of TrainingHooks::ExtraParameters(); extra/<i> each tensor
//   optimizer         string  bytes of a LibTorch archive written by torch::optim::Optimizer::save
//                             (SGD: its param groups with their lr; momentum buffers when present)
//   extra_optimizer   string  the same for TrainingHooks::ExtraOptimizer() (e.g. Adam's step
//                             counts and moments for gate log_alpha); "" when the hooks have none
//   rng/torch_cpu     tensor  uint8 state of torch's default CPU generator (dropout, hard concrete
//                             noise, any torch::rand* without an explicit generator)
//   lstm/layers       int     carried BPTT state: lstm/h/<l>, lstm/c/<l> float32 [1, B, H_l];
//                             0 layers when the checkpoint sits at an epoch boundary
//   hook/names        string  JSON array of TrainingHooks::SaveTrainingState() names; hook/<name>
//                             each tensor (e.g. a pruning method's step counter and masks, or the
//                             bytes of an RNG of its own)
//
// New state goes in as new keys with a version bump; readers check every key they need.
#ifndef RNNPRUNE_PRUNING_TRAINING_CHECKPOINT_H_
#define RNNPRUNE_PRUNING_TRAINING_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "pruning/trainer.h"
#include "torch/optim/optimizer.h"
#include "torch/types.h"

namespace rnnprune {

// 2: extra_optimizer and progress.diagnostics (version 1 files are refused: resuming one would
// lose the extra parameters' optimiser state).
inline constexpr int kTrainingCheckpointVersion = 2;

// Where a run stands between two optimizer steps.
struct TrainingProgress {
  int epoch = 1;                    // 1-based epoch to run next (or in progress); epochs + 1 at
                                    // the end of training
  int64_t step = 0;                 // windows of `epoch` already trained; 0 at an epoch boundary
  int64_t global_step = 0;          // optimizer steps taken over all epochs
  int64_t steps_per_epoch = 0;      // of the run that wrote the checkpoint (checked on resume)
  int64_t batch_size = 0;           // ditto
  double epoch_nll_sum = 0;         // nats, summed over the target tokens trained in `epoch`
  int64_t epoch_tokens = 0;         // target tokens trained in `epoch`
  double epoch_train_seconds = 0;   // wall time of `epoch`'s steps so far (all processes)
  std::vector<EpochStats> epochs;   // finished epochs
  int64_t tokens = 0;               // over finished epochs
  double train_seconds = 0;         // over finished epochs
  nlohmann::json diagnostics = nlohmann::json::array();  // TrainResult::diagnostics so far
};

// The contents of a training checkpoint (see the file comment for the on-disk keys).
struct TrainingCheckpoint {
  std::string config_hash;
  TrainingProgress progress;
  std::vector<std::pair<std::string, torch::Tensor>> model_parameters;  // named_parameters order
  std::vector<torch::Tensor> extra_parameters;  // TrainingHooks::ExtraParameters() order
  std::string optimizer_state;                  // a LibTorch archive (Optimizer::save), bytes
  std::string extra_optimizer_state;            // the same for the hooks' ExtraOptimizer(); ""
                                                // when they have none
  torch::Tensor rng_state;                      // uint8 [n], torch's default CPU generator
  LstmState lstm_state;                         // carried state; empty at an epoch boundary
  std::map<std::string, torch::Tensor> hook_state;  // TrainingHooks::SaveTrainingState()
};

// Writes `checkpoint` to `path` atomically (common/files.h WriteFileAtomicallyWith: temporary
// file in the same folder, fsync, rename, folder fsync), so that a kill at any moment leaves
// either the previous checkpoint or the new one. Refuses to write bad state: FailedPrecondition
// naming the tensor when a model or extra parameter or the LSTM state holds NaN/Inf (the
// previous file is then untouched); InvalidArgument for a hook state name outside
// [A-Za-z0-9_./]+. Other errors name the path (I/O, serialisation).
absl::Status SaveTrainingCheckpoint(const TrainingCheckpoint& checkpoint, const std::string& path);

// Reads a checkpoint written by SaveTrainingCheckpoint; tensors are on the CPU. Errors, each
// naming `path`: NotFound (no file); InvalidArgument when the file is truncated, corrupt, not a
// training checkpoint, of another version, or lacks a key. Never throws; the file is left as it
// is.
absl::StatusOr<TrainingCheckpoint> LoadTrainingCheckpoint(const std::string& path);

// Captures the live state of a run (no copies of the parameters' storage beyond what the archive
// needs: tensors are detached aliases, so save before the next step): the model's named
// parameters, `hooks`' extra parameters and training state, `optimizer` serialised, torch's
// default CPU generator, and `lstm_state`; the hooks' ExtraOptimizer() state when they have one.
// Errors: InvalidArgument when an optimizer cannot be serialised (a LibTorch error).
absl::StatusOr<TrainingCheckpoint> CaptureTrainingCheckpoint(
    const LstmLm& model, TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
    const LstmState& lstm_state, const std::string& config_hash, const TrainingProgress& progress);

// Copies `checkpoint` into the live objects: the model's parameters (names, shapes and dtypes
// must match), the hooks' extra parameters (count and shapes must match) and training state
// (RestoreTrainingState), the optimizer's state and that of the hooks' ExtraOptimizer() (the
// checkpoint must hold one exactly when the hooks have one), and torch's default CPU generator. The carried
// LSTM state is returned through `lstm_state` when the checkpoint holds one (its shapes must be
// [1, batch_size, H_l]), else left as is. Sizes are checked before anything is changed.
// Errors: FailedPrecondition naming `path` and the first mismatch (parameter names or shapes,
// extra parameters, LSTM state, or the hooks' RestoreTrainingState error); InvalidArgument when
// LibTorch rejects the optimizer or generator state. After an error the live objects may be
// partly restored: do not train on.
absl::Status RestoreTrainingCheckpoint(const TrainingCheckpoint& checkpoint,
                                       const std::string& path, LstmLm& model,
                                       TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
                                       LstmState* lstm_state);

// SHA-256 (64 hex digits) of named tensors: for each, in order, its name, dtype, shape and raw
// contiguous CPU bytes. Two runs with bit-identical parameters give the same hash.
std::string TensorsSha256(const std::vector<std::pair<std::string, torch::Tensor>>& tensors);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_TRAINING_CHECKPOINT_H_
