// The main job's task "speed": Google Benchmark of every inference engine on every shape of
// benchmarks/speed_shapes.json, the compacted runs the ptb task has just made included
// (benchmarks/speed_suite.h), written to reports/speed.md.
#ifndef RNNPRUNE_BENCHMARKS_SPEED_TASK_H_
#define RNNPRUNE_BENCHMARKS_SPEED_TASK_H_

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"
#include "reporting/speed_record.h"

namespace rnnprune {

// Runs the speed benchmarks with the preset's threads, minimum time and size cap, writes
// <reports_dir>/results/speed_<preset>.json and speed.md, restores the suite's thread count and
// returns the results document (reporting/speed_record.h; benchmarks/speed_suite.h). Errors: those
// of RunSpeedBenchmarks and of writing the reports.
absl::StatusOr<SpeedRecord> RunSpeedTask(const TaskContext& context);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SPEED_TASK_H_
