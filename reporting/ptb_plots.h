// The plots of reports/ptb.md, drawn with gnuplot (reporting/gnuplot.h) from the PTB run records:
// the trade-off of perplexity against measured speedup with every method's Pareto front, and
// the kept sizes of the L0 runs' gate sets against training steps.
#ifndef RNNPRUNE_REPORTING_PTB_PLOTS_H_
#define RNNPRUNE_REPORTING_PTB_PLOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reporting/ptb_record.h"

namespace rnnprune {

// Test perplexity (valid where a run has no test perplexity) against the measured LSTM-stack
// speedup at batch 1 (ptb_comparison.h LstmB1Speedup) of preset `preset`'s method runs: every
// run as a point, each method's Pareto front as a line, the dense parent at 1x. Written to
// `svg_path` atomically. Does nothing when the preset has no timed method run. Errors: gnuplot
// missing or failing.
absl::Status PlotPtbTradeoff(const std::vector<PtbRecord>& runs, const std::string& preset,
                             const std::string& svg_path);

// One small panel per L0 run of `preset` with gate statistics (the record's
// search diagnostics): the kept size of every gate set (E, I2.., H1..; gates with z_hat > 0)
// against the search steps. Does nothing when no L0 run has statistics. Errors: as above.
absl::Status PlotGateStatistics(const std::vector<PtbRecord>& runs, const std::string& preset,
                                const std::string& svg_path);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_PTB_PLOTS_H_
