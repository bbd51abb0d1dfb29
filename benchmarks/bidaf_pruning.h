// The pruning protocol for BiDAF (issue 16, item 4; the PTB protocol of README.md, *The pruning
// protocol*, on SQuAD): from the parent, a search phase under a method's hooks, its final gates
// compacted into a smaller BiDAF (pruning/bidaf_compaction.h), a recovery phase of plain
// fine-tuning of exactly that network, then exact match and F1 on the evaluation questions. A
// structure fixed from the parent (structured magnitude, random removal) is compacted at once
// and trains for the whole budget; the dense control trains the parent for the whole budget.
// Nothing here names a method: a plan brings the hooks and the rule for the final gates.
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
#include "pruning/neuron_gates.h"
#include "training/bidaf_trainer.h"
#include "training/model_hooks.h"

namespace rnnprune {

struct BidafPruningPlan {
  // The method's hooks for the search phase (not owned); null: no search-phase training of its
  // own (the dense control, or a structure fixed at the start).
  ModelHooks* hooks = nullptr;
  // The final gates, from the model after the search (or from the parent when fixed_at_start);
  // null: no pruning (the dense control).
  std::function<absl::StatusOr<NeuronGates>(const PrunableModelView& model)> final_gates;
  bool fixed_at_start = false;
  // The budget: `search` then `recovery` (their epochs are S and M); `hooks` is set from above.
  // A plan without search-phase training (fixed_at_start, or the control) trains one run of
  // S + M epochs with `recovery`'s other options, so that every method gets the same budget.
  BidafTrainOptions search, recovery;
  int64_t eval_batch_size = 32;    // >= 1
  int64_t max_answer_tokens = 30;  // >= 0, the span cap of the scoring
};

struct BidafPruningOutcome {
  Bidaf model{nullptr};  // the deployed model: compacted, or the dense one (control)
  // The final gates (empty for the control) and the kept neurons per LSTM direction.
  NeuronGates gates;
  std::map<std::string, int64_t> kept_inputs, kept_hidden;
  int64_t lstm_parameters = 0;  // of the deployed model's LSTMs (every direction)
  int64_t parameters = 0;       // of the whole deployed model (the word embedding included)
  std::optional<BidafTrainResult> search;  // when the plan has a search phase
  BidafTrainResult recovery;               // the training of the deployed model
  BidafEvalResult eval;                    // on the evaluation questions
};

// Runs `plan` from a deep copy of `parent` (left unchanged) on `train` (validation scored after
// every epoch when `validation` is non-empty) and scores `eval`. Errors: those of TrainBidaf and
// EvaluateBidaf; InvalidArgument from the final gates (a direction left with no neuron is named:
// the structure collapsed).
absl::StatusOr<BidafPruningOutcome> RunBidafPruning(const Bidaf& parent,
                                                    const std::vector<SquadExample>& train,
                                                    const std::vector<SquadExample>& validation,
                                                    const std::vector<SquadExample>& eval,
                                                    BidafPruningPlan plan);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_BIDAF_PRUNING_H_
