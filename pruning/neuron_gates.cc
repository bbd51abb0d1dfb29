#include "pruning/neuron_gates.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ParameterMapT = std::map<std::string, torch::Tensor>;

// The scale each position of `runs` sees: z_h^power of LSTM spaces, 1 for free spaces.
torch::Tensor RunScales(const LstmPruningLayout& layout, const std::vector<SpaceRun>& runs,
                        const ParameterMapT& parameters, const NeuronGates& gates) {
  std::vector<torch::Tensor> parts;
  for (const SpaceRun& run : runs) {
    if (layout.IsLstmSpace(run.space)) {
      parts.push_back(gates.hidden.at(run.space).pow(run.power));
    } else {
      parts.push_back(torch::ones({layout.SpaceSize(run.space, parameters)}));
    }
  }
  return torch::cat(parts);
}

// `t` with dimension `dim` multiplied by `scale` [t.size(dim)].
torch::Tensor ScaleDim(const torch::Tensor& t, int64_t dim, const torch::Tensor& scale) {
  std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
  shape[static_cast<size_t>(dim)] = scale.size(0);
  return t * scale.view(shape);
}

absl::Status CheckGate(const std::map<std::string, torch::Tensor>& set, const std::string& lstm,
                       const char* which, int64_t size) {
  const auto it = set.find(lstm);
  if (it == set.end()) {
    return absl::InvalidArgumentError(absl::StrCat("LSTM '", lstm, "' has no ", which, " gates"));
  }
  const torch::Tensor& z = it->second;
  if (!z.defined() || z.dim() != 1 || z.size(0) != size || z.scalar_type() != torch::kFloat) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", which, " gates of LSTM '", lstm, "' must be float32 [", size, "], got ",
        z.defined() ? c10::str(z.scalar_type(), " ", z.sizes()) : std::string("undefined")));
  }
  if (size > 0 && (z.min().item<float>() < 0 || z.max().item<float>() > 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", which, " gates of LSTM '", lstm, "' must lie in [0, 1], got [",
                     z.min().item<float>(), ", ", z.max().item<float>(), "]"));
  }
  return absl::OkStatus();
}

}  // namespace

NeuronGates NeuronGates::AllOpen(const LstmPruningLayout& layout, const ParameterMapT& parameters) {
  NeuronGates g;
  for (const PrunableLstm& l : layout.lstms) {
    g.input[l.name] = torch::ones({layout.RunsSize(l.input, parameters)});
    g.hidden[l.name] = torch::ones({layout.SpaceSize(l.name, parameters)});
  }
  return g;
}

absl::Status NeuronGates::Validate(const LstmPruningLayout& layout,
                                   const ParameterMapT& parameters) const {
  if (input.size() != layout.lstms.size() || hidden.size() != layout.lstms.size()) {
    return absl::InvalidArgumentError(absl::StrCat("gates for ", input.size(), " (input) and ",
                                                   hidden.size(), " (hidden) LSTMs; the model has ",
                                                   layout.lstms.size()));
  }
  for (const PrunableLstm& l : layout.lstms) {
    absl::Status s = CheckGate(input, l.name, "input", layout.RunsSize(l.input, parameters));
    if (s.ok()) s = CheckGate(hidden, l.name, "hidden", layout.SpaceSize(l.name, parameters));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

ParameterMapT ApplyNeuronGates(const LstmPruningLayout& layout, const ParameterMapT& parameters,
                               const NeuronGates& gates) {
  const absl::Status valid = gates.Validate(layout, parameters);
  TORCH_CHECK(valid.ok(), "ApplyNeuronGates: ", std::string(valid.message()));
  ParameterMapT out;
  auto current = [&](const std::string& name) -> torch::Tensor {
    const auto it = out.find(name);
    return it != out.end() ? it->second : parameters.at(name);
  };
  for (const PrunableLstm& l : layout.lstms) {
    const torch::Tensor in_scale =
        gates.input.at(l.name) * RunScales(layout, l.input, parameters, gates);
    out[l.w_ih] = ScaleDim(current(l.w_ih), 1, in_scale);
    out[l.w_hh] = ScaleDim(current(l.w_hh), 1, gates.hidden.at(l.name));
  }
  for (const SpaceReader& r : layout.readers) {
    const torch::Tensor scale =
        torch::cat({torch::ones({r.offset}), RunScales(layout, r.layout, parameters, gates)});
    out[r.at.parameter] = ScaleDim(current(r.at.parameter), r.at.dim, scale);
  }
  return out;
}

}  // namespace rnnprune
