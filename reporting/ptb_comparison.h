// "Who wins": the comparisons of reports/ptb.md that put the paper's method (the L0 runs, whose
// kept sizes the size-taking baselines are given) beside every other method of one preset, read
// from the PTB run records (reporting/ptb_record.h). Renders Markdown; links no model code.
#ifndef RNNPRUNE_REPORTING_PTB_COMPARISON_H_
#define RNNPRUNE_REPORTING_PTB_COMPARISON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reporting/ptb_record.h"

namespace rnnprune {

// Whether `run` is a pruning-method run (fine-tuned from a parent, not the dense parent).
bool IsMethodRun(const PtbRecord& run);
// Whether `run` is a run of an L0 method (method "l0" or "l0_speed").
bool IsL0Run(const PtbRecord& run);

// The measured LSTM-stack speedup over the dense parent at batch 1 (35 tokens per call) by the
// fastest engine the run was timed with: the default engine, or for unstructured methods also
// the CSR path (ratio of medians, dimensionless); nullopt when the run has no timing.
std::optional<double> LstmB1Speedup(const PtbRecord& run);

// The interquartile range [q1, q3] of LstmB1Speedup's measurement (the per-round ratios of the
// interleaved timing: speedup_iqr / csr_speedup_iqr), for the engine it picked;
// nullopt when the run has no timing or was timed before ranges were recorded.
std::optional<std::pair<double, double>> LstmB1SpeedupRange(const PtbRecord& run);

// The kept sizes [E, I_2, ..., I_L, H_1, ..., H_L] of a structured run (its sizes); empty
// when the record has none.
std::vector<int64_t> KeptSizes(const PtbRecord& run);

// Table (a): for every L0 run of `preset`, L0, structured magnitude and random removal at the
// identical kept sizes (matched by their target sizes), with valid and test perplexity and the
// LSTM batch-1 speedup. "-" where a baseline was not run at those sizes.
std::string RenderAtL0Sizes(const std::vector<PtbRecord>& runs, const std::string& preset);

// Table (b): for every L0 run of `preset` and every other method, the run of that method whose
// LSTM batch-1 speedup lies within +-10% of the L0 run's and whose valid perplexity is the
// lowest among those (settings are chosen on valid), with its test perplexity; "none that
// fast" when no run of the method reaches 0.9x the L0 run's speedup, "none within +-10%" when
// its runs are all faster.
std::string RenderFastestAtEachL0(const std::vector<PtbRecord>& runs, const std::string& preset);

// The cost of a step: each method's search-phase training tokens/s beside the dense control's
// (the same steps with no pruning), as a ratio, and the recovery phase's tokens/s.
std::string RenderStepCost(const std::vector<PtbRecord>& runs, const std::string& preset);

// The Pareto front of `points` (x = speedup, higher is better; y = perplexity, lower is better):
// the indices of the points no other point beats on both, sorted by x. Ties keep the first.
std::vector<size_t> ParetoFront(const std::vector<std::pair<double, double>>& points);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_PTB_COMPARISON_H_
