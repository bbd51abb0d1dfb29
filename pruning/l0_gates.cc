#include "pruning/l0_gates.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

absl::StatusOr<int64_t> Lookup(const std::map<std::string, int64_t>& m, const std::string& lstm,
                               const char* what) {
  const auto it = m.find(lstm);
  if (it == m.end() || it->second < 0) {
    return absl::InvalidArgumentError(absl::StrCat("LSTM '", lstm, "' needs a ", what, " >= 0"));
  }
  return it->second;
}

absl::StatusOr<double> Lookup(const std::map<std::string, double>& m, const std::string& lstm,
                              const char* what) {
  const auto it = m.find(lstm);
  if (it == m.end() || !(it->second >= 0 && std::isfinite(it->second))) {
    return absl::InvalidArgumentError(
        absl::StrCat("LSTM '", lstm, "' needs a ", what, " that is finite and >= 0"));
  }
  return it->second;
}

std::string NameOr(const std::map<std::string, std::string>& names, const std::string& lstm,
                   const std::string& fallback) {
  const auto it = names.find(lstm);
  return it == names.end() ? fallback : it->second;
}

}  // namespace

absl::StatusOr<std::pair<std::map<std::string, int64_t>, std::map<std::string, int64_t>>>
UniformSetCosts(const NeuronGroupValues& per_gate) {
  std::pair<std::map<std::string, int64_t>, std::map<std::string, int64_t>> out;
  for (const auto& [set, which, into] :
       {std::make_tuple(&per_gate.input, "input", &out.first),
        std::make_tuple(&per_gate.hidden, "hidden", &out.second)}) {
    for (const auto& [lstm, values] : *set) {
      const torch::Tensor v = values.to(torch::kLong);
      const int64_t lo = v.min().item<int64_t>(), hi = v.max().item<int64_t>();
      if (lo != hi) {
        return absl::InvalidArgumentError(absl::StrCat("the ", which, " gates of LSTM '", lstm,
                                                       "' cost from ", lo, " to ", hi,
                                                       "; a gate set needs one cost"));
      }
      (*into)[lstm] = lo;
    }
  }
  return out;
}

absl::StatusOr<L0Gates> L0Gates::Create(const LstmPruningLayout& layout,
                                        const std::map<std::string, torch::Tensor>& parameters,
                                        const L0GatesOptions& options) {
  RETURN_IF_ERROR(layout.Validate(parameters));
  RETURN_IF_ERROR(options.gates.Validate());
  if (!(options.penalty_scale > 0 && std::isfinite(options.penalty_scale))) {
    return absl::InvalidArgumentError(
        absl::StrCat("penalty_scale=", options.penalty_scale, " must be finite and > 0"));
  }
  L0Gates g;
  g.penalty_scale_ = options.penalty_scale;
  for (const PrunableLstm& l : layout.lstms) {
    SetInfo in{l.name, NameOr(options.input_names, l.name, l.name + ".input")};
    SetInfo hid{l.name, NameOr(options.hidden_names, l.name, l.name + ".hidden")};
    ASSIGN_OR_RETURN(in.cost, Lookup(options.input_cost, l.name, "input cost"));
    ASSIGN_OR_RETURN(hid.cost, Lookup(options.hidden_cost, l.name, "hidden cost"));
    ASSIGN_OR_RETURN(in.lambda, Lookup(options.input_lambda, l.name, "input lambda"));
    ASSIGN_OR_RETURN(hid.lambda, Lookup(options.hidden_lambda, l.name, "hidden lambda"));
    ASSIGN_OR_RETURN(
        HardConcreteGates in_gates,
        HardConcreteGates::Create(layout.RunsSize(l.input, parameters), options.gates));
    ASSIGN_OR_RETURN(
        HardConcreteGates hid_gates,
        HardConcreteGates::Create(layout.SpaceSize(l.name, parameters), options.gates));
    g.input_.push_back(std::move(in_gates));
    g.hidden_.push_back(std::move(hid_gates));
    g.input_info_.push_back(std::move(in));
    g.hidden_info_.push_back(std::move(hid));
  }
  return g;
}

NeuronGates L0Gates::Sample(int64_t batch, const BatchShare& share) const {
  NeuronGates z;
  for (size_t i = 0; i < input_.size(); ++i) {
    z.input[input_info_[i].lstm] = input_[i].Sample(batch, share);
  }
  for (size_t i = 0; i < hidden_.size(); ++i) {
    z.hidden[hidden_info_[i].lstm] = hidden_[i].Sample(batch, share);
  }
  return z;
}

NeuronGates L0Gates::Deterministic() const {
  torch::NoGradGuard no_grad;
  NeuronGates z;
  for (size_t i = 0; i < input_.size(); ++i) {
    z.input[input_info_[i].lstm] = input_[i].Deterministic().detach();
  }
  for (size_t i = 0; i < hidden_.size(); ++i) {
    z.hidden[hidden_info_[i].lstm] = hidden_[i].Deterministic().detach();
  }
  return z;
}

torch::Tensor L0Gates::WeightedL0(const HardConcreteGates& gates, int64_t cost, double lambda) {
  return (lambda * static_cast<double>(cost)) * gates.ProbabilityNonZero().sum();
}

torch::Tensor L0Gates::Penalty() const {
  torch::Tensor total = torch::zeros({});
  for (size_t i = 0; i < hidden_.size(); ++i) {
    total = total + WeightedL0(input_[i], input_info_[i].cost, input_info_[i].lambda) +
            WeightedL0(hidden_[i], hidden_info_[i].cost, hidden_info_[i].lambda);
  }
  return penalty_scale_ * total;
}

double L0Gates::ExpectedCost() const {
  torch::NoGradGuard no_grad;
  double total = 0;
  for (size_t i = 0; i < hidden_.size(); ++i) {
    total += WeightedL0(input_[i], input_info_[i].cost, 1.0).item<double>() +
             WeightedL0(hidden_[i], hidden_info_[i].cost, 1.0).item<double>();
  }
  return total;
}

std::vector<torch::Tensor> L0Gates::LogAlphas() {
  std::vector<torch::Tensor> p;
  for (auto& g : input_) p.push_back(g.log_alpha());
  for (auto& g : hidden_) p.push_back(g.log_alpha());
  return p;
}

void L0Gates::Clamp(double lo, double hi) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& t : LogAlphas()) t.clamp_(lo, hi);
}

nlohmann::json L0Gates::Diagnostics() const {
  torch::NoGradGuard no_grad;
  nlohmann::json sets = nlohmann::json::array();
  double total = 0;
  const auto describe = [&](const SetInfo& info, const HardConcreteGates& g) {
    const torch::Tensor z = g.Deterministic();
    const double expected = g.ProbabilityNonZero().sum().item<double>();
    const double cost = static_cast<double>(info.cost);
    total += expected * cost;
    sets.push_back({{"set", info.name},
                    {"size", g.size()},
                    {"closed", z.eq(0).sum().item<int64_t>()},
                    {"partial", (z.gt(0) & z.lt(1)).sum().item<int64_t>()},
                    {"open", z.eq(1).sum().item<int64_t>()},
                    {"mean_log_alpha", g.log_alpha().mean().item<double>()},
                    {"expected_l0", expected},
                    {"expected_cost", expected * cost}});
  };
  for (size_t i = 0; i < input_.size(); ++i) describe(input_info_[i], input_[i]);
  for (size_t i = 0; i < hidden_.size(); ++i) describe(hidden_info_[i], hidden_[i]);
  return {{"gate_sets", sets}, {"expected_cost", total}};
}

}  // namespace rnnprune
