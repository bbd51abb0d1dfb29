// Training and evaluation of LSTM language models, shared by the dense baseline and every
// pruning method: truncated BPTT with the state carried across windows (Zaremba et al. 2014),
// plain SGD with a global gradient-norm clip and the step-decay schedule, and perplexity.
// Training can write checkpoints as it goes and resume from one after a kill
// (training/lm_training_checkpoint.h holds the format).
#ifndef RNNPRUNE_TRAINING_LM_TRAINER_H_
#define RNNPRUNE_TRAINING_LM_TRAINER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "models/zaremba.h"
#include "nlohmann/json.hpp"
#include "torch/optim/optimizer.h"
#include "torch/types.h"
#include "training/data_parallel.h"
#include "training/hooks.h"

namespace rnnprune {

// Options of Train.
struct TrainOptions {
  ZarembaSchedule schedule;
  // Stop each epoch after this many windows (0: the whole training split). For smoke runs and
  // for the phases of the pruning protocol (pruning/protocol.h).
  int64_t max_steps_per_epoch = 0;
  // Each epoch starts at this BPTT window of the training split (0: its first) and trains the
  // windows after it, up to max_steps_per_epoch of them: a run that continues another on the
  // next windows (the recovery phase after the search phase) sees data the first did not.
  // In [0, windows of the split).
  int64_t first_window = 0;
  // Progress line every this many steps (0: about 10 lines per epoch).
  int64_t log_every_steps = 0;
  // Validation perplexity after each epoch (batch 1, state carried, the standard protocol);
  // restricted to the first `max_eval_tokens` tokens when > 0.
  bool eval_each_epoch = true;
  int64_t max_eval_tokens = 0;
  // Hooks' Diagnostics() every this many optimizer steps (counted over all epochs, starting with
  // step 0, before any update) and after the last step; 0: only after the last step.
  int64_t diagnostics_every_steps = 0;
  // Receives progress lines; by default they go to stderr.
  std::function<void(const std::string&)> log;

  // Training checkpoints (training/lm_training_checkpoint.h); empty = none. Written atomically
  // after every `checkpoint_every_steps` optimizer steps (counted over all epochs; 0 = only at
  // epoch ends) and at the end of every epoch (after its validation), replacing the previous one.
  std::string checkpoint_path;
  int64_t checkpoint_every_steps = 0;
  // With a checkpoint at checkpoint_path: continue from it (parameters, hooks' state, optimizer,
  // RNG, carried LSTM state, schedule position, stats so far) instead of starting over; on one
  // thread the result is bit-identical to an uninterrupted run. Without one: start from scratch
  // (the log says so). Ignored when checkpoint_path is empty.
  bool resume = false;
  // Identity of everything that determines the run (common/config_hash.h ConfigHash of the
  // model, schedule, data, seed, method, ...). Recorded in checkpoints; resuming from a
  // checkpoint with another hash is refused. Required when checkpoint_path is set.
  std::string config_hash;

  // Data-parallel training (not owned; null or a group of one: this process alone). Each rank
  // trains its share of the schedule's batch_size streams (DataParallel::ShareOf: contiguous
  // columns of the batchified split), draws the dropout masks and gate noise of the whole batch
  // and keeps its rows, and its loss is scaled by its share of the batch (the penalty by
  // 1 / world_size), so that the all-reduced (summed) gradients, the clip and the update equal
  // one process's on the whole batch. The hooks' extra parameters' gradients are summed too.
  // Rank 0 alone writes the checkpoint (the carried LSTM state gathered from every rank) and
  // logs; every rank resumes from it and they check that they stand at the same step with the
  // same parameters. Validation runs on every rank (the same numbers; no communication).
  DataParallel* data_parallel = nullptr;
};

// Per-epoch record.
struct EpochStats {
  int epoch = 0;  // 1-based
  double learning_rate = 0;
  int64_t steps = 0;             // BPTT windows trained
  int64_t tokens = 0;            // target tokens trained (T * B per window)
  double train_perplexity = 0;   // exp(mean training NLL, nats/token) over the epoch
  double valid_perplexity = 0;   // 0 when not evaluated
  double train_seconds = 0;      // wall time of the training steps (no evaluation)
  double tokens_per_second = 0;  // tokens / train_seconds
};

struct TrainResult {
  std::vector<EpochStats> epochs;
  int64_t tokens = 0;
  double train_seconds = 0;
  double tokens_per_second = 0;  // over all epochs, training steps only
  // Set when the run continued from a training checkpoint, with the number of optimizer steps
  // (over all epochs) that checkpoint had taken.
  bool resumed = false;
  int64_t resumed_at_global_step = 0;
  // The hooks' Diagnostics(), when they give any: an array of objects {"step": optimizer steps
  // taken, ...the hooks' fields}, in step order (see TrainOptions::diagnostics_every_steps).
  nlohmann::json diagnostics = nlohmann::json::array();
};

// `r` as JSON: {"epochs": [{"epoch", "learning_rate", "steps", "tokens", "train_perplexity",
// "valid_perplexity", "train_seconds", "tokens_per_second"}...], "tokens", "train_seconds",
// "tokens_per_second", "resumed", "resumed_at_global_step", "diagnostics"} (the records' and
// the protocol's format; doubles as JSON numbers).
nlohmann::json TrainResultToJson(const TrainResult& r);
// Reads what TrainResultToJson wrote. Errors: InvalidArgument naming the missing or mistyped
// field.
absl::StatusOr<TrainResult> TrainResultFromJson(const nlohmann::json& j);

// Target tokens of one whole epoch over a training stream of `stream_tokens` tokens read as
// `batch_size` parallel streams (Batchify): batch_size * (stream_tokens / batch_size - 1), the
// N of "lambda / N" penalties (pruning/method.h PenaltyScale). 0 when the stream is too short.
int64_t EpochTrainingTokens(int64_t stream_tokens, int64_t batch_size);

// Trains `model` in place on `train_ids` [N] (int64) with SGD: for each window the loss is the
// NLL summed over its time steps and averaged over the batch (Zaremba's normalisation; lr 1.0
// applies to it), plus hooks->Penalty(model). Gradients are clipped to a global L2 norm of
// schedule.max_grad_norm. The lr of epoch e is lr * lr_decay^max(e - decay_after_epochs, 0).
// `hooks` may be null (dense training). See TrainOptions for checkpoints and resuming; hooks
// with state of their own must implement SaveTrainingState / RestoreTrainingState.
// Errors: InvalidArgument for bad options or data, or a corrupt/truncated checkpoint (naming
// its path; the file is left in place); FailedPrecondition when the checkpoint was made under
// another config_hash (naming both hashes and the path) or does not fit the run; Internal when
// the loss or a gradient (model or extra parameters) becomes NaN/Inf, stopping before that
// update, or when a parameter or the LSTM state holds NaN/Inf as a checkpoint is due (each
// naming the epoch, step and tensor): the bad state is never written, the last checkpoint stays
// as it was; any error writing a checkpoint (naming the path).
absl::StatusOr<TrainResult> Train(LstmLm& model, const torch::Tensor& train_ids,
                                  const torch::Tensor& valid_ids, const TrainOptions& options,
                                  TrainingHooks* hooks = nullptr);

// Result of an evaluation pass.
struct EvalResult {
  double mean_nll_nats = 0;  // mean negative log-likelihood per token, nats
  double perplexity = 0;     // exp(mean_nll_nats)
  int64_t tokens = 0;        // predicted tokens
  double seconds = 0;        // wall time
};

// Perplexity of `model` on the stream `ids` [N] (int64), read as `batch_size` parallel streams
// (Batchify) in windows of `bptt` with the state carried across windows, in eval mode (no
// dropout) without gradients. batch_size 1 is the standard protocol (every token but the first
// is predicted with its full history); larger batches are faster and slightly pessimistic and
// must be labelled as such. `max_tokens` > 0 evaluates only the first max_tokens tokens.
// `hooks` (may be null) supplies the forward pass. Restores the model's training mode.
// `progress` (may be empty) receives a line every kEvalProgressSeconds of wall time ("12,250 of
// 82,430 tokens (15%), 31 s, about 3 min left"): a batch-1 pass over a split takes minutes.
// Errors: InvalidArgument (bad sizes), or a LibTorch error turned into a Status.
absl::StatusOr<EvalResult> EvaluatePerplexity(
    LstmLm& model, const torch::Tensor& ids, int64_t batch_size = 1, int64_t bptt = 35,
    int64_t max_tokens = 0, TrainingHooks* hooks = nullptr,
    const std::function<void(const std::string&)>& progress = nullptr);

// Seconds between EvaluatePerplexity's progress lines.
inline constexpr double kEvalProgressSeconds = 30;

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_LM_TRAINER_H_
