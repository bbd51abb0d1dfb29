// The shared core of compaction (physical removal of closed neurons) for any model that describes
// its LSTMs (models/lstm_pruning_layout.h): from the parameters and the gates, the smaller dense
// parameters whose network computes the gated one (ApplyNeuronGates) exactly. Each model turns
// them into a model of its own type (pruning/compaction.h for the LSTM LM,
// pruning/bidaf_compaction.h for BiDAF); nothing here knows a model.
#ifndef RNNPRUNE_PRUNING_LSTM_COMPACTION_H_
#define RNNPRUNE_PRUNING_LSTM_COMPACTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_pruning_layout.h"
#include "pruning/neuron_gates.h"
#include "torch/types.h"

namespace rnnprune {

struct CompactedParameters {
  // Every parameter of the model (clones; those no gate touches unchanged). An LSTM keeps the
  // rows of its kept hidden units and the columns it reads; a reader keeps the positions of kept
  // neurons; a free space's producers keep its live neurons; gate values in (0, 1] are folded in
  // as ApplyNeuronGates folds them.
  std::map<std::string, torch::Tensor> parameters;
  // Per space (LSTM hidden spaces and free spaces): the original index of each kept neuron, in
  // the compacted order. An LSTM's hidden units are kept when z_h != 0; a free-space neuron when
  // some reader or some open input gate reads it, or always, in order, when the space has no
  // producer to remove it from. The units the first LSTM reading a space reads come first, so
  // that a single reader (the LSTM LM's next layer) reads a prefix.
  std::map<std::string, std::vector<int64_t>> space_neurons;
  // Per LSTM: the positions of its compacted input (the concatenation of its runs' compacted
  // spaces) that it reads, ascending; its w_ih has one column per entry, in this order.
  std::map<std::string, std::vector<int64_t>> lstm_inputs;
  // Per LSTM: the size of its compacted input (the sum of its runs' kept neurons).
  std::map<std::string, int64_t> lstm_input_widths;

  // Whether LSTM `name` reads every position of its compacted input (no index needed).
  bool ReadsEverything(const std::string& name) const;
  // Whether it reads positions [0, n) (a prefix).
  bool ReadsPrefix(const std::string& name) const;
};

// Errors: InvalidArgument when the layout does not fit `parameters`, the gates are invalid
// (NeuronGates::Validate), or an LSTM would be left with no hidden neuron or no input neuron
// (naming the LSTM, and for its input the spaces it reads): no LSTM can be built from it.
absl::StatusOr<CompactedParameters> CompactParameters(
    const LstmPruningLayout& layout, const std::map<std::string, torch::Tensor>& parameters,
    const NeuronGates& gates);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_LSTM_COMPACTION_H_
