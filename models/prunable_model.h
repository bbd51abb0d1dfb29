// What a pruning method sees of a model while it trains, and how it asks the model to run: the
// model-agnostic side of the training hooks (training/model_hooks.h), so that one method serves
// every model that describes its LSTMs (models/lstm_pruning_layout.h).
#ifndef RNNPRUNE_MODELS_PRUNABLE_MODEL_H_
#define RNNPRUNE_MODELS_PRUNABLE_MODEL_H_

#include <map>
#include <string>

#include "models/batch_share.h"
#include "models/lstm_pruning_layout.h"
#include "torch/types.h"

namespace rnnprune {

// A model as a method sees it: its layout and its named parameters (aliases of the live tensors:
// changing them in place changes the model), and whether it is in training mode.
struct PrunableModelView {
  LstmPruningLayout layout;
  std::map<std::string, torch::Tensor> parameters;
  bool training = true;
  // The rows of the global batch the model's inputs are (data-parallel training): per-example
  // noise is drawn for the global batch and these rows kept (models/batch_share.h).
  BatchShare batch_share = {};
};

// How one forward pass runs under a method: `parameters` (names as in the model's
// named_parameters(), same shapes) replace the model's, e.g. gates folded into the weights
// (pruning/neuron_gates.h ApplyNeuronGates) or weight masks applied; `input_gates` and
// `hidden_gates` (LSTM names of the layout -> [B, I] and [B, H] float32) gate the neurons'
// activations per example (Louizos et al. 2018 sample their gates per example). All empty: the
// model's own forward pass.
struct ForwardPlan {
  std::map<std::string, torch::Tensor> parameters;
  std::map<std::string, torch::Tensor> input_gates, hidden_gates;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_PRUNABLE_MODEL_H_
