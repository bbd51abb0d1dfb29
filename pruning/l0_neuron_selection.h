// The paper's method: L0-regularised neuron selection for LSTMs (Wen, Zhang, Bai, Xu 2020,
// "Structured Pruning of Recurrent Neural Networks through Neuron Selection", Neural Networks
// 123, Section 3). Hard concrete gates z_x on every layer's input neurons and z_h on its hidden
// neurons, trained with NLL + lambda * expected L0 (each gate weighted by the weights it
// removes); at test time the deterministic gates give the NeuronMask that compaction folds in.
#ifndef RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
#define RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "pruning/hard_concrete.h"
#include "pruning/method.h"
#include "pruning/neuron_mask.h"
#include "pruning/trainer.h"

namespace rnnprune {

struct L0Options {
  // Penalty weights (per window: see L0NeuronSelection::Penalty). >= 0.
  double lambda_input = 0.0;
  double lambda_hidden = 0.0;
  HardConcreteOptions gates;  // beta, gamma, zeta, initial keep probability

  // Errors: InvalidArgument naming the field (negative lambda, bad gate options).
  absl::Status Validate() const;
};

// Training hooks that gate an LstmLm's neurons. Gates are sampled once per minibatch (BPTT
// window) and applied as weight-column scalings (ApplyNeuronMask), which equals gating the
// vectors at every time step of the window (W (z * x) = (W diag z) x) while keeping the fused
// LSTM layer; sampling per time step would need a per-step cell and is not what we do.
// In eval mode the deterministic gates z_hat are used. Registered as "l0" (kLambda: lambda is
// the hidden gates' lambda; the input gates get lambda * l0_input_lambda_ratio).
class L0NeuronSelection : public PruningMethod {
 public:
  // One input and one hidden gate set per layer of `config` (dense sizes).
  static absl::StatusOr<std::unique_ptr<L0NeuronSelection>> Create(const LstmLmConfig& config,
                                                                   const L0Options& options);

  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override;

  // lambda_input * sum_l |g_x^l| sum_j P(z_x^l[j] != 0)
  //   + lambda_hidden * sum_l |g_h^l| sum_k P(z_h^l[k] != 0)
  // with |g| from CountGateWeights (number of weights a gate removes). Added once per BPTT
  // window to the NLL summed over the window's time steps and averaged over the batch, so
  // lambda is "nats per expected weight per window" (the paper's lambda per minibatch).
  torch::Tensor Penalty(LstmLm& model) override;

  std::vector<torch::Tensor> ExtraParameters() override;

  // The deterministic gates as the final structure (structured; registered as "l0").
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override;

  // One sample of every gate (differentiable wrt log_alpha).
  NeuronMask SampleMask() const;
  // The deterministic test-time gates z_hat (detached).
  NeuronMask DeterministicMask() const;
  // sum over gates of |g| P(z_g != 0): the expected number of weights the gates keep (with
  // overlaps counted per gate), a diagnostic.
  double ExpectedL0() const;

  const std::vector<HardConcreteGates>& input_gates() const { return input_gates_; }
  const std::vector<HardConcreteGates>& hidden_gates() const { return hidden_gates_; }

 private:
  L0NeuronSelection(const L0Options& options, GateWeightCounts counts)
      : options_(options), counts_(std::move(counts)) {}
  torch::Tensor WeightedL0(bool input) const;

  L0Options options_;
  GateWeightCounts counts_;
  std::vector<HardConcreteGates> input_gates_;
  std::vector<HardConcreteGates> hidden_gates_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_L0_NEURON_SELECTION_H_
