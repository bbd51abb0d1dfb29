// The weights each neuron gate removes, for any model that describes its LSTMs
// (models/lstm_pruning_layout.h): their squared L2 norms (the groups of ISS group Lasso and the
// ranking of structured magnitude) and their counts (the weight of each gate's L0 term, Wen et al.
// 2020). The LSTM LM's IssGroupSquaredNorms, EmbeddingDimSquaredNorms and CountGateWeights
// (pruning/method.h, pruning/neuron_mask.h) are these over its layout.
#ifndef RNNPRUNE_PRUNING_NEURON_GROUPS_H_
#define RNNPRUNE_PRUNING_NEURON_GROUPS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/lstm_pruning_layout.h"
#include "torch/types.h"

namespace rnnprune {

// Per LSTM name, one value per input neuron ([I]) and per hidden neuron ([H]).
struct NeuronGroupValues {
  std::map<std::string, torch::Tensor> input;
  std::map<std::string, torch::Tensor> hidden;
};

// The group of hidden unit k of LSTM s (Wen et al., ICLR 2018, Section 3, intrinsic sparse
// structures, generalised to every reader): its four gate rows of w_ih, w_hh, b_ih and b_hh,
// column k of w_hh, every w_ih column of another LSTM that reads it (each run) and every
// reader position that reads it, each weight once. The group of input neuron j of LSTM s: column
// j of its w_ih, plus the producer entries of the free-space neuron it reads when s is the only
// reader of that space. Returns squared L2 norms, float32, differentiable with respect to the
// parameters. Precondition: layout.Validate(parameters) is OK (throws c10::Error otherwise).
NeuronGroupValues NeuronGroupSquaredNorms(const LstmPruningLayout& layout,
                                          const std::map<std::string, torch::Tensor>& parameters);

// The number of weights in each group above (int64), from the parameters' shapes.
NeuronGroupValues NeuronGroupSizes(const LstmPruningLayout& layout,
                                   const std::map<std::string, torch::Tensor>& parameters);

// The number of multiply-adds each gate removes from the forward pass per position read: its
// group (above) without the biases and without free-space producers (a lookup costs none), from
// the parameters' shapes. For the LSTM LM this is CountGateMultiplyAdds (per token); for BiDAF
// the attention and output weights count once per position (the cost of the similarity grows
// with the question's length too: a lower bound there).
NeuronGroupValues NeuronGroupMultiplyAdds(const LstmPruningLayout& layout,
                                          const std::map<std::string, torch::Tensor>& parameters);

// Multiplies, in place and without autograd, every weight of the group of each hidden unit k of
// each LSTM s (NeuronGroupSquaredNorms' groups) by scales[s][k] ([H] float32; an LSTM absent
// from `scales` is left alone): the unit's gate rows of w_ih, w_hh and both biases, column k of
// w_hh (its four entries on the unit's own rows once), then every column and reader position
// that reads the unit. LSTMs are taken in layout order, each fully before the next (overlapping
// groups: the usual approximation of the overlapping-group proximal operator). Precondition:
// layout valid for `parameters` (throws c10::Error otherwise).
void ScaleHiddenGroups(const LstmPruningLayout& layout,
                       const std::map<std::string, torch::Tensor>& parameters,
                       const std::map<std::string, torch::Tensor>& scales);

// The tensors of every group (each LSTM's w_ih, w_hh, b_ih, b_hh, then every reader's
// parameter), aliases, in layout order.
std::vector<torch::Tensor> GroupedTensors(const LstmPruningLayout& layout,
                                          const std::map<std::string, torch::Tensor>& parameters);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_NEURON_GROUPS_H_
