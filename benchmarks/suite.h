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
// unwritable or full folder (naming it), and the tasks' errors.
absl::StatusOr<std::vector<nlohmann::json>> RunSuite(const SuiteOptions& options);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SUITE_H_
