// The BiDAF pruning section of reports/squad.md and its plot, rendered from the pruning run
// records (reporting/bidaf_pruning_record.h, written by benchmarks/squad_pruning.h). Links no
// model code.
#ifndef RNNPRUNE_REPORTING_BIDAF_PRUNING_REPORT_H_
#define RNNPRUNE_REPORTING_BIDAF_PRUNING_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reporting/bidaf_pruning_record.h"
#include "reporting/squad_record.h"

namespace rnnprune {

// Markdown for the pruning runs of `preset` among `runs` ("" when there are none): the
// protocol; one table of every run (method, setting, kept hidden neurons per LSTM and direction,
// kept inputs of the contextual layer, LSTM and all parameters, exact match and F1 in percent,
// the last validation F1, and the speedups over the parent at batch 1 and 32 for the LSTMs and
// the whole model) with the parent first (its scores from the squad record in `parents` whose
// config hash the runs name); a table at each L0 run's sizes with the methods that ran at them
// (structured magnitude, random) side by side; a link to `plot_file` when non-empty; and the
// published compact BiDAF of ISS (Wen et al. 2018) in its own labelled table. Missing fields
// show "?".
std::string RenderBidafPruningSection(const std::vector<BidafPruningRecord>& runs,
                                      const std::vector<SquadRecord>& parents,
                                      const std::string& preset, const std::string& plot_file);

// F1 against the measured LSTM speedup at batch 1 of every run of `preset` (one series per
// method, its Pareto front drawn as a line; the parent at (1, its F1) when its record is in
// `parents`), written to `svg_path` atomically with gnuplot (reporting/gnuplot.h). Does nothing
// when no run of the preset has both. Errors: those of RunGnuplotToSvg.
absl::Status PlotBidafPruning(const std::vector<BidafPruningRecord>& runs,
                              const std::vector<SquadRecord>& parents, const std::string& preset,
                              const std::string& svg_path);

// Every <reports_dir>/results/bidaf_pruning_*.json, sorted by file name. Errors: a file that is
// unreadable or holds a field of the wrong type (naming the file).
absl::StatusOr<std::vector<BidafPruningRecord>> ReadBidafPruningRecords(
    const std::string& reports_dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_BIDAF_PRUNING_REPORT_H_
