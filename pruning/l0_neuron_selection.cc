#include "pruning/l0_neuron_selection.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "pruning/l0_gates.h"
#include "pruning/l0_hooks.h"
#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/method_option.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {

std::string GateCostName(GateCost cost) {
  return cost == GateCost::kWeights ? "weights" : "multiply_adds";
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

}  // namespace

absl::StatusOr<std::unique_ptr<L0Hooks>> CreateL0Hooks(GateCost cost, const ModelMethodOptions& o) {
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
    if (!l.input_set_name.empty()) g.input_names[l.name] = l.input_set_name;
    if (!l.hidden_set_name.empty()) g.hidden_names[l.name] = l.hidden_set_name;
  }
  const double lr = o.own.at("l0_gate_learning_rate").get<double>();
  ASSIGN_OR_RETURN(std::unique_ptr<L0Hooks> hooks, L0Hooks::Create(o.model, g, lr));
  hooks->set_recorded_options({{"lambda_embedding", o.lambda * free_ratio},
                               {"lambda_input", o.lambda * input_ratio},
                               {"lambda_hidden", o.lambda},
                               {"penalty_scale", o.penalty_scale},
                               {"gate_cost", GateCostName(cost)},
                               {"gate_optimizer", "adam"},
                               {"gate_learning_rate", lr},
                               {"log_alpha_clamp", {L0Hooks::kMinLogAlpha, L0Hooks::kMaxLogAlpha}},
                               {"init_keep_probability", g.gates.init_keep_probability}});
  return hooks;
}

namespace {

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
  const ModelMethodFactory create =
      [cost](const ModelMethodOptions& o) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
    ASSIGN_OR_RETURN(std::unique_ptr<L0Hooks> hooks, CreateL0Hooks(cost, o));
    return std::unique_ptr<ModelMethod>(std::move(hooks));
  };
  info.create = LmFormOf(create);
  info.create_for_any_model = create;
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
