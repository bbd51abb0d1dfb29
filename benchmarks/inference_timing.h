// Wall-clock inference timing of an LstmLm inside one process, for the speedup columns of the
// reports (the Google Benchmark suites of the speed issue measure the same more thoroughly).
#ifndef RNNPRUNE_BENCHMARKS_INFERENCE_TIMING_H_
#define RNNPRUNE_BENCHMARKS_INFERENCE_TIMING_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "models/sparse_lstm.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Median wall time per token, in ms, over `repeats` calls on random token ids [35, B] in eval
// mode without gradients (state carried across calls). "lstm" = embedding lookup + LSTM stack
// (Run), "model" = the same plus the decoder logits. For B = 20 the figure is per token of
// throughput (call time / (35 * 20)).
struct InferenceTiming {
  double lstm_b1_ms = 0, model_b1_ms = 0, lstm_b20_ms = 0, model_b20_ms = 0;
  // Every recorded round's ms per token, per configuration in the order lstm_b1, model_b1,
  // lstm_b20, model_b20 (the medians above are theirs); rounds of runners timed side by side
  // are paired by index.
  std::vector<double> rounds[4];
  nlohmann::json ToJson() const;
};
// Through the default inference engine (kDefaultInferenceEngine). Errors: the engine's.
absl::StatusOr<InferenceTiming> TimeInference(LstmLm& model, int repeats);

// One inference path to time: a fresh state for a batch size, and one call on token ids
// [35, B] (int64) that updates the state and, when `logits`, computes the decoder's logits.
struct InferenceRunner {
  int64_t vocab_size = 0;
  std::function<LstmState(int64_t batch)> initial_state;
  std::function<void(const torch::Tensor& input, LstmState* state, bool logits)> run;
};
// The path of inference engine `engine` (models/engines/engine.h; the reports use
// kDefaultInferenceEngine, the fastest measured). The engine keeps the recurrent state itself:
// initial_state() resets it for the batch size (and returns an empty LstmState), run() takes
// token ids [T <= 35, B] (int64, contiguous). Errors: those of CreateInferenceEngine.
absl::StatusOr<InferenceRunner> EngineRunner(const std::string& engine, const LstmLm& model);
// The CSR path of models/sparse_lstm.h.
InferenceRunner CsrRunner(std::shared_ptr<const SparseLstmLm> model);
// Times every runner on the four configurations (LSTM / whole model, batch 1 / 20), one call of
// each runner in turn per round so that drifts in machine speed hit all alike; medians of
// `repeats` rounds after one warm-up round, without gradients.
std::vector<InferenceTiming> TimeRunnersSideBySide(const std::vector<InferenceRunner>& runners,
                                                   int repeats);

// dense / pruned for each field: the speedup of `pruned` over `dense`.
nlohmann::json Speedups(const InferenceTiming& dense, const InferenceTiming& pruned);

// The spread of each speedup of Speedups: the interquartile range [q1, q3] of the per-round
// ratios dense / pruned of two timings measured side by side (same rounds), as
// {"lstm_b1": [q1, q3], "model_b1": ..., "lstm_b20": ..., "model_b20": ...}.
nlohmann::json SpeedupSpread(const InferenceTiming& dense, const InferenceTiming& pruned);

// (q3 - q1) / median of the per-round LSTM batch-1 ratios: the headline speedup's relative
// spread; 0 without rounds.
double RelativeLstmB1Spread(const InferenceTiming& dense, const InferenceTiming& pruned);

// The 1-minute load average (/proc/loadavg); -1 when it cannot be read.
double LoadAverage1Min();

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_INFERENCE_TIMING_H_
