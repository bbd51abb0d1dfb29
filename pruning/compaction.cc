#include "pruning/compaction.h"

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "pruning/lstm_compaction.h"
#include "pruning/neuron_gates.h"
#include "torch/torch.h"

namespace rnnprune {

absl::StatusOr<CompactionResult> Compact(const LstmLm& model, const NeuronMask& mask) {
  return CatchTorch("Compact", [&]() -> absl::StatusOr<CompactionResult> {
    const LstmLmConfig& dense = model->config();
    if (absl::Status valid = mask.Validate(dense); !valid.ok()) return valid;
    const LstmPruningLayout layout = model->PruningLayout();
    absl::StatusOr<CompactedParameters> c =
        CompactParameters(layout, ParameterMap(model->named_parameters()), ToNeuronGates(mask));
    if (!c.ok()) return c.status();

    CompactionResult r;
    r.embedding_dims = c->space_neurons.at("embedding");
    LstmLmConfig cfg = dense;
    cfg.embedding_size = static_cast<int64_t>(r.embedding_dims.size());
    cfg.hidden_sizes.clear();
    cfg.input_sizes.clear();
    for (const PrunableLstm& l : layout.lstms) {
      // The layer reads a prefix of the one below: the shared compaction puts the units it reads
      // first, since it is their first (and only) reader.
      if (!c->ReadsPrefix(l.name)) {
        return absl::InternalError(absl::StrCat("Compact: ", l.name, " does not read a prefix"));
      }
      r.hidden_units.push_back(c->space_neurons.at(l.name));
      cfg.hidden_sizes.push_back(static_cast<int64_t>(r.hidden_units.back().size()));
      cfg.input_sizes.push_back(static_cast<int64_t>(c->lstm_inputs.at(l.name).size()));
    }
    LstmLm out(cfg);
    torch::NoGradGuard no_grad;
    for (auto& item : out->named_parameters()) item.value().copy_(c->parameters.at(item.key()));
    out->eval();
    r.model = out;
    return r;
  });
}

}  // namespace rnnprune
