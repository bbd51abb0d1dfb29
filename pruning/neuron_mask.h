// Neuron-level structure shared by every structured pruning method: per-layer keep values for
// the input and hidden neurons of an LSTM LM, how they act on the weights during training, and
// how they are counted. Physical removal is in pruning/compaction.h.
#ifndef RNNPRUNE_PRUNING_NEURON_MASK_H_
#define RNNPRUNE_PRUNING_NEURON_MASK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/lstm_lm.h"
#include "pruning/neuron_gates.h"
#include "torch/types.h"

namespace rnnprune {

// Gate values of the neurons of an L-layer LSTM LM (Wen et al. 2020, Section 3): z_x on each
// layer's input neurons, z_h on its hidden neurons. A value of exactly 0 removes the neuron; a
// value in (0, 1] keeps it and scales it (folded into the weights at compaction).
//   input[l]  : [I_l] float32 (I_0 = embedding dims; I_l = H_{l-1} for l >= 1)
//   hidden[l] : [H_l] float32
// A closed hidden neuron k of layer l removes its four gate rows of W_ih, W_hh and the biases,
// column k of W_hh and column k of whatever reads h (next layer's W_ih, or the decoder). A
// closed input neuron j of layer l removes column j of W_ih (and, for layer 0, embedding
// column j).
struct NeuronMask {
  std::vector<torch::Tensor> input;
  std::vector<torch::Tensor> hidden;

  // All ones (nothing removed) for `config`.
  static NeuronMask AllOpen(const LstmLmConfig& config);
  // Shapes match `config` (dense sizes) and values lie in [0, 1]. Errors name layer and set.
  absl::Status Validate(const LstmLmConfig& config) const;
  // Number of non-zero entries of input[l] / hidden[l].
  std::vector<int64_t> KeptInputs() const;
  std::vector<int64_t> KeptHidden() const;
};

// `mask` as the gates of the model's PruningLayout (LSTM names "lstm<l>"; the tensors are
// shared, not copied).
NeuronGates ToNeuronGates(const NeuronMask& mask);

// The weights of `model` with the gates applied as column scalings, so that the fused LSTM
// layer computes the gated network exactly: W (z * x) = (W diag z) x.
//   W_ih^0 columns *= z_x^0;  W_ih^l columns *= z_h^{l-1} * z_x^l (l >= 1);
//   W_hh^l columns *= z_h^l;  decoder columns *= z_h^{L-1}.
// Differentiable with respect to the weights and the gate tensors. `mask` must be valid for the
// model's (dense) config (checked: throws c10::Error otherwise).
struct GatedWeights {
  torch::Tensor embedding;  // [V, E] (unchanged; gating is on W_ih^0)
  std::vector<LstmLayerWeights> layers;
  torch::Tensor decoder_weight;  // [V, H_{L-1}]
  torch::Tensor decoder_bias;    // [V]
};
GatedWeights ApplyNeuronMask(const LstmLm& model, const NeuronMask& mask);

// Runs `model` with `mask` applied (see ApplyNeuronMask): input [T, B] int64.
LmOutput RunGated(LstmLm& model, const NeuronMask& mask, const torch::Tensor& input,
                  LstmState* state);

// Number of weights each gate removes, from the dense sizes of `config` (Wen et al. 2020 weight
// each gate's L0 term by it). Overlaps between gates are counted for each gate.
//   z_x^0[j]: V (embedding column) + 4 H_0;   z_x^l[j] (l >= 1): 4 H_l;
//   z_h^l[k]: 4 I_l + 8 H_l - 4 + 8 (rows of W_ih and W_hh, column of W_hh, two biases)
//             + 4 H_{l+1} (next layer's column) or V (the decoder's column, last layer).
struct GateWeightCounts {
  std::vector<int64_t> input;  // per layer, the same for every gate of the layer
  std::vector<int64_t> hidden;
};
GateWeightCounts CountGateWeights(const LstmLmConfig& config);

// Multiply-adds per token each gate removes from the forward pass (LstmLmConfig::
// MultiplyAddsPerToken's count: the embedding lookup and the biases cost none), from the dense
// sizes of `config`: the speed-aware cost of a gate.
//   z_x^0[j]: 4 H_0 (column j of W_ih^0);   z_x^l[j] (l >= 1): 4 H_l;
//   z_h^l[k]: 4 I_l + 8 H_l - 4 (rows of W_ih and W_hh, column of W_hh)
//             + 4 H_{l+1} (next layer's column) or V (the decoder's column, last layer).
GateWeightCounts CountGateMultiplyAdds(const LstmLmConfig& config);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_NEURON_MASK_H_
