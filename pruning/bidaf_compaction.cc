#include "pruning/bidaf_compaction.h"

#include "absl/strings/str_cat.h"
#include "common/torch_rng.h"
#include "common/torch_status.h"
#include "pruning/lstm_compaction.h"
#include "torch/torch.h"

namespace rnnprune {

absl::StatusOr<BidafCompaction> CompactBidaf(const Bidaf& model, const NeuronGates& gates) {
  return CatchTorch("CompactBidaf", [&]() -> absl::StatusOr<BidafCompaction> {
    const LstmPruningLayout layout = model->PruningLayout();
    absl::StatusOr<CompactedParameters> c =
        CompactParameters(layout, ParameterMap(model->named_parameters()), gates);
    if (!c.ok()) return c.status();
    BidafCompaction r;
    std::map<std::string, torch::Tensor> inputs;
    for (const PrunableLstm& l : layout.lstms) {
      r.hidden_units[l.name] = c->space_neurons.at(l.name);
      r.kept_inputs[l.name] = static_cast<int64_t>(c->lstm_inputs.at(l.name).size());
      if (!c->ReadsEverything(l.name)) {
        inputs[l.name] = torch::tensor(c->lstm_inputs.at(l.name), torch::kInt64);
      }
    }
    // Built at the dense sizes, then every parameter replaced: its initialisation must not move
    // the global generator that training draws from.
    const torch::Tensor rng = CaptureTorchCpuRng();
    Bidaf out(model->config());
    RestoreTorchCpuRng(rng);
    if (absl::Status s = out->SetCompacted(c->parameters, inputs); !s.ok()) return s;
    out->eval();
    r.model = out;
    return r;
  });
}

BidafOutput RunGatedBidaf(Bidaf& model, const NeuronGates& gates, const BidafBatch& batch) {
  return model->ForwardWithParameters(
      batch,
      ApplyNeuronGates(model->PruningLayout(), ParameterMap(model->named_parameters()), gates));
}

}  // namespace rnnprune
