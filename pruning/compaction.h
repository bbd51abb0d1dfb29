// Physical removal of closed neurons: from a model and a NeuronMask, build a new, smaller, dense
// LSTM LM with heterogeneous sizes whose outputs equal the gated model's. Shared by every
// structured method (the L0 gates, group Lasso, structured magnitude, random removal).
#ifndef RNNPRUNE_PRUNING_COMPACTION_H_
#define RNNPRUNE_PRUNING_COMPACTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "pruning/neuron_mask.h"

namespace rnnprune {

struct CompactionResult {
  LstmLm model{nullptr};  // the compacted model, eval mode, float32 on CPU
  // For each layer, the original index of each hidden unit of the compacted layer, in the
  // compacted order: units read by the next layer come first (it reads a prefix).
  std::vector<std::vector<int64_t>> hidden_units;
  std::vector<int64_t> embedding_dims;  // original embedding dimensions kept, ascending
};

// Builds the compacted model of `model` under `mask` (values in (0, 1] are folded into the
// weights as in ApplyNeuronMask; zeros are removed). Its logits equal those of
// RunGated(model, mask, ...) up to float rounding, for any input and state mapped accordingly.
// Sizes: E' = kept embedding dims, H_l' = kept hidden units, I_l' (l >= 1) = hidden units of
// layer l-1 that are kept and whose input gate in layer l is open.
// Errors: InvalidArgument for an invalid mask, or when a layer would be left with no hidden
// neuron or no input neuron (naming the layer), since no LSTM can be built from it.
absl::StatusOr<CompactionResult> Compact(const LstmLm& model, const NeuronMask& mask);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_COMPACTION_H_
