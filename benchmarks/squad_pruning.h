// The BiDAF pruning runs of the main job's squad task (issue 16, items 4 to 6): every method of
// the preset's squad_methods, at each of its settings, from the squad task's trained parent,
// with the protocol and budget of benchmarks/bidaf_pruning.h (search phase, compaction, recovery
// phase; fixed structures and the dense control train the whole budget), then exact match and
// F1 on the evaluation questions and the questions/s of the deployed network against the parent,
// timed side by side (benchmarks/bidaf_timing.h). Methods taking sizes (structured magnitude,
// random) run at the kept sizes of every L0 run (l0, l0_speed) of the same preset, so that they
// compare at identical sizes. Each run is a record
// (reporting/bidaf_pruning_record.h) re-used by config hash and resumable after a kill.
#ifndef RNNPRUNE_BENCHMARKS_SQUAD_PRUNING_H_
#define RNNPRUNE_BENCHMARKS_SQUAD_PRUNING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"
#include "datasets/squad.h"
#include "models/bidaf.h"
#include "reporting/bidaf_pruning_record.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {

// What the runs start from (the example lists are not owned and outlive the call).
struct SquadPruningInputs {
  // The trained parent, its moving average folded in (a holder sharing the module; unchanged).
  Bidaf parent{nullptr};
  std::string parent_hash;  // the squad record's config hash
  std::string protocol;     // "local" or "official", for the records
  const std::vector<SquadExample>* train = nullptr;
  const std::vector<SquadExample>* validation = nullptr;  // scored after every epoch; may be empty
  // Scored once per run; empty in a sweep choosing on the validation part (--noevaluate_test:
  // the records then hold no exact match or F1 on them, and the timing uses validation questions).
  const std::vector<SquadExample>* eval = nullptr;
  // The parent's schedule (optimizer, learning rate, batch size, moving average, seed, log);
  // epochs, checkpoints, validation and hooks are set per phase.
  BidafTrainOptions training;
  int64_t eval_batch_size = 100;  // >= 1
};

// The record file of one run: <reports_dir>/results/bidaf_pruning_<preset>_<method>_<12 hex
// digits of hash>.json.
std::string BidafPruningRecordPath(const TaskContext& context, const std::string& method,
                                   const std::string& hash);

// Runs (or re-uses, unless context.options.force) every run of context.preset.squad_methods, in
// the order: the lambda-free ones (the dense control), the kLambda ones at each of their
// squad_settings (or their registered defaults), then the size-taking ones at each L0 run's
// sizes; writes each record as it finishes. A run whose structure collapses (a direction with
// every neuron closed) is recorded with collapsed = true and its error instead of failing the
// job. Checkpoints of an unfinished run (<output_dir>/bidaf_pruning_<preset>_<method>_<hash>
// .{search,recovery}.ckpt, every checkpoint_every_steps steps) are resumed and removed once its
// record is written. Errors: a method with no model-agnostic form (Unimplemented naming it,
// before any run starts), unknown methods (NotFound), the runs' training, evaluation and file
// errors.
absl::StatusOr<std::vector<BidafPruningRecord>> RunSquadPruning(const TaskContext& context,
                                                                const SquadPruningInputs& in);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SQUAD_PRUNING_H_
