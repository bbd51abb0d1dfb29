// The paper's method: L0-regularised neuron selection for LSTMs (Wen, Zhang, Bai, Xu 2020,
// "Structured Pruning of Recurrent Neural Networks through Neuron Selection", Neural Networks
// 123, Section 3). Hard concrete gates z_x on every layer's input neurons and z_h on its hidden
// neurons, trained with NLL + lambda * expected L0 (each gate weighted by what it removes); at
// test time the deterministic gates give the NeuronMask that compaction folds in.
//
// Trained as Louizos, Welling, Kingma (ICLR 2018) train their gates: log_alpha by Adam (not by
// the weights' SGD), excluded from the weights' gradient clipping, and clamped to
// [log 0.01, log 100] after every step (their code's constrain_parameters).
//
// Gate sets: E (the inputs of layer 1: embedding dimensions), I_l (the inputs of layer l >= 2,
// i.e. layer l-1's outputs as layer l reads them) and H_l (the hidden units of layer l). The
// input gates of layer l >= 2 keep their own samples, as the paper puts gates on the input and
// the hidden neurons of every layer: a unit of layer l-1 that layer l stops reading still feeds
// its own recurrence, so closing I_l[j] removes only column j of W_ih^l (4 H_l weights), while
// closing H_{l-1}[j] removes the unit everywhere. Each set's lambda is steerable apart: the
// embedding gates get lambda * embedding_ratio, the upper input gates lambda * input_ratio.
#ifndef RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
#define RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "nlohmann/json.hpp"
#include "pruning/hard_concrete.h"
#include "pruning/l0_gates.h"
#include "pruning/method.h"
#include "pruning/neuron_mask.h"
#include "torch/optim/adam.h"
#include "training/lm_trainer.h"

namespace rnnprune {

// What a gate's L0 term is weighted by.
enum class GateCost {
  kWeights,       // the number of weights it removes (CountGateWeights): the paper's L0
  kMultiplyAdds,  // the multiply-adds per token it removes (CountGateMultiplyAdds): speed-aware
};
// "weights" or "multiply_adds".
std::string GateCostName(GateCost cost);

struct L0Options {
  // Strengths per gate set on the per-token scale of pruning/method.h PenaltyScale (lambda per
  // epoch of training tokens), each >= 0 and finite: the embedding gates (inputs of layer 1),
  // the input gates of layers 2..L, the hidden gates of every layer.
  double lambda_embedding = 0.0;
  double lambda_input = 0.0;
  double lambda_hidden = 0.0;
  // From lambda * cost * P(z != 0) to the trainer's loss of one window (PenaltyScale), > 0.
  double penalty_scale = 1.0;
  GateCost cost = GateCost::kWeights;
  // Adam's learning rate for log_alpha (> 0).
  double gate_learning_rate = 0.5;  // chosen on the valid split: README.md, "Choosing the settings"
  HardConcreteOptions gates;        // beta, gamma, zeta, initial keep probability

  // Errors: InvalidArgument naming the field (negative or non-finite lambda, scale or learning
  // rate, bad gate options).
  absl::Status Validate() const;
};

// Training hooks that gate an LstmLm's neurons. In training, every gate is sampled once per
// sequence of the batch and BPTT window (Louizos et al. sample theirs per example; one sample
// holds over the window's time steps, as a variational-dropout mask would) and multiplies its
// neuron's values wherever they are read (LstmLmImpl::RunWithNeuronGates). In eval mode the
// deterministic gates z_hat are folded into the weights as column scalings (RunGated), which
// is what compaction removes. Registered as "l0" (the paper's: each
// gate weighted by the weights it removes) and "l0_speed" (by the multiply-adds it removes);
// their kLambda setting is lambda_hidden, the other sets get it times their ratio.
class L0NeuronSelection : public PruningMethod {
 public:
  // log_alpha never leaves [log 0.01, log 100] (Louizos et al.'s clamp).
  static constexpr double kMinLogAlpha = -4.605170185988091;  // log(0.01)
  static constexpr double kMaxLogAlpha = 4.605170185988091;   // log(100)

  // One input and one hidden gate set per layer of `config` (dense sizes), and the Adam that
  // trains their log_alpha.
  static absl::StatusOr<std::unique_ptr<L0NeuronSelection>> Create(const LstmLmConfig& config,
                                                                   const L0Options& options);

  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override;

  // penalty_scale * sum over gate sets s of lambda_s * sum_{g in s} cost_g * P(z_g != 0),
  // with cost_g from CountGateWeights or CountGateMultiplyAdds: the expected L0 of the paper
  // (Eq. 12 of Louizos et al. for P), in the trainer's loss units of one window.
  torch::Tensor Penalty(LstmLm& model) override;

  std::vector<torch::Tensor> ExtraParameters() override;
  torch::optim::Optimizer* ExtraOptimizer() override { return adam_.get(); }
  // Clamps every log_alpha to [kMinLogAlpha, kMaxLogAlpha].
  void AfterStep(LstmLm& model, double learning_rate) override;
  // Per gate set (E, I2..IL, H1..HL, in that order) under "gate_sets": {"set", "size",
  // "closed" (z_hat == 0), "partial" (0 < z_hat < 1), "open" (z_hat == 1), "mean_log_alpha",
  // "expected_l0" (sum of P(z != 0): the expected number of open gates), "expected_cost" (the
  // same weighted by each gate's cost)}; and the total "expected_cost".
  nlohmann::json Diagnostics(const LstmLm& model) override;
  nlohmann::json RecordedOptions() const override;

  // The deterministic gates as the final structure.
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override;

  // `batch` samples of every gate, one per sequence: input[l] [batch, I_l], hidden[l]
  // [batch, H_l] (differentiable wrt log_alpha; not a NeuronMask of one row per neuron).
  NeuronMask SampleMask(int64_t batch) const;
  // The deterministic test-time gates z_hat (detached).
  NeuronMask DeterministicMask() const;
  // sum over gates of cost_g P(z_g != 0): the expected cost the gates keep (overlaps counted
  // per gate), a diagnostic.
  double ExpectedL0() const { return gates_.ExpectedCost(); }

  const std::vector<HardConcreteGates>& input_gates() const { return gates_.input_sets(); }
  const std::vector<HardConcreteGates>& hidden_gates() const { return gates_.hidden_sets(); }

 private:
  L0NeuronSelection(const L0Options& options, L0Gates gates)
      : options_(options), gates_(std::move(gates)) {}

  L0Options options_;
  L0Gates gates_;  // over the LM's layout (LSTMs "lstm<l>")
  std::unique_ptr<torch::optim::Adam> adam_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
