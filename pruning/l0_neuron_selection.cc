#include "pruning/l0_neuron_selection.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "pruning/l0_hooks.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {

std::string GateCostName(GateCost cost) {
  return cost == GateCost::kWeights ? "weights" : "multiply_adds";
}

absl::Status L0Options::Validate() const {
  const std::pair<const char*, double> lambdas[] = {{"lambda_embedding", lambda_embedding},
                                                    {"lambda_input", lambda_input},
                                                    {"lambda_hidden", lambda_hidden}};
  for (const auto& [name, value] : lambdas) {
    if (!(value >= 0 && std::isfinite(value))) {
      return absl::InvalidArgumentError(absl::StrCat(name, "=", value, " must be finite and >= 0"));
    }
  }
  if (!(penalty_scale > 0 && std::isfinite(penalty_scale))) {
    return absl::InvalidArgumentError(
        absl::StrCat("penalty_scale=", penalty_scale, " must be finite and > 0"));
  }
  if (!(gate_learning_rate > 0 && std::isfinite(gate_learning_rate))) {
    return absl::InvalidArgumentError(
        absl::StrCat("gate_learning_rate=", gate_learning_rate, " must be finite and > 0"));
  }
  return gates.Validate();
}

namespace {

std::string LayerName(size_t l) { return absl::StrCat("lstm", l); }

// The gates of the LM's layers as a NeuronMask (layer order).
NeuronMask ToMask(const NeuronGates& z, size_t layers) {
  NeuronMask m;
  for (size_t l = 0; l < layers; ++l) m.input.push_back(z.input.at(LayerName(l)));
  for (size_t l = 0; l < layers; ++l) m.hidden.push_back(z.hidden.at(LayerName(l)));
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<L0NeuronSelection>> L0NeuronSelection::Create(
    const LstmLmConfig& config, const L0Options& options) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(config.Validate());
  const GateWeightCounts costs =
      options.cost == GateCost::kWeights ? CountGateWeights(config) : CountGateMultiplyAdds(config);
  L0GatesOptions g;
  g.penalty_scale = options.penalty_scale;
  g.gates = options.gates;
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    const std::string name = LayerName(l);
    g.input_lambda[name] = l == 0 ? options.lambda_embedding : options.lambda_input;
    g.hidden_lambda[name] = options.lambda_hidden;
    g.input_cost[name] = costs.input[l];
    g.hidden_cost[name] = costs.hidden[l];
    g.input_names[name] = l == 0 ? "E" : absl::StrCat("I", l + 1);
    g.hidden_names[name] = absl::StrCat("H", l + 1);
  }
  ASSIGN_OR_RETURN(L0Gates gates,
                   L0Gates::Create(LstmLmPruningLayout(config), LstmLmParameterShapes(config), g));
  std::unique_ptr<L0NeuronSelection> s(new L0NeuronSelection(options, std::move(gates)));
  s->adam_ = std::make_unique<torch::optim::Adam>(
      s->ExtraParameters(), torch::optim::AdamOptions(options.gate_learning_rate));
  return s;
}

NeuronMask L0NeuronSelection::SampleMask(int64_t batch) const {
  return ToMask(gates_.Sample(batch), gates_.hidden_sets().size());
}

NeuronMask L0NeuronSelection::DeterministicMask() const {
  return ToMask(gates_.Deterministic(), gates_.hidden_sets().size());
}

LmOutput L0NeuronSelection::Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) {
  if (!model->is_training()) return RunGated(model, DeterministicMask(), input, state);
  const NeuronMask z = SampleMask(input.size(1));
  return model->RunWithNeuronGates(input, state, z.input, z.hidden);
}

torch::Tensor L0NeuronSelection::Penalty(LstmLm& model) { return gates_.Penalty(); }

std::vector<torch::Tensor> L0NeuronSelection::ExtraParameters() { return gates_.LogAlphas(); }

void L0NeuronSelection::AfterStep(LstmLm& model, double learning_rate) {
  gates_.Clamp(kMinLogAlpha, kMaxLogAlpha);
}

nlohmann::json L0NeuronSelection::Diagnostics(const LstmLm& model) { return gates_.Diagnostics(); }

nlohmann::json L0NeuronSelection::RecordedOptions() const {
  return {{"lambda_embedding", options_.lambda_embedding},
          {"lambda_input", options_.lambda_input},
          {"lambda_hidden", options_.lambda_hidden},
          {"penalty_scale", options_.penalty_scale},
          {"gate_cost", GateCostName(options_.cost)},
          {"gate_optimizer", "adam"},
          {"gate_learning_rate", options_.gate_learning_rate},
          {"log_alpha_clamp", {kMinLogAlpha, kMaxLogAlpha}},
          {"init_keep_probability", options_.gates.init_keep_probability}};
}

absl::StatusOr<PruningStructure> L0NeuronSelection::Finish(LstmLm& model) {
  PruningStructure s;
  s.structured = true;
  s.neurons = DeterministicMask();
  return s;
}

namespace {

// The options l0 and l0_speed declare (the main job's --l0_* flags).
std::vector<MethodOptionSpec> L0OptionSpecs() {
  return {
      NumberOption("l0_embedding_lambda_ratio", 1.0,
                   "lambda of the embedding gates (inputs of layer 1) = this * the hidden gates' "
                   "lambda",
                   0, false),
      NumberOption("l0_input_lambda_ratio", 1.0,
                   "lambda of the input gates of layers 2..L = this * the hidden gates' lambda", 0,
                   false),
      NumberOption("l0_init_keep", 0.95,
                   "initial keep probability of every gate; 0.95 starts every gate open", 0, true,
                   1, true),
      NumberOption("l0_gate_learning_rate", 0.5,
                   "Adam's learning rate for the gates' log_alpha (Louizos et al. 2018; chosen "
                   "on the valid split, README.md)",
                   0, true),
      ChoiceOption("l0_mode", "finetune",
                   "finetune: from the dense checkpoint, gates open; scratch: the dense "
                   "architecture trained from scratch with gates from step 1",
                   {"finetune", "scratch"}),
  };
}

// L0 over any model's layout (pruning/l0_hooks.h), each gate weighted by the weights it removes
// (or, for l0_speed, the multiply-adds: NeuronGroupMultiplyAdds):
// hidden sets at lambda, input sets reading free spaces (embedding-like) at lambda *
// l0_embedding_lambda_ratio, the other input sets at lambda * l0_input_lambda_ratio.
absl::StatusOr<std::unique_ptr<ModelMethod>> CreateL0ForAnyModel(GateCost cost,
                                                                 const ModelMethodOptions& o) {
  const LstmPruningLayout& layout = o.model.layout;
  ASSIGN_OR_RETURN(auto costs,
                   UniformSetCosts(cost == GateCost::kWeights
                                       ? NeuronGroupSizes(layout, o.model.parameters)
                                       : NeuronGroupMultiplyAdds(layout, o.model.parameters)));
  L0GatesOptions g;
  g.input_cost = costs.first;
  g.hidden_cost = costs.second;
  g.penalty_scale = o.penalty_scale;
  g.gates.init_keep_probability = o.own.at("l0_init_keep").get<double>();
  const double free_ratio = o.own.at("l0_embedding_lambda_ratio").get<double>();
  const double input_ratio = o.own.at("l0_input_lambda_ratio").get<double>();
  for (const PrunableLstm& l : layout.lstms) {
    g.hidden_lambda[l.name] = o.lambda;
    g.input_lambda[l.name] = o.lambda * (layout.ReadsOnlyFreeSpaces(l) ? free_ratio : input_ratio);
  }
  const double lr = o.own.at("l0_gate_learning_rate").get<double>();
  ASSIGN_OR_RETURN(std::unique_ptr<L0Hooks> hooks, L0Hooks::Create(o.model, g, lr));
  hooks->set_recorded_options({{"lambda_embedding_ratio", free_ratio},
                               {"lambda_input_ratio", input_ratio},
                               {"penalty_scale", o.penalty_scale},
                               {"gate_cost", GateCostName(cost)},
                               {"gate_optimizer", "adam"},
                               {"gate_learning_rate", lr},
                               {"log_alpha_clamp", {L0Hooks::kMinLogAlpha, L0Hooks::kMaxLogAlpha}},
                               {"init_keep_probability", g.gates.init_keep_probability}});
  return std::unique_ptr<ModelMethod>(std::move(hooks));
}

// The registry entry of the L0 method weighting its gates by `cost`.
PruningMethodInfo L0Info(const std::string& name, GateCost cost, const std::string& description) {
  PruningMethodInfo info;
  info.name = name;
  info.description = description;
  info.structured = true;
  info.setting = SettingKind::kLambda;
  info.default_settings = {1.0, 3.0};
  info.sizes_are_targets = true;
  info.options = L0OptionSpecs();
  info.settings_flag = "l0_lambdas";
  info.trains_from_scratch = [](const nlohmann::json& own) {
    return own.at("l0_mode").get<std::string>() == "scratch";
  };
  info.create = [cost](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
    L0Options lo;
    lo.lambda_hidden = o.lambda;
    lo.lambda_embedding = o.lambda * o.own.at("l0_embedding_lambda_ratio").get<double>();
    lo.lambda_input = o.lambda * o.own.at("l0_input_lambda_ratio").get<double>();
    lo.penalty_scale = o.penalty_scale;
    lo.cost = cost;
    lo.gate_learning_rate = o.own.at("l0_gate_learning_rate").get<double>();
    lo.gates.init_keep_probability = o.own.at("l0_init_keep").get<double>();
    ASSIGN_OR_RETURN(std::unique_ptr<L0NeuronSelection> m, L0NeuronSelection::Create(o.config, lo));
    return std::unique_ptr<PruningMethod>(std::move(m));
  };
  info.create_for_any_model = [cost](const ModelMethodOptions& o) {
    return CreateL0ForAnyModel(cost, o);
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(
    L0Info("l0", GateCost::kWeights,
           "L0 neuron selection, hard concrete gates on input and hidden neurons, each weighted by "
           "the weights it removes (Wen et al. 2020)"));
RNNPRUNE_REGISTER_PRUNING_METHOD(L0Info(
    "l0_speed", GateCost::kMultiplyAdds,
    "L0 neuron selection as l0, each gate weighted by the multiply-adds per token it removes "
    "(speed-aware; ours)"));

}  // namespace rnnprune
