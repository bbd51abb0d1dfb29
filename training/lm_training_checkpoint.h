// The LM trainer's view of its training checkpoints: everything Train (training/lm_trainer.h)
// needs to continue a run that was killed, so that the resumed run ends with bit-identical
// parameters (on one thread). Stored in the one container of training/checkpoint.h (trainer
// "lstm_lm") as:
//
//   progress            the fields of LmTrainingProgress (finished EpochStats and the hooks'
//                       diagnostics included); non-finite doubles as "inf", "-inf", "nan"
//   group "model"       the model's named_parameters(), in order (shapes may be heterogeneous)
//   group "extra"       TrainingHooks::ExtraParameters(), named "0", "1", ...
//   group "lstm"        carried BPTT state "h/<l>", "c/<l>" float32 [1, B, H_l]; empty when the
//                       checkpoint sits at an epoch boundary
//   group "hook"        TrainingHooks::SaveTrainingState() (e.g. a method's step counter, masks
//                       or the bytes of an RNG of its own)
//   optimizer "weights" the weights' SGD (its param groups with their lr; momentum if any)
//   optimizer "extra"   TrainingHooks::ExtraOptimizer() (e.g. Adam's moments for gate
//                       log_alpha), present exactly when the hooks have one
#ifndef RNNPRUNE_TRAINING_LM_TRAINING_CHECKPOINT_H_
#define RNNPRUNE_TRAINING_LM_TRAINING_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/lstm_lm.h"
#include "torch/optim/optimizer.h"
#include "torch/types.h"
#include "training/checkpoint.h"
#include "training/lm_trainer.h"

namespace rnnprune {

// Where a run stands between two optimizer steps.
struct LmTrainingProgress {
  int epoch = 1;                   // 1-based epoch to run next (or in progress); epochs + 1 at
                                   // the end of training
  int64_t step = 0;                // windows of `epoch` already trained; 0 at an epoch boundary
  int64_t global_step = 0;         // optimizer steps taken over all epochs
  int64_t steps_per_epoch = 0;     // of the run that wrote the checkpoint (checked on resume)
  int64_t batch_size = 0;          // ditto
  double epoch_nll_sum = 0;        // nats, summed over the target tokens trained in `epoch`
  int64_t epoch_tokens = 0;        // target tokens trained in `epoch`
  double epoch_train_seconds = 0;  // wall time of `epoch`'s steps so far (all processes)
  std::vector<EpochStats> epochs;  // finished epochs
  int64_t tokens = 0;              // over finished epochs
  double train_seconds = 0;        // over finished epochs
  nlohmann::json diagnostics = nlohmann::json::array();  // TrainResult::diagnostics so far
};

// The contents of an LM training checkpoint (see the file comment for where each field goes).
struct LmTrainingCheckpoint {
  std::string config_hash;
  LmTrainingProgress progress;
  std::vector<std::pair<std::string, torch::Tensor>> model_parameters;  // named_parameters order
  std::vector<torch::Tensor> extra_parameters;      // TrainingHooks::ExtraParameters() order
  std::string optimizer_state;                      // a LibTorch archive (Optimizer::save), bytes
  std::string extra_optimizer_state;                // the same for the hooks' ExtraOptimizer(); ""
                                                    // when they have none
  torch::Tensor rng_state;                          // uint8 [n], torch's default CPU generator
  LstmState lstm_state;                             // carried state; empty at an epoch boundary
  std::map<std::string, torch::Tensor> hook_state;  // TrainingHooks::SaveTrainingState()
};

// Writes `checkpoint` to `path` through the container (training/checkpoint.h
// SaveTrainingCheckpoint: atomic; nothing written on error). Errors: FailedPrecondition naming
// the group and tensor ("model 'lstm0_w_ih'", "extra '0'", "lstm 'c/0'", "hook '...'") when a
// floating-point tensor holds NaN/Inf (the previous file is then untouched); InvalidArgument for
// a hook state name outside [A-Za-z0-9_./]+ or LSTM state with different h and c layer counts.
// Other errors name the path (I/O, serialisation).
absl::Status SaveLmTrainingCheckpoint(const LmTrainingCheckpoint& checkpoint,
                                      const std::string& path);

// Reads a checkpoint written by SaveLmTrainingCheckpoint from `bytes` (`what` names it in
// errors); tensors are on the CPU. Everything the container checks (ParseTrainingCheckpoint),
// then the LM's own consistency: every progress field present and typed, a position inside the
// epoch (0 <= step < steps_per_epoch, one EpochStats per finished epoch, global_step =
// (epoch - 1) * steps_per_epoch + step), LSTM state exactly when mid-epoch, as many c as h
// layers, extra parameters named 0..n-1. Errors: InvalidArgument naming `what`. Never throws.
absl::StatusOr<LmTrainingCheckpoint> ParseLmTrainingCheckpoint(absl::string_view bytes,
                                                               const std::string& what);

// ParseLmTrainingCheckpoint of the file at `path`. Errors: NotFound (no file), else as
// ParseLmTrainingCheckpoint, naming `path`. The file is left as it is.
absl::StatusOr<LmTrainingCheckpoint> LoadLmTrainingCheckpoint(const std::string& path);

// Captures the live state of a run (no copies of the parameters' storage beyond what the archive
// needs: tensors are detached aliases, so save before the next step): the model's named
// parameters, `hooks`' extra parameters and training state, `optimizer` serialised, torch's
// default CPU generator, and `lstm_state`; the hooks' ExtraOptimizer() state when they have one.
// Errors: InvalidArgument when an optimizer cannot be serialised (a LibTorch error).
absl::StatusOr<LmTrainingCheckpoint> CaptureLmTrainingCheckpoint(
    const LstmLm& model, TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
    const LstmState& lstm_state, const std::string& config_hash,
    const LmTrainingProgress& progress);

// Copies `checkpoint` into the live objects: the model's parameters (names, shapes and dtypes
// must match), the hooks' extra parameters (count and shapes must match) and training state
// (RestoreTrainingState), the optimizer's state and that of the hooks' ExtraOptimizer() (the
// checkpoint must hold one exactly when the hooks have one), and torch's default CPU generator. The
// carried LSTM state is returned through `lstm_state` when the checkpoint holds one (its shapes
// must be [1, batch_size, H_l]), else left as is. Sizes are checked before anything is changed.
// Errors: FailedPrecondition naming `path` and the first mismatch (parameter names or shapes,
// extra parameters, LSTM state, or the hooks' RestoreTrainingState error); InvalidArgument when
// LibTorch rejects the optimizer or generator state. After an error the live objects may be
// partly restored: do not train on.
absl::Status RestoreLmTrainingCheckpoint(const LmTrainingCheckpoint& checkpoint,
                                         const std::string& path, LstmLm& model,
                                         TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
                                         LstmState* lstm_state);

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_LM_TRAINING_CHECKPOINT_H_
