// Fixed structures chosen by ranking, over any model that describes its LSTMs
// (models/lstm_pruning_layout.h): the gates that keep, in each gate set, a target number of
// neurons with the largest scores (structured magnitude ranks by the squared norms of
// pruning/neuron_groups.h, random removal by random scores). The LSTM LM's MaskKeepingLargest
// (pruning/method.h) is this over its layout.
#ifndef RNNPRUNE_PRUNING_GATE_TARGETS_H_
#define RNNPRUNE_PRUNING_GATE_TARGETS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "models/lstm_pruning_layout.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/types.h"

namespace rnnprune {

// Kept neurons per gate set, keyed by LSTM name. A hidden target for every LSTM; an input target
// only for the LSTMs whose inputs are chosen (the others keep every input open).
struct GateTargets {
  std::map<std::string, int64_t> input;
  std::map<std::string, int64_t> hidden;
};

// The gates (values 0 and 1) that keep, per LSTM, the targets.hidden[name] hidden neurons with the
// largest scores.hidden[name], and, where targets.input names the LSTM, the targets.input[name]
// input neurons with the largest scores.input[name] among those whose space neuron survives (an
// input reading a closed hidden unit is removed anyway); ties go to the lower index. Errors:
// InvalidArgument naming the LSTM when a target or score is missing, a score has the wrong size,
// or a target is outside [1, the neurons it may choose from].
absl::StatusOr<NeuronGates> GatesKeepingLargest(
    const LstmPruningLayout& layout, const std::map<std::string, torch::Tensor>& parameters,
    const NeuronGroupValues& scores, const GateTargets& targets);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_GATE_TARGETS_H_
