// The main job behind `bazel run //benchmarks:all`: runs the tasks of a preset (ptb, squad,
// speed: benchmarks/*_task.h) in order, each writing its results under <reports_dir>/results/
// and its Markdown report.
#ifndef RNNPRUNE_BENCHMARKS_SUITE_H_
#define RNNPRUNE_BENCHMARKS_SUITE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Validates `options` (ValidateSuiteOptions), creates and locks the output and results folders
// (<folder>/.lock, flock, released even on a kill: a second suite on the same folders stops
// with FailedPrecondition), checks that both can be written, sets the thread count and runs
// options.tasks in order (ptb: benchmarks/ptb_task.h; squad: benchmarks/squad_task.h; speed:
// benchmarks/speed_task.h). Returns every task's records in order. Errors: bad options, an
// unwritable or full folder (naming it).
// Prints "[job] run k of N" with an ETA as runs start (benchmarks/job_progress.h). A run that
// fails at run time is recorded with a "failed" field (its message) and the job goes on with
// the others; so does a task that fails as a whole (its record: {"task", "failed"}).
absl::StatusOr<std::vector<nlohmann::json>> RunSuite(const SuiteOptions& options);

// OkStatus when no record of `runs` has a "failed" field; else Aborted naming every failed run
// and its error, for the job's exit status (1).
absl::Status FailedRunsStatus(const std::vector<nlohmann::json>& runs);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SUITE_H_
