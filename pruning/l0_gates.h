// The L0 gates of neuron selection (Wen et al. 2020, Section 3) over any model that describes its
// LSTMs (models/lstm_pruning_layout.h): one hard concrete gate set (Louizos et al. 2018) on the
// input neurons and one on the hidden neurons of every LSTM and direction, their training samples,
// their deterministic test-time values and the expected-L0 penalty, each gate weighted by a cost
// (the weights it removes: pruning/neuron_groups.h NeuronGroupSizes). pruning/l0_hooks.h trains
// them; pruning/l0_neuron_selection.h registers that as the paper's method for every model.
#ifndef RNNPRUNE_PRUNING_L0_GATES_H_
#define RNNPRUNE_PRUNING_L0_GATES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_pruning_layout.h"
#include "nlohmann/json.hpp"
#include "pruning/hard_concrete.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/types.h"

namespace rnnprune {

// Per gate set (keyed by LSTM name): its strength, its cost per gate and its name in diagnostics.
struct L0GatesOptions {
  // lambda of each set, >= 0 and finite, on the scale of penalty_scale (pruning/method.h).
  std::map<std::string, double> input_lambda, hidden_lambda;
  // The cost of each gate of a set (the same for every gate of the set), >= 0.
  std::map<std::string, int64_t> input_cost, hidden_cost;
  // From lambda * cost * P(z != 0) to the trainer's loss (> 0).
  double penalty_scale = 1.0;
  HardConcreteOptions gates;
  // Names of the sets in Diagnostics (e.g. the LM's "E", "I2", "H1"); "<lstm>.input" /
  // "<lstm>.hidden" when absent.
  std::map<std::string, std::string> input_names, hidden_names;
};

// The cost of every gate of each set, from per-gate values (e.g. NeuronGroupSizes). Errors:
// InvalidArgument naming the set when its values differ (a set must be uniform).
absl::StatusOr<std::pair<std::map<std::string, int64_t>, std::map<std::string, int64_t>>>
UniformSetCosts(const NeuronGroupValues& per_gate);

class L0Gates {
 public:
  // One input and one hidden set per LSTM of `layout` (sizes from `parameters`). Errors:
  // InvalidArgument naming the LSTM for a missing or negative lambda or cost, or bad gate options.
  static absl::StatusOr<L0Gates> Create(const LstmPruningLayout& layout,
                                        const std::map<std::string, torch::Tensor>& parameters,
                                        const L0GatesOptions& options);

  // `batch` samples of every gate, one per example: input [batch, I], hidden [batch, H] per LSTM,
  // differentiable wrt log_alpha. Draws from the global torch RNG, the input sets first, then the
  // hidden sets, each in layout order. With a `share` of a global batch (data-parallel training),
  // every set's noise is drawn for the global batch and the share's rows kept.
  NeuronGates Sample(int64_t batch, const BatchShare& share = {}) const;
  // The deterministic test-time gates z_hat (detached), [I] and [H] per LSTM.
  NeuronGates Deterministic() const;
  // penalty_scale * sum over sets s of lambda_s * cost_s * sum_g P(z_g != 0) (Louizos et al.
  // Eq. 12 for P): the paper's expected L0, a differentiable scalar.
  torch::Tensor Penalty() const;
  // sum over sets of cost_s * sum_g P(z_g != 0): the expected cost the gates keep.
  double ExpectedCost() const;
  // Every log_alpha: the input sets, then the hidden sets, each in layout order.
  std::vector<torch::Tensor> LogAlphas();
  // Clamps every log_alpha to [lo, hi] in place.
  void Clamp(double lo, double hi);
  // Per set (inputs, then hidden) under "gate_sets": {"set", "size", "closed", "partial",
  // "open", "mean_log_alpha", "expected_l0", "expected_cost"}, and the total "expected_cost".
  nlohmann::json Diagnostics() const;

  const std::vector<HardConcreteGates>& input_sets() const { return input_; }
  const std::vector<HardConcreteGates>& hidden_sets() const { return hidden_; }

 private:
  struct SetInfo {
    std::string lstm, name;
    int64_t cost = 0;
    double lambda = 0;
  };
  // lambda * cost * sum P of one set.
  static torch::Tensor WeightedL0(const HardConcreteGates& gates, int64_t cost, double lambda);

  std::vector<HardConcreteGates> input_, hidden_;
  std::vector<SetInfo> input_info_, hidden_info_;
  double penalty_scale_ = 1.0;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_L0_GATES_H_
