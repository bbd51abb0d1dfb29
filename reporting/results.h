// Result records (one JSON object per run, stored as JSON lines under reports/results/) and the
// Markdown reports rendered from them. This package links no model code: it reads what
// benchmarks/ writes.
#ifndef RNNPRUNE_REPORTING_RESULTS_H_
#define RNNPRUNE_REPORTING_RESULTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reporting/ptb_record.h"

namespace rnnprune {

// Reads a JSON-lines file (one object per non-blank line). Errors: NotFound (no file),
// InvalidArgument naming file:line for a line that is not a JSON object.
absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLines(const std::string& path);

// Writes `records` as JSON lines to `path` atomically (temporary file, fsync, rename).
absl::Status WriteJsonLines(const std::string& path, const std::vector<nlohmann::json>& records);

// Renders the PTB language-modelling report (Markdown) from PTB run records: one
// section per preset (paper, small, default, quick, smoke, then any other) with our results,
// per-epoch curves and provenance (command, commit, CPU, threads, seed), and the published
// Zaremba et al. 2014 figures in a separate, labelled table. Records lacking a field show "?".
std::string RenderPtbReport(const std::vector<PtbRecord>& runs);

// Reads every `reports_dir`/results/ptb_*.jsonl and writes `reports_dir`/ptb.md atomically,
// plus per preset ptb_tradeoff_<preset>.svg (when it has timed method runs) and
// ptb_gates_<preset>.svg (when its L0 runs have gate statistics); reporting/ptb_plots.h.
// Errors: unreadable or malformed result files, or a record with a field of the wrong type
// (naming the file, the line and the field), unwritable report.
absl::Status RenderPtbReportFiles(const std::string& reports_dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_RESULTS_H_
