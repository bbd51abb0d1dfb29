#include "benchmarks/speed_task.h"

#include "absl/strings/str_cat.h"
#include "benchmarks/speed_suite.h"
#include "common/status_macros.h"
#include "models/engines/engine.h"
#include "reporting/speed_report.h"

namespace rnnprune {

absl::StatusOr<SpeedRecord> RunSpeedTask(const TaskContext& ctx) {
  const SuiteOptions& o = ctx.options;
  const Preset& preset = ctx.preset;
  SpeedOptions so;
  so.base_dir = o.source_dir;
  so.vars = {{"reports_dir", o.reports_dir}, {"preset", preset.name}};
  so.threads = preset.speed_threads;
  so.min_time = preset.speed_min_time;
  so.max_parameters = preset.speed_max_parameters;
  so.seed = static_cast<uint64_t>(o.seed);
  so.command = o.command;
  so.run_info = ctx.run_info;
  so.google_benchmark_json =
      absl::StrCat(o.reports_dir, "/results/speed_", preset.name, ".benchmark.json");
  o.log(absl::StrCat("[speed] Google Benchmark, shapes from ", so.shapes_path,
                     ", compacted runs from ", so.vars["reports_dir"], "/results/ptb_", preset.name,
                     ".jsonl"));
  ASSIGN_OR_RETURN(SpeedRecord doc, RunSpeedBenchmarks(so));
  doc.preset_config = ctx.preset_config;
  // The benchmarks leave the last thread count they used: restore the run's.
  RETURN_IF_ERROR(SetInferenceThreads(o.threads));
  RETURN_IF_ERROR(WriteSpeedReportFiles(doc, preset.name, o.reports_dir));
  o.log(absl::StrCat("[speed] wrote ", o.reports_dir, "/speed.md"));
  return doc;
}

}  // namespace rnnprune
