// Neuron gates over any model that describes its LSTMs (models/lstm_pruning_layout.h): z_x on
// each LSTM's input neurons and z_h on its hidden neurons (Wen et al. 2020, Section 3), one pair
// per LSTM and direction, and how they act on the weights. The LSTM LM's NeuronMask
// (pruning/neuron_mask.h) is the same thing for its layout ("lstm<l>" names).
#ifndef RNNPRUNE_PRUNING_NEURON_GATES_H_
#define RNNPRUNE_PRUNING_NEURON_GATES_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "models/lstm_pruning_layout.h"
#include "torch/types.h"

namespace rnnprune {

// Gate values keyed by LSTM name (PrunableLstm::name). A value of exactly 0 removes the neuron;
// a value in (0, 1] keeps it and scales it (folded into the weights at compaction).
//   input[name]  : [I] float32, one per W_ih column (I = the total size of the LSTM's input runs)
//   hidden[name] : [H] float32
struct NeuronGates {
  std::map<std::string, torch::Tensor> input;
  std::map<std::string, torch::Tensor> hidden;

  // All ones for every LSTM of `layout`, sized from `parameters` (named_parameters()).
  static NeuronGates AllOpen(const LstmPruningLayout& layout,
                             const std::map<std::string, torch::Tensor>& parameters);
  // OK, or InvalidArgument naming the LSTM and set: exactly the LSTMs of `layout`, 1-d float32
  // of the sizes above, values in [0, 1]. (The layout itself is checked by the caller.)
  absl::Status Validate(const LstmPruningLayout& layout,
                        const std::map<std::string, torch::Tensor>& parameters) const;
};

// The parameters the gates change, with the gates folded in as scalings so that the model run
// with them computes the gated network exactly (each neuron's output multiplied by its gate
// wherever it is read; Wen et al. 2020, Eq. 6):
//   w_ih columns *= z_x * (z_h of the space neuron each column reads)^power;
//   w_hh columns *= z_h (the LSTM's own recurrence);
//   each reader's positions *= z_h^power (positions before its offset unchanged).
// Rows, biases and free-space producers are not scaled (a closed hidden unit still computes its
// state; nothing reads it). Returns name -> tensor of the parameter's shape, differentiable with
// respect to the parameters and the gates; only changed parameters are present.
// Preconditions (checked, c10::Error): layout valid for `parameters`, gates valid.
std::map<std::string, torch::Tensor> ApplyNeuronGates(
    const LstmPruningLayout& layout, const std::map<std::string, torch::Tensor>& parameters,
    const NeuronGates& gates);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_NEURON_GATES_H_
