#include "pruning/method.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "pruning/gate_targets.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::map<std::string, PruningMethodInfo>& Registry() {
  static auto* registry = new std::map<std::string, PruningMethodInfo>();
  return *registry;
}

// The dense control: trains with no penalty and removes nothing.
class DenseControl : public PruningMethod {
 public:
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override { return PruningStructure{}; }
};

// The same for any model: no gates.
class DenseModelControl : public ModelMethod {
 public:
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    return NeuronGates{};
  }
};

bool IsIdentifier(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Aborts (a programming error, at start-up) on a malformed option declaration, or one that
// contradicts another method's declaration of the same flag.
void CheckOptionSpec(const std::string& method, const MethodOptionSpec& spec) {
  auto die = [&](const std::string& why) {
    std::fprintf(stderr, "RegisterPruningMethod: %s: option --%s %s\n", method.c_str(),
                 spec.flag.c_str(), why.c_str());
    std::abort();
  };
  if (!IsIdentifier(spec.flag)) die("must match [a-z0-9_]+");
  if (!spec.parse) die("has no parse function");
  const std::string text = spec.default_value.is_string() ? spec.default_value.get<std::string>()
                                                          : spec.default_value.dump();
  if (!spec.parse(text).ok()) die("has a default its own rule refuses");
  for (const auto& [other, info] : Registry()) {
    for (const MethodOptionSpec& o : info.options) {
      if (o.flag == spec.flag && (o.default_value != spec.default_value || o.help != spec.help)) {
        die(absl::StrCat("is also declared by ", other, " with another default or help"));
      }
    }
  }
}

}  // namespace

std::string SettingKindName(SettingKind kind) {
  switch (kind) {
    case SettingKind::kNone:
      return "none";
    case SettingKind::kLambda:
      return "lambda";
    case SettingKind::kSparsity:
      return "sparsity";
    case SettingKind::kTargetSizes:
      return "target_sizes";
  }
  return "unknown";
}

PruningMethodInfo MethodInfo(std::string name, std::string description, bool structured,
                             SettingKind setting, std::vector<double> default_settings,
                             PruningMethodFactory create) {
  PruningMethodInfo info;
  info.name = std::move(name);
  info.description = std::move(description);
  info.structured = structured;
  info.setting = setting;
  info.default_settings = std::move(default_settings);
  info.create = std::move(create);
  return info;
}

bool RegisterPruningMethod(PruningMethodInfo info) {
  if (info.name.empty() || !info.create) {
    std::fprintf(stderr, "RegisterPruningMethod: a method needs a name and a create function\n");
    std::abort();
  }
  if (!IsIdentifier(info.name)) {
    std::fprintf(stderr,
                 "RegisterPruningMethod: name '%s' must match [a-z0-9_]+ (it appears in "
                 "--methods, --settings, test names and file names)\n",
                 info.name.c_str());
    std::abort();
  }
  for (const MethodOptionSpec& spec : info.options) CheckOptionSpec(info.name, spec);
  if (Registry().count(info.name) > 0) {
    std::fprintf(stderr, "RegisterPruningMethod: '%s' is registered twice\n", info.name.c_str());
    std::abort();
  }
  std::string name = info.name;
  Registry().emplace(std::move(name), std::move(info));
  return true;
}

std::vector<std::string> RegisteredPruningMethods() {
  std::vector<std::string> names;
  if (Registry().count("dense") > 0) names.push_back("dense");
  for (const auto& [name, info] : Registry()) {
    if (name != "dense") names.push_back(name);
  }
  return names;
}

std::vector<MethodOptionSpec> RegisteredMethodOptions() {
  std::map<std::string, MethodOptionSpec> by_flag;
  for (const auto& [name, info] : Registry()) {
    for (const MethodOptionSpec& spec : info.options) by_flag.emplace(spec.flag, spec);
  }
  std::vector<MethodOptionSpec> specs;
  for (auto& [flag, spec] : by_flag) specs.push_back(std::move(spec));
  return specs;
}

std::vector<std::string> RegisteredSettingsFlags() {
  std::set<std::string> flags;
  for (const auto& [name, info] : Registry()) {
    if (!info.settings_flag.empty()) flags.insert(info.settings_flag);
  }
  return {flags.begin(), flags.end()};
}

absl::StatusOr<nlohmann::json> ResolveOwnOptions(const std::string& name,
                                                 const std::map<std::string, std::string>& given) {
  ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(name));
  return ResolveMethodOptions(info.options, given);
}

absl::StatusOr<bool> TrainsFromScratch(const std::string& name,
                                       const std::map<std::string, std::string>& given) {
  ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(name));
  if (!info.trains_from_scratch) return false;
  ASSIGN_OR_RETURN(nlohmann::json own, ResolveMethodOptions(info.options, given));
  return info.trains_from_scratch(own);
}

absl::StatusOr<PruningMethodInfo> GetPruningMethodInfo(const std::string& name) {
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    return absl::NotFoundError(absl::StrCat("unknown pruning method '", name, "' (registered: ",
                                            absl::StrJoin(RegisteredPruningMethods(), ", "), ")"));
  }
  return it->second;
}

absl::StatusOr<std::unique_ptr<PruningMethod>> CreatePruningMethod(const std::string& name,
                                                                   const MethodOptions& options) {
  ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(name));
  RETURN_IF_ERROR(options.config.Validate());
  if (options.total_steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": total_steps=", options.total_steps, " must be >= 1"));
  }
  if (info.setting == SettingKind::kLambda &&
      !(options.lambda >= 0 && std::isfinite(options.lambda))) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": lambda=", options.lambda, " must be finite and >= 0"));
  }
  if (!(options.penalty_scale > 0 && std::isfinite(options.penalty_scale))) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": penalty_scale=", options.penalty_scale, " must be finite and > 0"));
  }
  if (info.setting == SettingKind::kSparsity && !(options.sparsity >= 0 && options.sparsity < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": sparsity=", options.sparsity, " must be in [0, 1)"));
  }
  if (info.setting == SettingKind::kTargetSizes) {
    absl::StatusOr<TargetSizes> targets = TargetSizes::Parse(options.target_sizes, options.config);
    if (!targets.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", targets.status().message()));
    }
  }
  MethodOptions resolved = options;
  ASSIGN_OR_RETURN(resolved.own, ResolveMethodOptions(info.options, options.given_options));
  return info.create(resolved);
}

absl::StatusOr<std::unique_ptr<ModelMethod>> CreateModelMethod(const std::string& name,
                                                               const ModelMethodOptions& options) {
  ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(name));
  if (!info.create_for_any_model) {
    return absl::UnimplementedError(absl::StrCat(
        "method '", name, "' prunes the LSTM LM only so far (no model-agnostic form)"));
  }
  if (options.total_steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": total_steps=", options.total_steps, " must be >= 1"));
  }
  if (!(options.lambda >= 0 && std::isfinite(options.lambda))) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": lambda=", options.lambda, " must be finite and >= 0"));
  }
  if (!(options.penalty_scale > 0 && std::isfinite(options.penalty_scale))) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": penalty_scale=", options.penalty_scale, " must be finite and > 0"));
  }
  if (!(options.sparsity >= 0 && options.sparsity < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": sparsity=", options.sparsity, " must be in [0, 1)"));
  }
  ModelMethodOptions resolved = options;
  ASSIGN_OR_RETURN(resolved.own, ResolveMethodOptions(info.options, options.given_options));
  return info.create_for_any_model(resolved);
}

std::vector<std::string> RegisteredModelMethods() {
  std::vector<std::string> out;
  for (const std::string& name : RegisteredPruningMethods()) {
    absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(name);
    if (info.ok() && info->create_for_any_model) out.push_back(name);
  }
  return out;
}

double PenaltyScale(int64_t stream_tokens, int64_t batch_size, int64_t bptt) {
  const int64_t n = EpochTrainingTokens(stream_tokens, batch_size);
  return n > 0 ? static_cast<double>(bptt) / static_cast<double>(n) : 0.0;
}

absl::StatusOr<TargetSizes> TargetSizes::Parse(const std::vector<int64_t>& sizes,
                                               const LstmLmConfig& c) {
  const size_t layers = c.hidden_sizes.size();
  if (sizes.size() != layers + 1 && sizes.size() != 2 * layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("target sizes [", absl::StrJoin(sizes, ","), "] must have ", layers + 1,
                     " entries (E, then one hidden size per layer) or ", 2 * layers,
                     " (E, the inputs of layers 2..", layers, ", then one hidden size per layer)"));
  }
  TargetSizes t;
  t.embedding = sizes[0];
  const size_t inputs = sizes.size() - 1 - layers;
  t.inputs.assign(sizes.begin() + 1, sizes.begin() + 1 + inputs);
  t.hidden.assign(sizes.begin() + 1 + inputs, sizes.end());
  const auto check = [](const std::string& what, int64_t v, int64_t max) -> absl::Status {
    if (v >= 1 && v <= max) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("target size ", what, "=", v, " must be in [1, ", max, "]"));
  };
  RETURN_IF_ERROR(check("E", t.embedding, c.embedding_size));
  for (size_t l = 0; l < layers; ++l) {
    RETURN_IF_ERROR(check(absl::StrCat("H", l + 1), t.hidden[l], c.hidden_sizes[l]));
  }
  for (size_t i = 0; i < t.inputs.size(); ++i) {
    // I_{i+2} reads the kept units of layer i + 1.
    RETURN_IF_ERROR(
        check(absl::StrCat("I", i + 2, " (at most H", i + 1, ")"), t.inputs[i], t.hidden[i]));
  }
  return t;
}

std::vector<std::string> LstmWeightNames(const LstmLm& model) {
  std::vector<std::string> names;
  for (int64_t l = 0; l < model->num_layers(); ++l) {
    names.push_back(absl::StrCat("lstm", l, "_w_ih"));
    names.push_back(absl::StrCat("lstm", l, "_w_hh"));
  }
  return names;
}

torch::Tensor ParameterByName(const LstmLm& model, const std::string& name) {
  // named_parameters() returns a new dictionary: keep it alive while `p` points into it.
  const auto params = model->named_parameters();
  const torch::Tensor* p = params.find(name);
  TORCH_CHECK(p != nullptr, "the model has no parameter '", name, "'");
  return *p;
}

absl::Status ValidateStructure(const LstmLm& model, const PruningStructure& structure) {
  if (structure.structured) {
    if (structure.has_weight_masks()) {
      return absl::InvalidArgumentError("a structured result must not carry weight masks");
    }
    return structure.neurons.Validate(model->config());
  }
  if (structure.has_weight_masks()) {
    std::vector<std::string> want = LstmWeightNames(model), got;
    for (const auto& [name, mask] : structure.weight_masks) got.push_back(name);
    std::sort(want.begin(), want.end());
    if (got != want) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight masks must be given for exactly the LSTM weight matrices (",
                       absl::StrJoin(want, ", "), "), got ", absl::StrJoin(got, ", ")));
    }
  }
  const auto params = model->named_parameters();  // alive while `p` points into it
  for (const auto& [name, mask] : structure.weight_masks) {
    const torch::Tensor* p = params.find(name);
    if (p == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight mask for '", name, "': the model has no such parameter"));
    }
    if (!mask.defined() || mask.scalar_type() != torch::kBool || !mask.sizes().equals(p->sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weight mask for '", name, "' must be a bool tensor of the parameter's shape [",
          absl::StrJoin(p->sizes(), ", "), "]"));
    }
    torch::NoGradGuard no_grad;
    const int64_t leaks = (p->ne(0) & mask.logical_not()).sum().item<int64_t>();
    if (leaks > 0) {
      return absl::InvalidArgumentError(absl::StrCat("weight mask for '", name, "': ", leaks,
                                                     " pruned weights are not exactly 0"));
    }
  }
  return absl::OkStatus();
}

double WeightSparsity(const PruningStructure& structure) {
  int64_t total = 0, pruned = 0;
  for (const auto& [name, mask] : structure.weight_masks) {
    total += mask.numel();
    pruned += mask.numel() - mask.sum().item<int64_t>();
  }
  return total == 0 ? 0.0 : static_cast<double>(pruned) / static_cast<double>(total);
}

int64_t CountNonZeroParameters(const LstmLm& model) {
  torch::NoGradGuard no_grad;
  int64_t n = 0;
  for (const torch::Tensor& p : model->parameters()) n += p.ne(0).sum().item<int64_t>();
  return n;
}

namespace {

// The model's neuron groups (pruning/neuron_groups.h) over its layout.
NeuronGroupValues LmNeuronGroups(const LstmLm& model) {
  TORCH_CHECK(model->config().input_sizes.empty(),
              "neuron groups are defined on dense models (input_sizes must be empty)");
  return NeuronGroupSquaredNorms(model->PruningLayout(), ParameterMap(model->named_parameters()));
}

std::string LayerName(int64_t l) { return absl::StrCat("lstm", l); }

}  // namespace

std::vector<torch::Tensor> IssGroupSquaredNorms(const LstmLm& model) {
  const NeuronGroupValues groups = LmNeuronGroups(model);
  std::vector<torch::Tensor> norms;
  for (int64_t l = 0; l < model->num_layers(); ++l) norms.push_back(groups.hidden.at(LayerName(l)));
  return norms;
}

torch::Tensor EmbeddingDimSquaredNorms(const LstmLm& model) {
  torch::NoGradGuard no_grad;
  return LmNeuronGroups(model).input.at(LayerName(0));
}

MethodOptionSpec ZeroThresholdOption() {
  return NumberOption("zero_threshold", 1e-4,
                      "ISS group Lasso and L1 Lasso: weights with |w| below this are set to 0 "
                      "after each step (Wen et al. 2018)",
                      0, false);
}

void ZeroSmallWeights(const std::vector<torch::Tensor>& tensors, double threshold) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor t : tensors) t.masked_fill_(t.abs() < threshold, 0.0);
}

std::vector<torch::Tensor> UpperInputSquaredNorms(const LstmLm& model) {
  torch::NoGradGuard no_grad;
  const NeuronGroupValues groups = LmNeuronGroups(model);
  std::vector<torch::Tensor> norms;
  for (int64_t l = 1; l < model->num_layers(); ++l) norms.push_back(groups.input.at(LayerName(l)));
  return norms;
}

NeuronScores RandomNeuronScores(const LstmLmConfig& c, uint64_t seed) {
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
  NeuronScores scores;
  scores.embedding = torch::rand({c.embedding_size}, gen);
  for (int64_t h : c.hidden_sizes) scores.hidden.push_back(torch::rand({h}, gen));
  for (size_t l = 1; l < c.hidden_sizes.size(); ++l) {
    scores.inputs.push_back(torch::rand({c.hidden_sizes[l - 1]}, gen));
  }
  return scores;
}

absl::StatusOr<NeuronMask> MaskKeepingLargest(const LstmLm& model, const NeuronScores& scores,
                                              const TargetSizes& targets) {
  const int64_t layers = model->num_layers();
  if (static_cast<int64_t>(scores.hidden.size()) != layers ||
      static_cast<int64_t>(targets.hidden.size()) != layers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MaskKeepingLargest: need hidden scores and a target for each of ", layers, " layers"));
  }
  NeuronGroupValues by_name;
  GateTargets by_name_targets;
  by_name.input[LayerName(0)] = scores.embedding;
  by_name_targets.input[LayerName(0)] = targets.embedding;
  for (int64_t l = 0; l < layers; ++l) {
    by_name.hidden[LayerName(l)] = scores.hidden[static_cast<size_t>(l)];
    by_name_targets.hidden[LayerName(l)] = targets.hidden[static_cast<size_t>(l)];
  }
  if (!targets.inputs.empty()) {
    if (static_cast<int64_t>(targets.inputs.size()) != layers - 1 ||
        static_cast<int64_t>(scores.inputs.size()) != layers - 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MaskKeepingLargest: input targets and scores are needed for layers 2..", layers));
    }
    for (int64_t l = 1; l < layers; ++l) {
      by_name.input[LayerName(l)] = scores.inputs[static_cast<size_t>(l - 1)];
      by_name_targets.input[LayerName(l)] = targets.inputs[static_cast<size_t>(l - 1)];
    }
  }
  ASSIGN_OR_RETURN(NeuronGates gates, GatesKeepingLargest(model->PruningLayout(),
                                                          ParameterMap(model->named_parameters()),
                                                          by_name, by_name_targets));
  NeuronMask mask;
  for (int64_t l = 0; l < layers; ++l) {
    mask.input.push_back(gates.input.at(LayerName(l)));
    mask.hidden.push_back(gates.hidden.at(LayerName(l)));
  }
  return mask;
}

absl::Status FixedNeuronMaskMethod::Begin(LstmLm& model) {
  absl::StatusOr<NeuronMask> mask =
      CatchTorch("choosing the neurons to keep", [&] { return ChooseMask(model); });
  if (!mask.ok()) return mask.status();
  RETURN_IF_ERROR(mask->Validate(model->config()));
  mask_ = *std::move(mask);
  chosen_ = true;
  return absl::OkStatus();
}

LmOutput FixedNeuronMaskMethod::Forward(LstmLm& model, const torch::Tensor& input,
                                        LstmState* state) {
  TORCH_CHECK(chosen_, "FixedNeuronMaskMethod: Begin() was not called");
  return RunGated(model, mask_, input, state);
}

absl::StatusOr<PruningStructure> FixedNeuronMaskMethod::Finish(LstmLm& model) {
  if (!chosen_) return absl::FailedPreconditionError("Finish() before Begin()");
  PruningStructure s;
  s.structured = true;
  s.neurons = mask_;
  return s;
}

namespace {

PruningMethodInfo DenseInfo() {
  PruningMethodInfo info =
      MethodInfo("dense", "dense control: the same fine-tuning with no penalty, nothing removed",
                 /*structured=*/false, SettingKind::kNone, {},
                 [](const MethodOptions&) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
                   return std::unique_ptr<PruningMethod>(new DenseControl());
                 });
  info.create_for_any_model =
      [](const ModelMethodOptions&) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
    return std::unique_ptr<ModelMethod>(new DenseModelControl());
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(DenseInfo());

}  // namespace rnnprune
