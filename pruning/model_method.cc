#include "pruning/model_method.h"

#include <vector>

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
