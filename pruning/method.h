// The interface every pruning method implements (the paper's L0 neuron selection and each
// baseline in baselines/), the structure a method yields, and the registry that maps the names
// of `--methods=dense,l0,iss,...` to implementations.
//
// A method is a set of TrainingHooks (what it adds to the loss, how it runs the forward pass,
// what it does after each optimizer step) plus Begin (before the first step) and Finish (the
// final structure). Every method is trained the same way by pruning/trainer.h: same data, same
// optimizer, same number of fine-tuning steps from the same dense checkpoint.
//
// Adding a method: one .cc file in baselines/ that defines a PruningMethod subclass and ends
// with one RNNPRUNE_REGISTER_PRUNING_METHOD line (see baselines/README.md).
#ifndef RNNPRUNE_PRUNING_METHOD_H_
#define RNNPRUNE_PRUNING_METHOD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "pruning/neuron_mask.h"
#include "pruning/trainer.h"
#include "torch/types.h"

namespace rnnprune {

// The final structure a method yields.
//  * Structured methods set `neurons`: per-layer input/hidden keep values (NeuronMask: 0
//    removes a neuron, values in (0, 1] are folded into the weights); pruning/compaction.h
//    turns it into a smaller dense LSTM LM.
//  * Unstructured methods set `weight_masks`: for exactly the LSTM weight matrices
//    (LstmWeightNames: "lstm0_w_ih", "lstm0_w_hh", ...; biases, embedding and decoder stay
//    dense), a bool tensor of the parameter's shape, true = kept. The model's weights are
//    exactly 0 where the mask is false.
//  * The dense control sets neither.
struct PruningStructure {
  bool structured = false;
  NeuronMask neurons;                                  // when structured
  std::map<std::string, torch::Tensor> weight_masks;  // when unstructured

  bool has_weight_masks() const { return !weight_masks.empty(); }
};

// What the numeric setting of a method's run means, so that the main job can sweep a method it
// has never heard of.
enum class SettingKind {
  kNone,         // one run, no setting (e.g. the dense control)
  kLambda,       // a regularisation strength (>= 0)
  kSparsity,     // a target fraction of pruned LSTM weights (W_ih, W_hh), in [0, 1)
  kTargetSizes,  // target sizes [E, H_0, ..., H_{L-1}], by default those the L0 runs found
};
// "none", "lambda", "sparsity", "target_sizes".
std::string SettingKindName(SettingKind kind);

// Everything a method is created from.
struct MethodOptions {
  LstmLmConfig config;        // the dense architecture being pruned
  double lambda = 0;          // kLambda methods
  double sparsity = 0;        // kSparsity methods
  // kTargetSizes methods: [E, H_0, ..., H_{L-1}], each in [1, dense size].
  std::vector<int64_t> target_sizes;
  // Optimizer steps the run will take (Train's steps over all epochs): gradual schedules
  // (Zhu & Gupta) are laid out over it. > 0.
  int64_t total_steps = 1;
  uint64_t seed = 1;          // for methods with randomness of their own (random removal)
  // After each step, Lasso-type methods set weights with |w| < zero_threshold to exactly 0
  // (Wen et al. 2018's rule; their code zeroes |w| < max(1e-4, 2 * weight decay), and we use no
  // weight decay).
  double zero_threshold = 1e-4;
  // L0 neuron selection only: input gates get lambda * l0_input_lambda_ratio; every gate's
  // initial keep probability.
  double l0_input_lambda_ratio = 1.0;
  double l0_init_keep = 0.95;
};

// A pruning method. Train() calls the TrainingHooks; the main job calls Begin before training
// and Finish after it.
class PruningMethod : public TrainingHooks {
 public:
  // Called once before the first optimizer step with the model to be trained (e.g. to rank
  // neurons or to impose a fixed mask). Errors: the model does not match the options.
  virtual absl::Status Begin(LstmLm& model) { return absl::OkStatus(); }
  // The final structure of the trained `model` (see PruningStructure). Called after Begin and
  // training; it may still change the model (e.g. apply the final weight masks). Errors:
  // FailedPrecondition when Begin was required and not called.
  virtual absl::StatusOr<PruningStructure> Finish(LstmLm& model) = 0;
};

// One entry of the registry.
struct PruningMethodInfo {
  std::string name;         // the name in --methods
  std::string description;  // one line, with the source (paper)
  bool structured = false;  // yields neurons (true) or weight masks (false)
  SettingKind setting = SettingKind::kNone;
  // Settings the main job uses when neither the preset nor a flag gives any (kLambda /
  // kSparsity values).
  std::vector<double> default_settings;
  // Builds the method. Receives options already checked by CreatePruningMethod (config valid,
  // setting in range for `setting`, total_steps >= 1); checks anything of its own.
  std::function<absl::StatusOr<std::unique_ptr<PruningMethod>>(const MethodOptions&)> create;
};

// Adds `info` to the registry (called by RNNPRUNE_REGISTER_PRUNING_METHOD at static
// initialisation). Returns true. Aborts with a message (a programming error, at start-up) when
// the name is not [a-z0-9_]+ (names appear in flags, test names and file names), is registered
// twice, or `create` is empty.
bool RegisterPruningMethod(PruningMethodInfo info);
// Names of every registered method, "dense" first, then in alphabetical order.
std::vector<std::string> RegisteredPruningMethods();
// The entry of `name`. Errors: NotFound naming the value and the registered names.
absl::StatusOr<PruningMethodInfo> GetPruningMethodInfo(const std::string& name);
// Creates the method `name` (options validated by the method).
// Errors: NotFound (unknown name), InvalidArgument (bad options, naming the field).
absl::StatusOr<std::unique_ptr<PruningMethod>> CreatePruningMethod(const std::string& name,
                                                                   const MethodOptions& options);

// Registers a method at static initialisation: RNNPRUNE_REGISTER_PRUNING_METHOD(MakeInfo())
// where MakeInfo() returns a PruningMethodInfo. The library holding it must be alwayslink.
#define RNNPRUNE_REGISTER_PRUNING_METHOD(info_expr) \
  RNNPRUNE_REGISTER_PRUNING_METHOD_IMPL(info_expr, __COUNTER__)
#define RNNPRUNE_REGISTER_PRUNING_METHOD_IMPL(info_expr, n) \
  RNNPRUNE_REGISTER_PRUNING_METHOD_IMPL2(info_expr, n)
#define RNNPRUNE_REGISTER_PRUNING_METHOD_IMPL2(info_expr, n)                        \
  [[maybe_unused]] static const bool rnnprune_pruning_method_registered_##n = \
      ::rnnprune::RegisterPruningMethod(info_expr)

// --- Helpers shared by the methods ------------------------------------------------------------

// Names of the LSTM weight matrices of `model`: lstm{l}_w_ih and lstm{l}_w_hh for every layer
// (the tensors unstructured methods prune; biases, embedding and decoder are left dense).
std::vector<std::string> LstmWeightNames(const LstmLm& model);
// The parameter of `model` called `name` (an alias). Throws c10::Error for an unknown name.
torch::Tensor ParameterByName(const LstmLm& model, const std::string& name);

// Validates `structure` for `model`: a structured one has a valid NeuronMask for the model's
// config; an unstructured one has bool masks of the right shapes for exactly the LSTM weight
// matrices, and the weights are 0 wherever the mask is false. Errors: InvalidArgument naming
// the tensor.
absl::Status ValidateStructure(const LstmLm& model, const PruningStructure& structure);

// Fraction of the masked weights that are pruned (false), over all masks; 0 when none.
double WeightSparsity(const PruningStructure& structure);

// The number of non-zero parameters of `model` (what an irregular-sparse format stores).
int64_t CountNonZeroParameters(const LstmLm& model);

// Hidden-unit groups of intrinsic sparse structures (Wen et al., "Learning Intrinsic Sparse
// Structures within Long Short-Term Memory", ICLR 2018, Section 3): the group of hidden unit k
// of layer l holds its four gate rows of W_ih^l, W_hh^l, b_ih^l, b_hh^l, column k of W_hh^l and
// column k of whatever reads h^l (W_ih^{l+1} or the decoder), each weight once. Returns the
// squared L2 norm of every group: one float32 tensor [H_l] per layer, differentiable. The model
// must be dense (input_sizes empty; throws c10::Error otherwise).
std::vector<torch::Tensor> IssGroupSquaredNorms(const LstmLm& model);

// Squared L2 norm of the weights an embedding dimension j feeds: embedding column j and column
// j of W_ih^0. float32 [E], not differentiable (used for ranking).
torch::Tensor EmbeddingDimSquaredNorms(const LstmLm& model);

// Sets every entry of each tensor with |w| < threshold to exactly 0, in place (no autograd).
void ZeroSmallWeights(const std::vector<torch::Tensor>& tensors, double threshold);

// The NeuronMask that keeps, in each set, the `target_sizes` neurons with the largest scores
// and closes the others (ties broken by the lower index): embedding_scores [E] for the input
// neurons of layer 0, hidden_scores[l] [H_l] for the hidden neurons of layer l; target_sizes =
// [E', H_0', ..., H_{L-1}']. Input neurons of layers >= 1 stay open (they follow the hidden
// neurons of the layer below). Throws c10::Error for mismatched sizes.
NeuronMask MaskKeepingLargest(const LstmLmConfig& config, const torch::Tensor& embedding_scores,
                              const std::vector<torch::Tensor>& hidden_scores,
                              const std::vector<int64_t>& target_sizes);

// Base of the structured baselines that choose a fixed set of neurons before fine-tuning
// (structured magnitude, random removal): Begin chooses the mask from the starting model,
// Forward runs the model with it (closed neurons contribute nothing, so the fine-tuning adapts
// the rest to their absence), Finish returns it.
class FixedNeuronMaskMethod : public PruningMethod {
 public:
  absl::Status Begin(LstmLm& model) override;
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override;
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override;

 protected:
  // The neurons to keep, chosen from the starting model.
  virtual absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) = 0;

 private:
  NeuronMask mask_;
  bool chosen_ = false;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_METHOD_H_
