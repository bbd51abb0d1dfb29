// A pruning method over any model that describes its LSTMs (models/lstm_pruning_layout.h): the
// model-agnostic counterpart of PruningMethod (pruning/method.h, which takes the LSTM LM). A
// method registers a factory for it in its PruningMethodInfo (`create_for_any_model`); the BiDAF
// protocol (benchmarks/bidaf_pruning.h) runs it, and pruning/lm_form.h runs it on the LSTM LM's
// protocol, so that a method written here has one implementation for every model. The final
// structure is a set of neuron gates (structured methods) or masks of the LSTM weight matrices
// (unstructured ones).
#ifndef RNNPRUNE_PRUNING_MODEL_METHOD_H_
#define RNNPRUNE_PRUNING_MODEL_METHOD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/prunable_model.h"
#include "nlohmann/json.hpp"
#include "pruning/gate_targets.h"
#include "pruning/neuron_gates.h"
#include "training/model_hooks.h"

namespace rnnprune {

// Everything a model-agnostic method is created from.
struct ModelMethodOptions {
  // The model to be pruned, as the method sees it (layout, parameter shapes; the values are
  // those of the parent, for methods that rank from them in Begin).
  PrunableModelView model;
  // kLambda methods: the strength (>= 0), and the factor from lambda * R to the loss of a batch
  // (> 0; e.g. 1 / the training examples of an epoch, Louizos et al. 2018, Eq. 3).
  double lambda = 0;
  double penalty_scale = 1.0;
  // kTargetSizes methods: kept neurons per gate set (e.g. the sizes an L0 run reached).
  GateTargets targets;
  // kSparsity methods: the fraction of the entries of every LSTM weight matrix (W_ih, W_hh of
  // each LSTM of the layout) to prune, in [0, 1).
  double sparsity = 0;
  int64_t total_steps = 1;  // optimizer steps of the search phase (>= 1)
  uint64_t seed = 1;        // for methods with randomness of their own
  // The method's own options, as for PruningMethod (MethodOptions::given_options / own).
  std::map<std::string, std::string> given_options;
  nlohmann::json own = nlohmann::json::object();
};

class ModelMethod : public ModelHooks {
 public:
  // Once, before the search phase, on the model to be pruned (e.g. rank neurons).
  virtual absl::Status Begin(PrunableModelView& model) { return absl::OkStatus(); }
  // The final structure after the search phase (or right after Begin when
  // StructureFixedAtStart): neuron gates (0 removes a neuron, values in (0, 1] are folded in);
  // empty maps: no pruning (the dense control).
  virtual absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) = 0;
  // Unstructured methods: the final masks, for exactly the LSTM weight matrices
  // (LstmWeightMatrixNames of the layout), each a bool tensor of the matrix's shape, true =
  // kept; the protocol sets the weights to 0 where a mask is false and holds them there while
  // the network recovers. Called after FinalGates (which then returns empty maps). Empty (the
  // default): a structured method, or the dense control.
  virtual absl::StatusOr<std::map<std::string, torch::Tensor>> FinalWeightMasks(
      const PrunableModelView& model) {
    return std::map<std::string, torch::Tensor>{};
  }
  // True when the structure is chosen in Begin from the starting model and never trained: the
  // protocol compacts at once and trains the compacted model for the whole budget.
  virtual bool StructureFixedAtStart() const { return false; }
  // The method's own options, for records and config hashes ({} when none).
  virtual nlohmann::json RecordedOptions() const { return nlohmann::json::object(); }
};

// The function that builds a method's model-agnostic form (PruningMethodInfo::
// create_for_any_model).
using ModelMethodFactory =
    std::function<absl::StatusOr<std::unique_ptr<ModelMethod>>(const ModelMethodOptions&)>;

// Base of the methods that choose a fixed set of neurons from the starting model (structured
// magnitude, random removal): Begin chooses the gates, FinalGates returns them, and the protocol
// compacts at once. Forward folds the gates into the weights, for a caller that trains the
// uncompacted model.
class FixedGatesMethod : public ModelMethod {
 public:
  absl::Status Begin(PrunableModelView& model) override;
  // Errors: FailedPrecondition before Begin.
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override;
  bool StructureFixedAtStart() const override { return true; }
  ForwardPlan Forward(const PrunableModelView& model, int64_t batch) override;

 protected:
  // The gates to keep, from the starting model. Errors: the method's (e.g. bad targets).
  virtual absl::StatusOr<NeuronGates> ChooseGates(const PrunableModelView& model) = 0;

 private:
  bool chosen_ = false;
  NeuronGates gates_;
};

// Names of the LSTM weight matrices of `layout`, w_ih then w_hh of every LSTM in layout order
// (the LSTM LM: lstm0_w_ih, lstm0_w_hh, lstm1_w_ih, ...): the tensors unstructured methods
// prune; biases and every other parameter stay dense.
std::vector<std::string> LstmWeightMatrixNames(const LstmPruningLayout& layout);

// The non-zero pattern of the LSTM weight matrices of `model` (LstmWeightMatrixNames): bool
// masks of their shapes, true where the weight is not 0 (what an unstructured method's zeros
// leave; no autograd).
std::map<std::string, torch::Tensor> NonZeroWeightMasks(const PrunableModelView& model);

// The recovery phase of an unstructured structure (Zhu & Gupta 2017; Han et al. 2015): holds
// every masked-out entry of the LSTM weight matrices at exactly 0 after each optimizer step.
class HeldWeightMasks : public ModelHooks {
 public:
  // `masks`: weight name -> bool tensor of its shape, true = kept.
  explicit HeldWeightMasks(std::map<std::string, torch::Tensor> masks) : masks_(std::move(masks)) {}
  void AfterStep(PrunableModelView& model, const StepSizes& step) override;
  const std::map<std::string, torch::Tensor>& masks() const { return masks_; }

 private:
  std::map<std::string, torch::Tensor> masks_;
};

// Sets the entries of each named parameter of `parameters` to 0 where its mask in `masks` is
// false (in place, no autograd). Errors: InvalidArgument naming the tensor when a mask names no
// parameter, is not bool, or has another shape.
absl::Status ApplyWeightMasks(const std::map<std::string, torch::Tensor>& masks,
                              const std::map<std::string, torch::Tensor>& parameters);

// Scores of every gate: uniform in [0, 1), drawn from a generator seeded with `seed` (torch's
// global generator is left alone), the input sets of the LSTMs that read only free spaces first,
// then the hidden sets, then the other input sets, each in layout order (for the LSTM LM, the
// order of RandomNeuronScores): the ranking of random removal.
NeuronGroupValues RandomGateScores(const LstmPruningLayout& layout,
                                   const std::map<std::string, torch::Tensor>& parameters,
                                   uint64_t seed);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_MODEL_METHOD_H_
