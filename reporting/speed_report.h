// reports/speed.md and its plot, rendered from the results document of the speed benchmarks
// (reporting/speed_record.h). Links no model or benchmark code: the
// report is a function of the results alone, so `--render_only` can re-render it.
#ifndef RNNPRUNE_REPORTING_SPEED_REPORT_H_
#define RNNPRUNE_REPORTING_SPEED_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reporting/speed_record.h"

namespace rnnprune {

// One bar of the speed issue, checked on measured numbers (reported, never asserted in tests).
struct SpeedBar {
  std::string bar;      // the rule, e.g. "default engine within 1.3x of the roofline bound"
  std::string subject;  // e.g. "zaremba_large, lstm, b1_token, 2 threads"
  double measured = 0;  // the measured ratio
  std::string limit;    // e.g. "<= 1.3"
  bool met = false;
};

// The bars evaluated at the largest thread count of the document, for the default engine
// (doc.default_engine) against the roofline bound and against the "torch" engine:
//   1. b1_token, lstm, zaremba_large: ratio to the bound <= 1.3;
//   2. b1_token, lstm, every shape whose weights fit in L3: ratio to the bound <= 2;
//   3. batch 1 (b1_seq, b1_token), lstm and model, every dense shape: >= 2x faster than torch;
//   4. b20, lstm and model, every dense shape: not slower than torch (>= 1x).
std::vector<SpeedBar> EvaluateSpeedBars(const SpeedRecord& doc);

// speed.md as Markdown (see the file for its sections).
std::string RenderSpeedReport(const SpeedRecord& doc, const std::string& preset);

// Writes <reports_dir>/results/speed_<preset>.json (the document), speed_<preset>.svg (speedup of
// each pruned shape over its dense parent, same engine) and speed.md, each atomically.
// Errors: those of the file writes and gnuplot, naming the path.
absl::Status WriteSpeedReportFiles(const SpeedRecord& doc, const std::string& preset,
                                   const std::string& reports_dir);

// Reads <reports_dir>/results/speed_<preset>.json and re-renders speed.md and the plot.
// Errors: NotFound when the results file is missing; InvalidArgument when it is not JSON, lacks
// the machine, limits, shapes or runs, or holds a field of the wrong type (naming it).
absl::Status RerenderSpeedReport(const std::string& preset, const std::string& reports_dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_SPEED_REPORT_H_
