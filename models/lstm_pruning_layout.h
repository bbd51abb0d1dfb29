// How a model's prunable LSTMs sit in it: a model-agnostic description through which the neuron
// gates (pruning/neuron_gates.h) and the shared compaction work, for the LSTM LM and for BiDAF
// alike, with nothing model-specific in either.
//
// Neurons live in named *spaces*: every LSTM (one entry per direction of a bidirectional layer)
// has a hidden space named after it (its H units, gated by z_h, Wen et al. 2020, Section 3), and
// a model may declare *free spaces* for the vectors its first LSTMs read that no LSTM produces
// (the LM's embedding dimensions, BiDAF's highway outputs). An LSTM's input is a concatenation of
// *runs* of spaces (its W_ih columns, gated by z_x); parameters other than the LSTMs' that read
// spaces are *readers* (the LM's decoder columns, BiDAF's similarity and output projections).
//
// A run carries a power: the reader sees the neuron's gate z to that power. It is 1 for a
// neuron read as is and 2 where the model multiplies two activations of the same neuron: BiDAF's
// contextual BiLSTM encodes context (h) and question (u) alike, so a gate on its unit k scales
// h_k and u_k, and the products h * u (Seo et al. 2017, Eq. 1), h * u~ and h * h~ (Eq. 4) by
// z_k^2. Folding z^power into each reader's weights therefore computes the gated network exactly,
// attention included (the similarity S is reproduced, so its softmaxes are too).
#ifndef RNNPRUNE_MODELS_LSTM_PRUNING_LAYOUT_H_
#define RNNPRUNE_MODELS_LSTM_PRUNING_LAYOUT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "c10/util/Exception.h"
#include "torch/ordered_dict.h"
#include "torch/types.h"

namespace rnnprune {

// All `size` neurons of one space, in order, seen by the reader through z^power.
struct SpaceRun {
  std::string space;
  int power = 1;  // 1 or 2
};

// Dimension `dim` of the parameter named `parameter` (as in named_parameters()).
struct ParameterDim {
  std::string parameter;
  int64_t dim = 0;
};

// A space no LSTM produces. `producers` are parameter dimensions indexed by its neurons (e.g. the
// embedding's columns): a neuron that no reader and no open input gate reads is removed from them
// at compaction. Without producers (e.g. a residual highway output) only its readers' columns go.
struct FreeSpace {
  std::string name;
  int64_t size = 0;
  std::vector<ParameterDim> producers;
};

// One LSTM (one direction), PyTorch layout (gates i, f, g, o): w_ih [4H, I], w_hh [4H, H],
// b_ih [4H], b_hh [4H], with I the total size of `input`. Its hidden space is named `name`.
// Hidden unit k owns rows k + bH (b < 4) of w_ih, w_hh and both biases; w_hh's column k reads it
// (power 1, its own recurrence).
struct PrunableLstm {
  std::string name;  // e.g. "lstm0", "contextual.fw"
  std::string w_ih, w_hh, b_ih, b_hh;
  std::vector<SpaceRun> input;
  // How diagnostics and reports name its input and hidden gate sets (the LM: the paper's E or
  // I<l+1>, and H<l+1>); empty: "<name>.input" and "<name>.hidden".
  std::string input_set_name, hidden_set_name;
};

// A parameter dimension (other than an LSTM's) made of runs of spaces, in order; positions before
// `offset` belong to no neuron and are kept as they are.
struct SpaceReader {
  ParameterDim at;
  int64_t offset = 0;
  std::vector<SpaceRun> layout;
};

// The description a model gives of its prunable LSTMs (LstmLmImpl::PruningLayout,
// BidafImpl::PruningLayout).
struct LstmPruningLayout {
  std::vector<FreeSpace> free_spaces;
  std::vector<PrunableLstm> lstms;  // in the model's forward order
  std::vector<SpaceReader> readers;

  // Size of space `name` (a free space or an LSTM's hidden size read from `parameters`); -1 when
  // there is no such space.
  int64_t SpaceSize(const std::string& name,
                    const std::map<std::string, torch::Tensor>& parameters) const;
  // Whether `space` is the hidden space of one of the LSTMs (else a free space, or none).
  bool IsLstmSpace(const std::string& space) const;
  // Whether every run of `lstm` reads a free space (its input gates are embedding-like).
  bool ReadsOnlyFreeSpaces(const PrunableLstm& lstm) const;
  // Total size of `runs`; -1 when one names no space.
  int64_t RunsSize(const std::vector<SpaceRun>& runs,
                   const std::map<std::string, torch::Tensor>& parameters) const;
  // OK, or InvalidArgument naming the entry and the rule broken: names unique and non-empty,
  // every named parameter present in `parameters` with the LSTM shapes above, every run naming a
  // space with power 1 or 2, every reader's and producer's dimension of the size its spaces give.
  absl::Status Validate(const std::map<std::string, torch::Tensor>& parameters) const;
};

// named_parameters() of a module as a map (aliases of the parameters, not copies).
std::map<std::string, torch::Tensor> ParameterMap(
    const torch::OrderedDict<std::string, torch::Tensor>& named);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_LSTM_PRUNING_LAYOUT_H_
