// The pruning protocol for BiDAF (issue 16, item 4; the PTB protocol of README.md, *The pruning
// protocol*, on SQuAD): from the parent, a search phase under a method's hooks, its final gates
// compacted into a smaller BiDAF (pruning/bidaf_compaction.h), a recovery phase of plain
// fine-tuning of exactly that network, then exact match and F1 on the evaluation questions. An
// unstructured method's final weight masks zero the masked LSTM weights instead, held at 0
// through the recovery phase (pruning/model_method.h HeldWeightMasks). A
// structure fixed from the parent (structured magnitude, random removal) is compacted at once
// and trains for the whole budget; the dense control trains the parent for the whole budget.
// Nothing here names a method: a plan brings one through its model-agnostic interface.
#ifndef RNNPRUNE_BENCHMARKS_BIDAF_PRUNING_H_
#define RNNPRUNE_BENCHMARKS_BIDAF_PRUNING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/squad.h"
#include "models/bidaf.h"
#include "models/prunable_model.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {

struct BidafPruningPlan {
  // The method in its model-agnostic form (pruning/model_method.h, CreateModelMethod; not
  // owned): Begin on a copy of the parent, the search phase under its hooks (none when its
  // structure is fixed at the start), its final gates compacted. Null: the parent trains on
  // for the whole budget, nothing removed.
  ModelMethod* method = nullptr;
  // The budget: `search` then `recovery` (their epochs are S and M; `hooks` is set from the
  // method). Without a search phase (a structure fixed at the start, or no method) the deployed
  // model trains one run of S + M epochs with `recovery`'s other options: every method gets the
  // same budget.
  BidafTrainOptions search, recovery;
  int64_t eval_batch_size = 32;    // >= 1
  int64_t max_answer_tokens = 30;  // >= 0, the span cap of the scoring
};

struct BidafPruningOutcome {
  Bidaf model{nullptr};  // the deployed model: compacted, or the dense one (control)
  // The final gates (empty for the control and the unstructured methods) and the kept neurons
  // per LSTM direction.
  NeuronGates gates;
  std::map<std::string, int64_t> kept_inputs, kept_hidden;
  // An unstructured method's final masks of the LSTM weight matrices (true = kept; empty
  // otherwise): the deployed model is the parent's shape with zeros where they are false, held
  // at 0 through the recovery phase.
  std::map<std::string, torch::Tensor> weight_masks;
  int64_t lstm_parameters = 0;  // of the deployed model's LSTMs (every direction)
  // Non-zero entries of those LSTM parameters (what an irregular-sparse format stores), and the
  // fraction of the masked LSTM weight-matrix entries that are pruned (0 without masks).
  int64_t lstm_nonzero_parameters = 0;
  double lstm_weight_sparsity = 0;
  int64_t parameters = 0;  // of the whole deployed model (the word embedding included)
  std::optional<BidafTrainResult> search;  // when the plan has a search phase
  BidafTrainResult recovery;               // the training of the deployed model
  BidafEvalResult eval;                    // on the evaluation questions (none: zero)
};

// Elements of `tensors` in all, and the parameters of every LSTM direction of `model` (W_ih,
// W_hh and both biases; of the compacted sizes for a compacted model).
int64_t CountParameters(const std::vector<torch::Tensor>& tensors);
int64_t BidafLstmParameters(const Bidaf& model);
// The non-zero entries of those LSTM parameters.
int64_t BidafLstmNonZeroParameters(const Bidaf& model);

// Runs `plan` from a deep copy of `parent` (left unchanged) on `train` (validation scored after
// every epoch when `validation` is non-empty) and scores `eval` (when non-empty: a sweep choosing
// on the validation part leaves it empty, and `eval` in the outcome zero). Errors: those of the
// method's Begin and FinalGates, TrainBidaf and EvaluateBidaf; InvalidArgument from the compaction
// (a direction left with no neuron is named: the structure collapsed).
absl::StatusOr<BidafPruningOutcome> RunBidafPruning(const Bidaf& parent,
                                                    const std::vector<SquadExample>& train,
                                                    const std::vector<SquadExample>& validation,
                                                    const std::vector<SquadExample>& eval,
                                                    BidafPruningPlan plan);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_BIDAF_PRUNING_H_
