#include "pruning/neuron_groups.h"

#include <functional>
#include <utility>

#include "c10/util/Exception.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ParameterMapT = std::map<std::string, torch::Tensor>;
// Per-weight value summed over a group: w^2 for norms, 1 for sizes.
using WeightValue = std::function<torch::Tensor(const torch::Tensor&)>;

// Sum of `v` over every dimension but `dim`: [v.size(dim)].
torch::Tensor SumAllBut(const torch::Tensor& v, int64_t dim) {
  std::vector<int64_t> others;
  for (int64_t d = 0; d < v.dim(); ++d) {
    if (d != dim) others.push_back(d);
  }
  return others.empty() ? v : v.sum(others);
}

// Whether LSTM `s` is the only one reading free space `space`, through a single run, and no
// reader reads it: then closing its input gate j removes neuron j of the space.
bool SoleReader(const LstmPruningLayout& layout, const PrunableLstm& s, const std::string& space) {
  int runs = 0;
  for (const PrunableLstm& l : layout.lstms) {
    for (const SpaceRun& run : l.input) {
      if (run.space != space) continue;
      if (l.name != s.name) return false;
      ++runs;
    }
  }
  for (const SpaceReader& r : layout.readers) {
    for (const SpaceRun& run : r.layout) {
      if (run.space == space) return false;
    }
  }
  return runs == 1;
}

torch::Tensor HiddenGroups(const LstmPruningLayout& layout, const ParameterMapT& p,
                           const PrunableLstm& s, const WeightValue& value) {
  const torch::Tensor w_ih = value(p.at(s.w_ih)), w_hh = value(p.at(s.w_hh));
  const int64_t h = w_hh.size(1);
  // Rows of unit k: k, H + k, 2H + k, 3H + k.
  torch::Tensor sum = w_ih.view({4, h, -1}).sum(std::vector<int64_t>{0, 2}) +
                      w_hh.view({4, h, h}).sum(std::vector<int64_t>{0, 2}) +
                      value(p.at(s.b_ih)).view({4, h}).sum(0) +
                      value(p.at(s.b_hh)).view({4, h}).sum(0);
  // Column k of w_hh, less its four entries counted with the rows (summed in this order, as
  // the LM's ISS groups always were, so that their values stay bit for bit).
  const torch::Tensor column = w_hh.sum(0) - w_hh.view({4, h, h}).diagonal(0, 1, 2).sum(0);
  sum = sum + column;
  for (const PrunableLstm& t : layout.lstms) {
    int64_t offset = 0;
    for (const SpaceRun& run : t.input) {
      const int64_t n = layout.SpaceSize(run.space, p);
      if (run.space == s.name) sum = sum + value(p.at(t.w_ih)).narrow(1, offset, n).sum(0);
      offset += n;
    }
  }
  for (const SpaceReader& r : layout.readers) {
    int64_t offset = r.offset;
    for (const SpaceRun& run : r.layout) {
      const int64_t n = layout.SpaceSize(run.space, p);
      if (run.space == s.name) {
        sum = sum + SumAllBut(value(p.at(r.at.parameter)).narrow(r.at.dim, offset, n), r.at.dim);
      }
      offset += n;
    }
  }
  return sum;
}

torch::Tensor InputGroups(const LstmPruningLayout& layout, const ParameterMapT& p,
                          const PrunableLstm& s, const WeightValue& value) {
  torch::Tensor sum = value(p.at(s.w_ih)).sum(0);
  int64_t offset = 0;
  for (const SpaceRun& run : s.input) {
    const int64_t n = layout.SpaceSize(run.space, p);
    for (const FreeSpace& f : layout.free_spaces) {
      if (f.name != run.space || !SoleReader(layout, s, f.name)) continue;
      torch::Tensor extra = torch::zeros({n}, sum.options());
      for (const ParameterDim& d : f.producers) {
        extra = extra + SumAllBut(value(p.at(d.parameter)), d.dim);
      }
      sum = torch::cat({sum.narrow(0, 0, offset), sum.narrow(0, offset, n) + extra,
                        sum.narrow(0, offset + n, sum.size(0) - offset - n)});
    }
    offset += n;
  }
  return sum;
}

NeuronGroupValues Groups(const LstmPruningLayout& layout, const ParameterMapT& parameters,
                         const WeightValue& value) {
  const absl::Status valid = layout.Validate(parameters);
  TORCH_CHECK(valid.ok(), "neuron groups: ", std::string(valid.message()));
  NeuronGroupValues out;
  for (const PrunableLstm& s : layout.lstms) {
    out.hidden[s.name] = HiddenGroups(layout, parameters, s, value);
    out.input[s.name] = InputGroups(layout, parameters, s, value);
  }
  return out;
}

}  // namespace

NeuronGroupValues NeuronGroupSquaredNorms(const LstmPruningLayout& layout,
                                          const ParameterMapT& parameters) {
  NeuronGroupValues out =
      Groups(layout, parameters, [](const torch::Tensor& w) { return w.pow(2); });
  // The subtraction of the diagonal can leave -epsilon where a group is all but zero.
  for (auto& [name, t] : out.hidden) t = t.clamp_min(0);
  return out;
}

NeuronGroupValues NeuronGroupSizes(const LstmPruningLayout& layout,
                                   const ParameterMapT& parameters) {
  torch::NoGradGuard no_grad;
  NeuronGroupValues out = Groups(layout, parameters, [](const torch::Tensor& w) {
    return torch::ones(w.sizes(), torch::kDouble);
  });
  for (auto* set : {&out.input, &out.hidden}) {
    for (auto& [name, t] : *set) t = t.round().to(torch::kLong);
  }
  return out;
}

NeuronGroupValues NeuronGroupMultiplyAdds(const LstmPruningLayout& layout,
                                          const ParameterMapT& parameters) {
  torch::NoGradGuard no_grad;
  // 1 for every weight of a matrix product, 0 for biases and lookups; each group sums them.
  ParameterMapT counted;
  for (const auto& [name, t] : parameters) counted[name] = torch::ones(t.sizes(), torch::kDouble);
  for (const PrunableLstm& l : layout.lstms) {
    counted[l.b_ih].zero_();
    counted[l.b_hh].zero_();
  }
  for (const FreeSpace& f : layout.free_spaces) {
    for (const ParameterDim& d : f.producers) counted[d.parameter].zero_();
  }
  NeuronGroupValues out = Groups(layout, counted, [](const torch::Tensor& w) { return w; });
  for (auto* set : {&out.input, &out.hidden}) {
    for (auto& [name, t] : *set) t = t.round().to(torch::kLong);
  }
  return out;
}

void ScaleHiddenGroups(const LstmPruningLayout& layout, const ParameterMapT& p,
                       const std::map<std::string, torch::Tensor>& scales) {
  const absl::Status valid = layout.Validate(p);
  TORCH_CHECK(valid.ok(), "ScaleHiddenGroups: ", std::string(valid.message()));
  torch::NoGradGuard no_grad;
  for (const PrunableLstm& s : layout.lstms) {
    const auto it = scales.find(s.name);
    if (it == scales.end()) continue;
    const torch::Tensor& scale = it->second;
    const int64_t h = p.at(s.w_hh).size(1);
    TORCH_CHECK(scale.dim() == 1 && scale.size(0) == h, "ScaleHiddenGroups: scales of '", s.name,
                "' must be [", h, "]");
    const torch::Tensor rows = scale.repeat({4});  // gate rows k, H + k, 2H + k, 3H + k
    p.at(s.w_ih).mul_(rows.unsqueeze(1));
    p.at(s.w_hh).mul_(rows.unsqueeze(1));
    p.at(s.b_ih).mul_(rows);
    p.at(s.b_hh).mul_(rows);
    // Column k of w_hh: its four entries on the unit's own rows are already scaled once.
    torch::Tensor column = scale.unsqueeze(0).expand({4 * h, h}).clone();
    column.view({4, h, h}).diagonal(0, 1, 2).fill_(1.0);
    p.at(s.w_hh).mul_(column);
    for (const PrunableLstm& t : layout.lstms) {
      int64_t offset = 0;
      for (const SpaceRun& run : t.input) {
        const int64_t n = layout.SpaceSize(run.space, p);
        if (run.space == s.name) p.at(t.w_ih).narrow(1, offset, n).mul_(scale.unsqueeze(0));
        offset += n;
      }
    }
    for (const SpaceReader& r : layout.readers) {
      int64_t offset = r.offset;
      for (const SpaceRun& run : r.layout) {
        const int64_t n = layout.SpaceSize(run.space, p);
        if (run.space == s.name) {
          const torch::Tensor& t = p.at(r.at.parameter);
          std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
          shape[static_cast<size_t>(r.at.dim)] = n;
          t.narrow(r.at.dim, offset, n).mul_(scale.view(shape));
        }
        offset += n;
      }
    }
  }
}

std::vector<torch::Tensor> GroupedTensors(const LstmPruningLayout& layout, const ParameterMapT& p) {
  std::vector<torch::Tensor> out;
  for (const PrunableLstm& s : layout.lstms) {
    out.insert(out.end(), {p.at(s.w_ih), p.at(s.w_hh), p.at(s.b_ih), p.at(s.b_hh)});
  }
  for (const SpaceReader& r : layout.readers) out.push_back(p.at(r.at.parameter));
  return out;
}

}  // namespace rnnprune
