#include "pruning/lstm_compaction.h"

#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ParameterMapT = std::map<std::string, torch::Tensor>;

torch::Tensor Index(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); }

std::vector<float> Values(const torch::Tensor& z) {
  const torch::Tensor c = z.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// `t` with dimension `dim` multiplied by `scale`.
torch::Tensor ScaleDim(const torch::Tensor& t, int64_t dim, const torch::Tensor& scale) {
  std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
  shape[static_cast<size_t>(dim)] = scale.size(0);
  return t * scale.view(shape);
}

class Compactor {
 public:
  Compactor(const LstmPruningLayout& layout, const ParameterMapT& parameters,
            const NeuronGates& gates)
      : layout_(layout), parameters_(parameters), gates_(gates) {
    for (const PrunableLstm& l : layout.lstms) {
      z_x_[l.name] = Values(gates.input.at(l.name));
      z_h_[l.name] = Values(gates.hidden.at(l.name));
    }
  }

  absl::StatusOr<CompactedParameters> Run() {
    if (absl::Status s = KeepNeurons(); !s.ok()) return s;
    for (const PrunableLstm& l : layout_.lstms) {
      if (absl::Status s = CompactLstm(l); !s.ok()) return s;
    }
    for (const SpaceReader& r : layout_.readers) CompactReader(r);
    for (const FreeSpace& f : layout_.free_spaces) {
      const torch::Tensor kept = Index(out_.space_neurons.at(f.name));
      for (const ParameterDim& p : f.producers) {
        out_.parameters[p.parameter] = Current(p.parameter).index_select(p.dim, kept);
      }
    }
    for (const auto& [name, t] : parameters_) {
      if (out_.parameters.count(name) == 0) out_.parameters[name] = t.detach().clone();
    }
    return std::move(out_);
  }

 private:
  bool IsLstm(const std::string& space) const { return z_h_.count(space) > 0; }

  bool IsFixedFreeSpace(const std::string& space) const {
    for (const FreeSpace& f : layout_.free_spaces) {
      if (f.name == space) return f.producers.empty();
    }
    return false;
  }

  torch::Tensor Current(const std::string& name) const {
    const auto it = out_.parameters.find(name);
    return it != out_.parameters.end() ? it->second : parameters_.at(name).detach();
  }

  // Is position `pos` of LSTM `l`'s input gated open?
  bool Open(const PrunableLstm& l, int64_t pos) const {
    return z_x_.at(l.name)[static_cast<size_t>(pos)] != 0.0f;
  }

  // The neurons of every space that survive, in compacted order (see space_neurons).
  absl::Status KeepNeurons() {
    for (const PrunableLstm& l : layout_.lstms) {
      std::vector<int64_t>& kept = out_.space_neurons[l.name];
      const std::vector<float>& z = z_h_.at(l.name);
      for (size_t k = 0; k < z.size(); ++k) {
        if (z[k] != 0.0f) kept.push_back(static_cast<int64_t>(k));
      }
      if (kept.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("LSTM '", l.name, "': every hidden neuron is closed; nothing to compact"));
      }
    }
    for (const FreeSpace& f : layout_.free_spaces) {
      // Without producers nothing can remove or reorder the space's neurons: all stay, in order.
      std::vector<bool> live(static_cast<size_t>(f.size), f.producers.empty());
      for (const SpaceReader& r : layout_.readers) {
        for (const SpaceRun& run : r.layout) {
          if (run.space == f.name) live.assign(live.size(), true);
        }
      }
      for (const PrunableLstm& l : layout_.lstms) {
        int64_t offset = 0;
        for (const SpaceRun& run : l.input) {
          const int64_t n = layout_.SpaceSize(run.space, parameters_);
          for (int64_t j = 0; run.space == f.name && j < n; ++j) {
            if (Open(l, offset + j)) live[static_cast<size_t>(j)] = true;
          }
          offset += n;
        }
      }
      std::vector<int64_t>& kept = out_.space_neurons[f.name];
      for (size_t j = 0; j < live.size(); ++j) {
        if (live[j]) kept.push_back(static_cast<int64_t>(j));
      }
    }
    for (auto& [space, kept] : out_.space_neurons) {
      if (!IsFixedFreeSpace(space)) ReadFirstFirst(space, &kept);
    }
    return absl::OkStatus();
  }

  // Stable-partitions `kept` so that the neurons the first LSTM reading `space` reads (through
  // its first run of it) come first.
  void ReadFirstFirst(const std::string& space, std::vector<int64_t>* kept) const {
    for (const PrunableLstm& l : layout_.lstms) {
      int64_t offset = 0;
      for (const SpaceRun& run : l.input) {
        if (run.space == space) {
          std::stable_partition(kept->begin(), kept->end(),
                                [&](int64_t k) { return Open(l, offset + k); });
          return;
        }
        offset += layout_.SpaceSize(run.space, parameters_);
      }
    }
  }

  // The scale of neuron indices `neurons` of `run` as its reader sees them (z_h^power; 1 for a
  // free space).
  torch::Tensor RunScale(const SpaceRun& run, const torch::Tensor& neurons) const {
    if (!IsLstm(run.space)) return torch::ones({neurons.size(0)});
    return gates_.hidden.at(run.space).index_select(0, neurons).pow(run.power);
  }

  absl::Status CompactLstm(const PrunableLstm& l) {
    std::vector<int64_t> columns, reads;
    std::vector<torch::Tensor> scales;
    int64_t offset = 0, compacted_offset = 0;
    for (const SpaceRun& run : l.input) {
      const std::vector<int64_t>& kept = out_.space_neurons.at(run.space);
      std::vector<int64_t> neurons;
      for (size_t i = 0; i < kept.size(); ++i) {
        if (!Open(l, offset + kept[i])) continue;
        neurons.push_back(kept[i]);
        columns.push_back(offset + kept[i]);
        reads.push_back(compacted_offset + static_cast<int64_t>(i));
      }
      const torch::Tensor n = Index(neurons);
      scales.push_back(RunScale(run, n));
      offset += layout_.SpaceSize(run.space, parameters_);
      compacted_offset += static_cast<int64_t>(kept.size());
    }
    if (columns.empty()) {
      std::vector<std::string> spaces;
      for (const SpaceRun& run : l.input) spaces.push_back(run.space);
      return absl::InvalidArgumentError(
          absl::StrCat("LSTM '", l.name, "': every input neuron is closed (or reads a removed ",
                       "neuron of ", absl::StrJoin(spaces, ", "), "); nothing to compact"));
    }
    const torch::Tensor cols = Index(columns);
    const torch::Tensor in_scale =
        gates_.input.at(l.name).index_select(0, cols) * torch::cat(scales);
    const std::vector<int64_t>& units = out_.space_neurons.at(l.name);
    const int64_t h = layout_.SpaceSize(l.name, parameters_);
    const torch::Tensor u = Index(units);
    const torch::Tensor rows = torch::cat({u, u + h, u + 2 * h, u + 3 * h});
    out_.parameters[l.w_ih] =
        ScaleDim(Current(l.w_ih).index_select(0, rows).index_select(1, cols), 1, in_scale);
    out_.parameters[l.w_hh] = ScaleDim(Current(l.w_hh).index_select(0, rows).index_select(1, u), 1,
                                       gates_.hidden.at(l.name).index_select(0, u));
    out_.parameters[l.b_ih] = Current(l.b_ih).index_select(0, rows);
    out_.parameters[l.b_hh] = Current(l.b_hh).index_select(0, rows);
    out_.lstm_inputs[l.name] = std::move(reads);
    out_.lstm_input_widths[l.name] = compacted_offset;
    return absl::OkStatus();
  }

  void CompactReader(const SpaceReader& r) {
    std::vector<int64_t> positions(static_cast<size_t>(r.offset));
    std::iota(positions.begin(), positions.end(), 0);
    std::vector<torch::Tensor> scales = {torch::ones({r.offset})};
    int64_t offset = r.offset;
    for (const SpaceRun& run : r.layout) {
      const std::vector<int64_t>& kept = out_.space_neurons.at(run.space);
      for (int64_t k : kept) positions.push_back(offset + k);
      scales.push_back(RunScale(run, Index(kept)));
      offset += layout_.SpaceSize(run.space, parameters_);
    }
    out_.parameters[r.at.parameter] =
        ScaleDim(Current(r.at.parameter).index_select(r.at.dim, Index(positions)), r.at.dim,
                 torch::cat(scales));
  }

  const LstmPruningLayout& layout_;
  const ParameterMapT& parameters_;
  const NeuronGates& gates_;
  std::map<std::string, std::vector<float>> z_x_, z_h_;
  CompactedParameters out_;
};

}  // namespace

bool CompactedParameters::ReadsEverything(const std::string& name) const {
  return ReadsPrefix(name) &&
         static_cast<int64_t>(lstm_inputs.at(name).size()) == lstm_input_widths.at(name);
}

bool CompactedParameters::ReadsPrefix(const std::string& name) const {
  const std::vector<int64_t>& reads = lstm_inputs.at(name);
  for (size_t i = 0; i < reads.size(); ++i) {
    if (reads[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

absl::StatusOr<CompactedParameters> CompactParameters(const LstmPruningLayout& layout,
                                                      const ParameterMapT& parameters,
                                                      const NeuronGates& gates) {
  return CatchTorch("CompactParameters", [&]() -> absl::StatusOr<CompactedParameters> {
    if (absl::Status s = layout.Validate(parameters); !s.ok()) return s;
    if (absl::Status s = gates.Validate(layout, parameters); !s.ok()) return s;
    torch::NoGradGuard no_grad;
    return Compactor(layout, parameters, gates).Run();
  });
}

}  // namespace rnnprune
