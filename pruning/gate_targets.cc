#include "pruning/gate_targets.h"

#include <limits>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ParameterMapT = std::map<std::string, torch::Tensor>;

// [n] float32 with 1 at the `k` largest `scores` where `allowed` (bool) and 0 elsewhere; equal
// scores keep the lower index first.
torch::Tensor KeepLargest(const torch::Tensor& scores, int64_t k, const torch::Tensor& allowed) {
  const torch::Tensor s =
      scores.detach()
          .to(torch::kFloat64)
          .masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
  const torch::Tensor order = std::get<1>(s.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  torch::Tensor m = torch::zeros({scores.size(0)}, torch::kFloat32);
  m.index_fill_(0, order.narrow(0, 0, k), 1.0);
  return m;
}

absl::StatusOr<torch::Tensor> Choose(const std::map<std::string, torch::Tensor>& scores,
                                     const std::string& lstm, const char* which, int64_t size,
                                     int64_t target, const torch::Tensor& allowed) {
  const auto it = scores.find(lstm);
  if (it == scores.end() || !it->second.defined() || it->second.dim() != 1 ||
      it->second.size(0) != size) {
    return absl::InvalidArgumentError(
        absl::StrCat("LSTM '", lstm, "' needs ", which, " scores of ", size, " entries"));
  }
  const int64_t choosable = allowed.sum().item<int64_t>();
  if (target < 1 || target > choosable) {
    return absl::InvalidArgumentError(absl::StrCat("LSTM '", lstm, "': target of ", target, " ",
                                                   which, " neurons must be in [1, ", choosable,
                                                   "]"));
  }
  return KeepLargest(it->second, target, allowed);
}

// Which input positions of `l` read a neuron that `gates` keeps (free spaces: every neuron).
torch::Tensor SurvivingInputs(const LstmPruningLayout& layout, const ParameterMapT& parameters,
                              const PrunableLstm& l, const NeuronGates& gates) {
  std::vector<torch::Tensor> parts;
  for (const SpaceRun& run : l.input) {
    const auto it = gates.hidden.find(run.space);
    parts.push_back(it != gates.hidden.end()
                        ? it->second.gt(0)
                        : torch::ones({layout.SpaceSize(run.space, parameters)}, torch::kBool));
  }
  return torch::cat(parts);
}

}  // namespace

absl::StatusOr<NeuronGates> GatesKeepingLargest(const LstmPruningLayout& layout,
                                                const ParameterMapT& parameters,
                                                const NeuronGroupValues& scores,
                                                const GateTargets& targets) {
  return CatchTorch("GatesKeepingLargest", [&]() -> absl::StatusOr<NeuronGates> {
    if (absl::Status s = layout.Validate(parameters); !s.ok()) return s;
    std::set<std::string> names;
    for (const PrunableLstm& l : layout.lstms) names.insert(l.name);
    for (const auto* set : {&targets.input, &targets.hidden}) {
      for (const auto& [name, target] : *set) {
        if (names.count(name) == 0) {
          return absl::InvalidArgumentError(absl::StrCat("target for unknown LSTM '", name, "'"));
        }
      }
    }
    NeuronGates gates = NeuronGates::AllOpen(layout, parameters);
    for (const PrunableLstm& l : layout.lstms) {
      const auto t = targets.hidden.find(l.name);
      if (t == targets.hidden.end()) {
        return absl::InvalidArgumentError(absl::StrCat("LSTM '", l.name, "' has no hidden target"));
      }
      const int64_t h = layout.SpaceSize(l.name, parameters);
      absl::StatusOr<torch::Tensor> z =
          Choose(scores.hidden, l.name, "hidden", h, t->second, torch::ones({h}, torch::kBool));
      if (!z.ok()) return z.status();
      gates.hidden[l.name] = *z;
    }
    for (const PrunableLstm& l : layout.lstms) {
      const auto t = targets.input.find(l.name);
      if (t == targets.input.end()) continue;
      const torch::Tensor allowed = SurvivingInputs(layout, parameters, l, gates);
      absl::StatusOr<torch::Tensor> z =
          Choose(scores.input, l.name, "input", allowed.size(0), t->second, allowed);
      if (!z.ok()) return z.status();
      gates.input[l.name] = *z;
    }
    return gates;
  });
}

}  // namespace rnnprune
