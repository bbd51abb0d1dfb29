// Training and evaluating BiDAF (models/bidaf.h) on SQuAD v1.1 examples (datasets/squad.h).
// Training follows Seo et al. 2017, Section 4 "Training details": AdaDelta at lr 0.5, batches of
// 60 questions, 12 epochs, and an exponential moving average of the weights (decay 0.999) used
// at test time. Evaluation decodes the best span (models/bidaf_spans.h), maps it back to the
// exact substring of the context and scores it as the official SQuAD v1.1 evaluation
// (evaluate-v1.1.py; datasets/squad_metric.h) does.
#ifndef RNNPRUNE_TRAINING_BIDAF_TRAINER_H_
#define RNNPRUNE_TRAINING_BIDAF_TRAINER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/squad.h"
#include "models/bidaf.h"
#include "nlohmann/json.hpp"
#include "training/data_parallel.h"
#include "training/model_hooks.h"

namespace rnnprune {

// Options of TrainBidaf; the defaults are the paper's (Section 4).
struct BidafTrainOptions {
  int64_t epochs = 12;                 // >= 1
  int64_t max_steps_per_epoch = 0;     // >= 0; stop each epoch after this many batches; 0 = all
  int64_t batch_size = 60;             // >= 1, questions per batch
  std::string optimizer = "adadelta";  // "adadelta" (the paper; training/adadelta.h) or "adam"
  // >= 0. 0 = the optimiser's default: 0.5 for adadelta (the paper), 1e-3 for adam (Kingma & Ba).
  double learning_rate = 0;
  // In [0, 1): decay of the exponential moving average of the trainable weights
  // (training/moving_average.h), updated after every step; 0 = no average.
  double ema_decay = 0.999;
  // >= 0: clip the gradient to this global L2 norm before each step; 0 = no clip (the paper).
  double max_grad_norm = 0;
  // Seeds the global torch RNG (dropout) at the start and the batch order: epoch e (1-based)
  // uses LengthGroupedBatches(..., seed + e).
  uint64_t seed = 1;
  // >= 0: a progress line every this many steps (epoch, step, loss in nats, questions/s, ETA);
  // 0 = about 10 lines per epoch.
  int64_t log_every_steps = 0;
  // Receives progress lines (called on the training thread); by default they go to stderr.
  std::function<void(const std::string&)> log;

  // Training checkpoints (format: training/bidaf_training_checkpoint.h); empty = none. Written
  // atomically after every `checkpoint_every_steps` optimizer steps (>= 0, counted over all
  // epochs; 0 = only at epoch ends) and at the end of every epoch, each replacing the previous
  // one. A step whose loss or gradient is NaN/Inf stops training before anything is written, so
  // the last good checkpoint stays.
  std::string checkpoint_path;
  int64_t checkpoint_every_steps = 0;
  // With a checkpoint at checkpoint_path: continue from it (every parameter and buffer, the
  // optimizer's state, the moving average, torch's CPU generator, the position, the stats and
  // step losses so far) from the step after it, on the same batches in the same order, instead
  // of starting over; on one thread the result is bit-identical to an uninterrupted run.
  // Without one: start from scratch (the log says so). Ignored when checkpoint_path is empty.
  bool resume = false;
  // Identity of everything that determines the run (common/config_hash.h ConfigHash of the
  // model, options, data, seed). Recorded in checkpoints; resuming from a checkpoint with
  // another hash is refused. Required (non-empty) when checkpoint_path is set.
  std::string config_hash;

  // Questions scored after every epoch (EvaluateBidaf: exact match and F1 in percent) with the
  // weights evaluation uses: the moving average when ema_decay > 0 (swapped in for the scoring
  // and back out, bit for bit), else the trained ones. A validation part carved from the
  // training articles (datasets/squad_split.h), on which epochs and learning rates are chosen.
  // Null or empty: none. Not owned; must outlive TrainBidaf. Scoring uses no random numbers, so
  // resuming stays bit-identical; its time is not part of the epochs' seconds.
  const std::vector<SquadExample>* validation = nullptr;
  int64_t validation_batch_size = 32;  // >= 1
  int64_t max_answer_tokens = 30;      // >= 0 (0 = no cap): the span decoding of the scoring

  // A pruning method's hooks (training/model_hooks.h; not owned, must outlive TrainBidaf); null:
  // plain training. Each step runs the forward pass the hooks ask for (ModelHooks::Forward in
  // training mode), adds their penalty to the loss, steps their extra parameters with their
  // optimizer after the weights' step, then calls AfterStep before the moving-average update;
  // the validation scoring runs their evaluation forward pass. Their extra parameters and the
  // state of their optimizer are part of the training checkpoints.
  ModelHooks* hooks = nullptr;

  // Data-parallel training (training/data_parallel.h; not owned; null or a group of one: this
  // process alone). Every rank builds each global batch and trains its rows
  // (DataParallel::ShareOf, RowsOfBidafBatch), drawing the dropout masks and gate noise of the
  // whole batch (models/batch_share.h); its loss is scaled by its share of the batch and the
  // hooks' penalty by 1 / world_size, and the gradients (the hooks' extra parameters' too) are
  // summed by all-reduce before the clip and the step, so every rank takes the update one
  // process takes on the whole batch. Rank 0 alone logs and writes the checkpoints; every rank
  // resumes from them (they check that they stand at the same step with the same parameters)
  // and scores the validation part (the same numbers). Each batch needs >= world_size questions.
  DataParallel* data_parallel = nullptr;

  // The learning rate training uses: learning_rate, or the optimiser's default when it is 0.
  double EffectiveLearningRate() const;
  // OK, or InvalidArgument naming the field, its value and the rule above (e.g.
  // "BidafTrainOptions.batch_size=0 must be >= 1").
  absl::Status Validate() const;
};

// Per-epoch record of TrainBidaf.
struct BidafEpochStats {
  int64_t epoch = 0;                // 1-based
  int64_t steps = 0;                // batches trained
  int64_t questions = 0;            // questions trained (sum of batch sizes)
  double mean_loss_nats = 0;        // BidafLoss averaged over the epoch's questions, nats
  double seconds = 0;               // wall time of the epoch (batching, forward, backward, step)
  double questions_per_second = 0;  // questions / seconds
  // Scores on BidafTrainOptions::validation after the epoch (percent), when it has examples.
  bool validated = false;
  double validation_exact_match = 0, validation_f1 = 0;
  double validation_seconds = 0;  // wall time of the scoring, seconds
};

struct BidafTrainResult {
  int64_t steps = 0;                // optimiser steps over all epochs
  int64_t questions = 0;            // questions trained over all epochs
  double seconds = 0;               // wall time of training, seconds
  double questions_per_second = 0;  // questions / seconds
  std::vector<BidafEpochStats> epochs;
  // BidafLoss of every step, in order (nats per question, the batch mean before the update).
  std::vector<double> step_losses_nats;
  double final_loss_nats = 0;  // step_losses_nats.back()
  // True when the model holds the moving average of its weights (ema_decay > 0).
  bool holds_averaged_weights = false;
  // Set when the run continued from a training checkpoint, with the number of optimizer steps
  // (over all epochs) that checkpoint had taken. The fields above then cover the whole run,
  // the steps before the checkpoint included (seconds: the wall time of every process's steps).
  bool resumed = false;
  int64_t resumed_at_global_step = 0;
  // ModelHooks::Diagnostics after the last step (null without hooks or statistics).
  nlohmann::json diagnostics;
};

// Trains `model` in place on `train`. Each epoch cuts the examples into length-grouped batches
// (LengthGroupedBatches with seed + epoch), and for each batch: MakeBidafBatch, forward in train
// mode (dropout as configured in the model), BidafLoss (nats per question), backward, optional
// clip, one optimiser step over the trainable parameters (the frozen GloVe embedding is not
// one), then the moving-average update. The global torch RNG is seeded with options.seed first,
// so on one thread (torch::set_num_threads(1)) the same model, data and options give a
// bit-identical loss history. At the end, when ema_decay > 0, the model's trainable weights are
// replaced by their moving average (the last trained values are dropped), as the paper
// evaluates; its training mode is restored to what it was on entry.
// With options.checkpoint_path set, training checkpoints are written as it goes, and with
// options.resume the run continues from an existing one (see BidafTrainOptions).
// Errors: InvalidArgument for bad options (Validate), empty `train`, a batch the model refuses
// (message names epoch, step and the example), or a truncated/corrupt checkpoint (naming its
// path; the file is left in place); FailedPrecondition when the checkpoint was made under
// another config_hash (naming both hashes and the path; the file is left in place) or does not
// fit the run (model, optimizer, batches per epoch); Internal when the loss or a gradient is
// NaN/Inf, naming the epoch and step (1-based) and the tensor ("loss", or the parameter's
// name, e.g. "output_fw_w_ih" or "w_start"): training stops before that update, no checkpoint
// is written after it, and the model keeps the weights it had then (not the average); any
// error writing a checkpoint (naming the path).
absl::StatusOr<BidafTrainResult> TrainBidaf(Bidaf& model, const std::vector<SquadExample>& train,
                                            const BidafTrainOptions& options);

struct BidafEvalResult {
  double exact_match = 0;  // percent in [0, 100], official v1.1 metric
  double f1 = 0;           // percent in [0, 100]
  int64_t questions = 0;
  double seconds = 0;               // wall time (batching, forward, decoding, scoring)
  double questions_per_second = 0;  // questions / seconds
  // Question id -> predicted answer, the exact context substring of the decoded span.
  std::map<std::string, std::string> predictions;
};

// Evaluates `model` on `examples` in eval mode (no dropout) without gradients: batches of
// `batch_size` (>= 1) questions in order of context length (ties in input order, so the result
// does not depend on a seed), DecodeSpans with `max_answer_tokens` (>= 0, 0 = no cap, the
// paper's rule), the predicted text context.substr(tokens[first].begin, tokens[last].end -
// tokens[first].begin), and for each question the maximum exact match and F1 over its
// gold_texts (MaxExactMatch / MaxF1), averaged over the questions and multiplied by 100 -- the
// same numbers as EvaluateSquad on the official JSON. The model's training mode is restored.
// Errors: InvalidArgument for batch_size < 1, max_answer_tokens < 0, no example, a duplicate
// question id, an example whose context_tokens do not match its words or lie outside its
// context text, or a batch the model refuses (each naming the question id).
absl::StatusOr<BidafEvalResult> EvaluateBidaf(Bidaf& model,
                                              const std::vector<SquadExample>& examples,
                                              int64_t batch_size, int64_t max_answer_tokens);
// EvaluateBidaf with the forward pass a pruning method asks for in evaluation
// (ModelHooks::Forward with the model in eval mode, e.g. deterministic gates folded into the
// weights); null `hooks`: the model's own.
absl::StatusOr<BidafEvalResult> EvaluateBidaf(Bidaf& model,
                                              const std::vector<SquadExample>& examples,
                                              int64_t batch_size, int64_t max_answer_tokens,
                                              ModelHooks* hooks);

// The answer text of tokens [first, last] of `example`: its exact context substring. Errors:
// InvalidArgument naming the question when 0 <= first <= last < context_tokens.size() fails or
// the tokens' byte spans fall outside `context`.
absl::StatusOr<std::string> SpanText(const SquadExample& example, int64_t first, int64_t last);

// Writes result.predictions as the official predictions file ({"question id": "answer", ...},
// one JSON object, UTF-8), atomically (WriteFileAtomically: a reader never sees half a file).
// Errors: InvalidArgument when a text is not valid UTF-8; those of WriteFileAtomically (naming
// the path) otherwise.
absl::Status WritePredictionsJson(const BidafEvalResult& result, const std::string& path);

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_BIDAF_TRAINER_H_
