#include "pruning/model_method.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "torch/torch.h"

namespace rnnprune {
absl::Status FixedGatesMethod::Begin(PrunableModelView& model) {
  absl::StatusOr<NeuronGates> gates = ChooseGates(model);
  if (!gates.ok()) return gates.status();
  if (absl::Status s = gates->Validate(model.layout, model.parameters); !s.ok()) return s;
  gates_ = *std::move(gates);
  chosen_ = true;
  return absl::OkStatus();
}

absl::StatusOr<NeuronGates> FixedGatesMethod::FinalGates(const PrunableModelView& model) {
  if (!chosen_) return absl::FailedPreconditionError("FinalGates before Begin: no gates chosen");
  return gates_;
}

ForwardPlan FixedGatesMethod::Forward(const PrunableModelView& model, int64_t batch) {
  ForwardPlan how;
  if (chosen_) how.parameters = ApplyNeuronGates(model.layout, model.parameters, gates_);
  return how;
}

std::vector<std::string> LstmWeightMatrixNames(const LstmPruningLayout& layout) {
  std::vector<std::string> names;
  for (const PrunableLstm& l : layout.lstms) {
    names.push_back(l.w_ih);
    names.push_back(l.w_hh);
  }
  return names;
}

std::map<std::string, torch::Tensor> NonZeroWeightMasks(const PrunableModelView& model) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> masks;
  for (const std::string& name : LstmWeightMatrixNames(model.layout)) {
    masks[name] = model.parameters.at(name).ne(0);
  }
  return masks;
}

void HeldWeightMasks::AfterStep(PrunableModelView& model, const StepSizes& step) {
  const absl::Status s = ApplyWeightMasks(masks_, model.parameters);
  TORCH_CHECK(s.ok(), "HeldWeightMasks: ", std::string(s.message()));
}

absl::Status ApplyWeightMasks(const std::map<std::string, torch::Tensor>& masks,
                              const std::map<std::string, torch::Tensor>& parameters) {
  for (const auto& [name, mask] : masks) {
    const auto it = parameters.find(name);
    if (it == parameters.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight mask '", name, "' names no parameter"));
    }
    if (!mask.defined() || mask.scalar_type() != torch::kBool ||
        !mask.sizes().equals(it->second.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat("weight mask '", name,
                                                     "' must be a bool tensor of shape ",
                                                     c10::str(it->second.sizes())));
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, mask] : masks) parameters.at(name).masked_fill_(mask.logical_not(), 0.0);
  return absl::OkStatus();
}

NeuronGroupValues RandomGateScores(const LstmPruningLayout& layout,
                                   const std::map<std::string, torch::Tensor>& parameters,
                                   uint64_t seed) {
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
  NeuronGroupValues scores;
  for (const PrunableLstm& l : layout.lstms) {
    if (layout.ReadsOnlyFreeSpaces(l)) {
      scores.input[l.name] = torch::rand({layout.RunsSize(l.input, parameters)}, gen);
    }
  }
  for (const PrunableLstm& l : layout.lstms) {
    scores.hidden[l.name] = torch::rand({layout.SpaceSize(l.name, parameters)}, gen);
  }
  for (const PrunableLstm& l : layout.lstms) {
    if (!layout.ReadsOnlyFreeSpaces(l)) {
      scores.input[l.name] = torch::rand({layout.RunsSize(l.input, parameters)}, gen);
    }
  }
  return scores;
}

}  // namespace rnnprune
