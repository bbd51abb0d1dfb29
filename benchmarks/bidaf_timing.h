// Wall-clock inference speed of BiDAF models inside one process (issue 16, item 5): a compacted
// BiDAF (pruning/bidaf_compaction.h) against its parent, on the same engine (the no-grad path
// of our fused LSTM layer, models/lstm_layer.h, and LibTorch ops for the rest), at batch 1 and
// batch 32, for the LSTMs alone and for the whole model.
#ifndef RNNPRUNE_BENCHMARKS_BIDAF_TIMING_H_
#define RNNPRUNE_BENCHMARKS_BIDAF_TIMING_H_

#include <vector>

#include "models/bidaf.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Questions per second, medians over the recorded rounds, eval mode, no gradients.
//  lstms: every LSTM layer alone (the contextual BiLSTM on the context and on the question, the
//         modelling layers, the end pointer's), each on inputs of its own width (drawn once,
//         N(0, 1)) and the batch's lengths;
//  model: forward() (embeddings, highway, LSTMs, attention flow, output layer).
struct BidafTiming {
  double lstms_b1_qps = 0, model_b1_qps = 0, lstms_b32_qps = 0, model_b32_qps = 0;
  // Every recorded round's questions/s, in the order lstms_b1, model_b1, lstms_b32, model_b32;
  // rounds of models timed side by side are paired by index.
  std::vector<double> rounds[4];
  nlohmann::json ToJson() const;
};

// Times every model on batches of one question (`single`) and of 32 (`batches_32`; any batch
// size works, the figure is questions/s), one call of each model in turn per round so that
// drifts in machine speed hit all alike; round i uses batch i of each list (cycling); medians of
// `repeats` rounds after one warm-up round. Every model must accept the batches (same
// vocabularies). Throws c10::Error on a model that rejects a batch.
std::vector<BidafTiming> TimeBidafsSideBySide(std::vector<Bidaf>& models,
                                              const std::vector<BidafBatch>& single,
                                              const std::vector<BidafBatch>& batches_32,
                                              int repeats);

// The speedup of `pruned` over `dense` (timed side by side) per configuration: the median of the
// per-round ratios pruned / dense of questions/s, and their interquartile range:
// {"lstms_b1": x, "lstms_b1_iqr": [q1, q3], "model_b1": ..., "lstms_b32": ..., "model_b32": ...}.
nlohmann::json BidafSpeedups(const BidafTiming& dense, const BidafTiming& pruned);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_BIDAF_TIMING_H_
