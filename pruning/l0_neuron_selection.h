// The paper's method: L0-regularised neuron selection for LSTMs (Wen, Zhang, Bai, Xu 2020,
// "Structured Pruning of Recurrent Neural Networks through Neuron Selection", Neural Networks
// 123, Section 3). Hard concrete gates z_x on every LSTM's input neurons and z_h on its hidden
// neurons, trained with the loss + lambda * expected L0 (each gate weighted by what it removes);
// at test time the deterministic gates are folded into the weights and closed neurons are
// removed by the shared compaction.
//
// Trained as Louizos, Welling, Kingma (ICLR 2018) train their gates: log_alpha by Adam (not by
// the weights' optimizer), excluded from the weights' gradient clipping, and clamped to
// [log 0.01, log 100] after every step (their code's constrain_parameters).
//
// One implementation for every model (pruning/l0_hooks.h over the model's layout): the LM runs
// it through pruning/lm_form.h, BiDAF directly. Gate sets per LSTM (each direction of BiDAF's):
// its inputs and its hidden units. For the LM: E (the inputs of layer 1: embedding dimensions),
// I_l (the inputs of layer l >= 2, i.e. layer l-1's outputs as layer l reads them) and H_l. The
// input gates of an inner LSTM keep their own samples, as the paper puts gates on the input and
// the hidden neurons of every layer: a unit of layer l-1 that layer l stops reading still feeds
// its own recurrence, so closing I_l[j] removes only column j of W_ih^l (4 H_l weights), while
// closing H_{l-1}[j] removes the unit everywhere. Each kind of set's lambda is steerable apart:
// input sets reading only free spaces (the LM's embedding, BiDAF's highway outputs) get lambda *
// l0_embedding_lambda_ratio, the other input sets lambda * l0_input_lambda_ratio.
//
// Registered as "l0" (the paper's: each gate weighted by the weights it removes) and "l0_speed"
// (by the multiply-adds per token it removes; ours).
#ifndef RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
#define RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pruning/l0_hooks.h"
#include "pruning/model_method.h"

namespace rnnprune {

// What a gate's L0 term is weighted by.
enum class GateCost {
  kWeights,       // the number of weights it removes (NeuronGroupSizes): the paper's L0
  kMultiplyAdds,  // the multiply-adds per input it removes (NeuronGroupMultiplyAdds): speed-aware
};
// "weights" or "multiply_adds".
std::string GateCostName(GateCost cost);

// L0 over the layout of `options.model`, each gate weighted by `cost` (uniform per set): hidden
// sets at options.lambda, input sets at lambda times their ratio (own options
// l0_embedding_lambda_ratio, l0_input_lambda_ratio), gates starting at keep probability
// l0_init_keep, log_alpha trained by Adam at l0_gate_learning_rate; the sets named as the layout
// names them (PrunableLstm::input_set_name, hidden_set_name). Its RecordedOptions:
// lambda_embedding, lambda_input, lambda_hidden (absolute, per set kind), penalty_scale,
// gate_cost, gate_optimizer, gate_learning_rate, log_alpha_clamp, init_keep_probability.
// `options.own` must hold the resolved options of l0 (CreateModelMethod resolves them). Errors:
// those of UniformSetCosts and L0Hooks::Create (negative lambda, bad gate options or rate).
absl::StatusOr<std::unique_ptr<L0Hooks>> CreateL0Hooks(GateCost cost,
                                                       const ModelMethodOptions& options);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
