// Physical removal of closed neurons from BiDAF (models/bidaf.h): the shared compaction
// (pruning/lstm_compaction.h) over the model's PruningLayout, turned into a smaller BiDAF whose
// start and end logits equal those of the gated model (BidafImpl::ForwardWithParameters with
// ApplyNeuronGates) up to float rounding.
#ifndef RNNPRUNE_PRUNING_BIDAF_COMPACTION_H_
#define RNNPRUNE_PRUNING_BIDAF_COMPACTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/bidaf.h"
#include "pruning/neuron_gates.h"
#include "torch/types.h"

namespace rnnprune {

struct BidafCompaction {
  Bidaf model{
      nullptr};  // the compacted model, eval mode, float32 on CPU; config() is the dense one
  // Per LSTM direction (e.g. "modelling.0.fw"): the original index of each kept hidden unit, in
  // the compacted order.
  std::map<std::string, std::vector<int64_t>> hidden_units;
  // Per LSTM direction: kept input neurons (the columns of its w_ih).
  std::map<std::string, int64_t> kept_inputs;
};

// The compacted BiDAF of `model` (dense) under `gates` (keyed by the names of
// model->PruningLayout(); values in (0, 1] folded into the weights, zeros removed). A direction
// that reads only some of its (compacted) input features gets an input index (BidafLstm).
// Errors: InvalidArgument for gates that do not fit the model, or a direction left with no
// hidden or no input neuron (naming it).
absl::StatusOr<BidafCompaction> CompactBidaf(const Bidaf& model, const NeuronGates& gates);

// The gated BiDAF's output: `model` run with `gates` folded into its weights
// (ApplyNeuronGates), differentiable. Throws c10::Error when the gates do not fit.
BidafOutput RunGatedBidaf(Bidaf& model, const NeuronGates& gates, const BidafBatch& batch);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_BIDAF_COMPACTION_H_
