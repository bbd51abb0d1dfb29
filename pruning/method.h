// The interface every pruning method implements (the paper's L0 neuron selection and each
// baseline in baselines/), the structure a method yields, and the registry that maps the names
// of `--methods=dense,l0,iss,...` to implementations.
//
// A method is a set of TrainingHooks (what it adds to the loss, how it runs the forward pass,
// what it does after each optimizer step) plus Begin (before the first step) and Finish (the
// final structure). Every method is trained the same way by training/lm_trainer.h: same data, same
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
#include "nlohmann/json.hpp"
#include "pruning/method_option.h"
#include "pruning/model_method.h"
#include "pruning/neuron_mask.h"
#include "torch/types.h"
#include "training/lm_trainer.h"

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
  NeuronMask neurons;                                 // when structured
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

// Converts a penalty strength lambda into the trainer's loss units. Every lambda (L0, ISS,
// Lasso) is on one scale, that of Louizos et al. (2018, Eq. 3): the penalty lambda * R(theta)
// is divided by N, the training tokens of one epoch, and added to the mean NLL per token, so
// that one epoch adds lambda * R nats in all, whatever the data size or the preset. The
// trainer's loss sums the NLL over the `bptt` steps of a window (Zaremba's normalisation, see
// training/lm_trainer.h), so a method adds penalty_scale * lambda * R to each window's loss, and a
// proximal step shrinks by learning_rate * penalty_scale * lambda. Returns bptt / N, with
// N = EpochTrainingTokens(stream_tokens, batch_size); 0 when the stream has no full epoch.
double PenaltyScale(int64_t stream_tokens, int64_t batch_size, int64_t bptt);

// Everything a method is created from.
struct MethodOptions {
  LstmLmConfig config;  // the dense architecture being pruned
  // kLambda methods: the strength, per epoch of training tokens (see PenaltyScale), >= 0.
  double lambda = 0;
  // Factor from lambda * R to the trainer's loss of one window: PenaltyScale(...) of the run's
  // data, > 0. The default 1 (lambda per window) is for tests.
  double penalty_scale = 1.0;
  double sparsity = 0;  // kSparsity methods
  // kTargetSizes methods: [E, H_1, ..., H_L] or, to fix the inputs of the upper layers too,
  // [E, I_2, ..., I_L, H_1, ..., H_L] (the order of the report's "E / I2 / H1 / H2"); each in
  // [1, dense size], and I_l <= H_{l-1} (see TargetSizes).
  std::vector<int64_t> target_sizes;
  // Optimizer steps the run will take (Train's steps over all epochs): gradual schedules
  // (Zhu & Gupta) are laid out over it. > 0.
  int64_t total_steps = 1;
  uint64_t seed = 1;  // for methods with randomness of their own (random removal)
  // The method's own options (PruningMethodInfo::options) as given, flag -> text (the command
  // line's --flag=VALUE, or a test's); flags no spec of this method declares are ignored.
  std::map<std::string, std::string> given_options;
  // Their values, parsed and checked, every declared option present (defaults filled): set by
  // CreatePruningMethod from given_options before `create` runs; what a method reads.
  nlohmann::json own = nlohmann::json::object();
};

// Target sizes of a size-taking method for a model of config `config` (dense sizes), from
// MethodOptions::target_sizes: the embedding dims E', per layer l >= 2 the inputs I_l' it reads
// of layer l-1's kept units (empty `inputs`: all of them), and the hidden sizes H_l'.
struct TargetSizes {
  int64_t embedding = 0;
  std::vector<int64_t> inputs;  // I_2', ..., I_L' (empty: every kept unit of the layer below)
  std::vector<int64_t> hidden;  // H_1', ..., H_L'
  // Parses `sizes` (L + 1 or 2L entries, see MethodOptions::target_sizes). Errors:
  // InvalidArgument naming the entry and the rule (count, range, I_l <= H_{l-1}').
  static absl::StatusOr<TargetSizes> Parse(const std::vector<int64_t>& sizes,
                                           const LstmLmConfig& config);
};

// A pruning method. Train() calls the TrainingHooks during the search phase of the pruning
// protocol (pruning/protocol.h), which calls Begin before it and Finish after it.
class PruningMethod : public TrainingHooks {
 public:
  // Called once before the first optimizer step with the model to be trained (e.g. to rank
  // neurons or to impose a fixed mask). Errors: the model does not match the options.
  virtual absl::Status Begin(LstmLm& model) { return absl::OkStatus(); }
  // The final structure of the trained `model` (see PruningStructure). Called after Begin and
  // training (right after Begin for a method whose structure is fixed at the start); it may
  // still change the model (e.g. apply the final weight masks). Errors: FailedPrecondition
  // when Begin was required and not called.
  virtual absl::StatusOr<PruningStructure> Finish(LstmLm& model) = 0;
  // True for methods that choose their final structure from the starting model in Begin and do
  // not change it by training (structured magnitude, random removal): the protocol compacts the
  // model at once and trains the compacted model for the whole budget.
  virtual bool StructureFixedAtStart() const { return false; }
  // The method's own options beyond its setting (e.g. L0's per-set lambdas, gate learning rate,
  // gate cost), as a JSON object written into every record and into its config hash; {} when
  // it has none.
  virtual nlohmann::json RecordedOptions() const { return nlohmann::json::object(); }
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
  // Its runs' kept sizes are the default target sizes of the size-taking methods (kTargetSizes),
  // so that those compare with it at identical sizes (the L0 methods).
  bool sizes_are_targets = false;
  // Options of its own beyond the setting (see pruning/method_option.h), declared once here;
  // CreatePruningMethod resolves them into MethodOptions::own.
  std::vector<MethodOptionSpec> options;
  // A flag that lists this method's settings (comma-separated) when --settings does not, e.g.
  // "l0_lambdas" for l0 and l0_speed; empty for none.
  std::string settings_flag;
  // True when, with these resolved options (MethodOptions::own), the method trains the dense
  // architecture from scratch instead of fine-tuning the dense checkpoint (L0's
  // --l0_mode=scratch); empty: never.
  std::function<bool(const nlohmann::json& own)> trains_from_scratch;
  // Builds the method for any model that describes its LSTMs (pruning/model_method.h; BiDAF);
  // empty: the method prunes the LSTM LM only, so far. Receives options checked by
  // CreateModelMethod (own options resolved).
  std::function<absl::StatusOr<std::unique_ptr<ModelMethod>>(const ModelMethodOptions&)>
      create_for_any_model;
};

// The function that builds a method from its options (PruningMethodInfo::create).
using PruningMethodFactory =
    std::function<absl::StatusOr<std::unique_ptr<PruningMethod>>(const MethodOptions&)>;

// A registry entry with the fields every method gives; the others keep their defaults (no
// options of its own, no settings flag, sizes not targets, never from scratch).
PruningMethodInfo MethodInfo(std::string name, std::string description, bool structured,
                             SettingKind setting, std::vector<double> default_settings,
                             PruningMethodFactory create);

// Adds `info` to the registry (called by RNNPRUNE_REGISTER_PRUNING_METHOD at static
// initialisation). Returns true. Aborts with a message (a programming error, at start-up) when
// the name is not [a-z0-9_]+ (names appear in flags, test names and file names), is registered
// twice, or `create` is empty; or when an option's flag is not [a-z0-9_]+, has no parse
// function, has a default its own rule refuses, or is declared by another method with another
// default or help.
bool RegisterPruningMethod(PruningMethodInfo info);
// Names of every registered method, "dense" first, then in alphabetical order.
std::vector<std::string> RegisteredPruningMethods();
// Every option declared by a registered method, each flag once, in flag order (for the
// command line and --help).
std::vector<MethodOptionSpec> RegisteredMethodOptions();
// Every settings_flag of a registered method, each once, in order.
std::vector<std::string> RegisteredSettingsFlags();
// The resolved own options of method `name` from `given` (flag -> text), and whether it then
// trains from scratch. Errors: NotFound (unknown name); the option's InvalidArgument.
absl::StatusOr<nlohmann::json> ResolveOwnOptions(const std::string& name,
                                                 const std::map<std::string, std::string>& given);
absl::StatusOr<bool> TrainsFromScratch(const std::string& name,
                                       const std::map<std::string, std::string>& given);
// The entry of `name`. Errors: NotFound naming the value and the registered names.
absl::StatusOr<PruningMethodInfo> GetPruningMethodInfo(const std::string& name);
// Creates the model-agnostic form of method `name` (PruningMethodInfo::create_for_any_model),
// its own options resolved from options.given_options. Errors: NotFound (unknown name);
// Unimplemented naming the method when it has no such form yet; InvalidArgument for a negative
// or non-finite lambda, a penalty scale that is not > 0, a sparsity outside [0, 1), total_steps
// < 1, or a bad own option.
absl::StatusOr<std::unique_ptr<ModelMethod>> CreateModelMethod(const std::string& name,
                                                               const ModelMethodOptions& options);
// Names of the registered methods that have a model-agnostic form, in RegisteredPruningMethods
// order.
std::vector<std::string> RegisteredModelMethods();

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
#define RNNPRUNE_REGISTER_PRUNING_METHOD_IMPL2(info_expr, n)                  \
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

// The option --zero_threshold (default 1e-4, >= 0) that the Lasso-type methods (ISS group Lasso,
// L1 Lasso) declare: after each step they set weights with |w| below it to exactly 0 (Wen et al.
// 2018's rule; their code zeroes |w| < max(1e-4, 2 * weight decay), and we use no weight decay).
MethodOptionSpec ZeroThresholdOption();

// Scores of every neuron for MaskKeepingLargest: embedding [E] for the input neurons of layer
// 1, hidden[l] [H_l] for the hidden neurons of layer l, and, when the targets fix the inputs of
// the upper layers, inputs[l - 1] [H_{l-1}] for the input neurons of layer l >= 2.
struct NeuronScores {
  torch::Tensor embedding;
  std::vector<torch::Tensor> hidden;
  std::vector<torch::Tensor> inputs;  // may be empty when the targets have no inputs
};

// Uniform random scores in [0, 1) for every neuron set of `config` (embedding, each layer's
// hidden units, then the inputs of layers 2..L), drawn in that order from a generator seeded
// with `seed` (torch's global generator is left alone): the ranking of random removal.
NeuronScores RandomNeuronScores(const LstmLmConfig& config, uint64_t seed);

// The NeuronMask that keeps, in each set, the target number of neurons with the largest scores
// and closes the others (ties broken by the lower index): GatesKeepingLargest
// (pruning/gate_targets.h) over the model's layout. The input neurons of layer l >= 2 are chosen
// among the hidden units kept in layer l-1 (the others are removed anyway); with no input
// targets they all stay open. Errors: InvalidArgument for mismatched sizes (naming the LSTM).
absl::StatusOr<NeuronMask> MaskKeepingLargest(const LstmLm& model, const NeuronScores& scores,
                                              const TargetSizes& targets);

// Squared L2 norm of the weights each input neuron of layer l >= 2 feeds: column j of
// W_ih^l. One float32 tensor [H_{l-1}] per layer l >= 2 (L - 1 of them), not differentiable.
std::vector<torch::Tensor> UpperInputSquaredNorms(const LstmLm& model);

// Base of the structured baselines that choose a fixed set of neurons from the starting model
// (structured magnitude, random removal): Begin chooses the mask, Finish returns it, and
// StructureFixedAtStart tells the protocol (pruning/protocol.h) to compact the model at once and
// train the compacted model for the whole budget. Forward (the model run with the mask as scaled
// weights) serves a caller that trains the uncompacted model with Train directly.
class FixedNeuronMaskMethod : public PruningMethod {
 public:
  absl::Status Begin(LstmLm& model) override;
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override;
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override;
  bool StructureFixedAtStart() const override { return true; }

 protected:
  // The neurons to keep, chosen from the starting model.
  virtual absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) = 0;

 private:
  NeuronMask mask_;
  bool chosen_ = false;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_METHOD_H_
