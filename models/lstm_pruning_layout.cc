#include "models/lstm_pruning_layout.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"

namespace rnnprune {
namespace {

using ParameterMapT = std::map<std::string, torch::Tensor>;

const torch::Tensor* Find(const ParameterMapT& parameters, const std::string& name) {
  const auto it = parameters.find(name);
  return it == parameters.end() ? nullptr : &it->second;
}

// `name` is present and has `dims` dimensions.
absl::Status CheckParameter(const ParameterMapT& parameters, const std::string& owner,
                            const std::string& name, int64_t dims) {
  const torch::Tensor* t = Find(parameters, name);
  if (t == nullptr || !t->defined()) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, ": parameter '", name, "' is not a parameter of the model"));
  }
  if (t->dim() != dims) {
    return absl::InvalidArgumentError(absl::StrCat(owner, ": parameter '", name, "' must be ", dims,
                                                   "-d, got ", c10::str(t->sizes())));
  }
  return absl::OkStatus();
}

absl::Status CheckLstm(const PrunableLstm& lstm, const ParameterMapT& parameters) {
  const std::string owner = absl::StrCat("LSTM '", lstm.name, "'");
  for (const std::string* n : {&lstm.w_ih, &lstm.w_hh}) {
    if (absl::Status s = CheckParameter(parameters, owner, *n, 2); !s.ok()) return s;
  }
  for (const std::string* n : {&lstm.b_ih, &lstm.b_hh}) {
    if (absl::Status s = CheckParameter(parameters, owner, *n, 1); !s.ok()) return s;
  }
  const torch::Tensor &w_ih = parameters.at(lstm.w_ih), &w_hh = parameters.at(lstm.w_hh);
  const int64_t h = w_hh.size(1);
  if (h < 1 || w_hh.size(0) != 4 * h || w_ih.size(0) != 4 * h ||
      parameters.at(lstm.b_ih).size(0) != 4 * h || parameters.at(lstm.b_hh).size(0) != 4 * h) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, ": w_ih ", c10::str(w_ih.sizes()), ", w_hh ", c10::str(w_hh.sizes()),
                     " and the biases must be [4H, I], [4H, H], [4H] with H >= 1"));
  }
  return absl::OkStatus();
}

absl::Status CheckRuns(const LstmPruningLayout& layout, const std::vector<SpaceRun>& runs,
                       const ParameterMapT& parameters, const std::string& owner) {
  for (const SpaceRun& run : runs) {
    if (layout.SpaceSize(run.space, parameters) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(owner, " reads space '", run.space, "', which the layout does not have"));
    }
    if (run.power != 1 && run.power != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          owner, " reads space '", run.space, "' with power ", run.power, "; it must be 1 or 2"));
    }
  }
  return absl::OkStatus();
}

// Dimension `at` exists and has `size` entries.
absl::Status CheckDim(const ParameterDim& at, int64_t size, const ParameterMapT& parameters,
                      const std::string& owner) {
  const torch::Tensor* t = Find(parameters, at.parameter);
  if (t == nullptr || !t->defined()) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, ": parameter '", at.parameter, "' is not a parameter of the model"));
  }
  if (at.dim < 0 || at.dim >= t->dim() || t->size(at.dim) != size) {
    return absl::InvalidArgumentError(absl::StrCat(owner, ": dimension ", at.dim, " of '",
                                                   at.parameter, "' ", c10::str(t->sizes()),
                                                   " must have ", size, " entries"));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t LstmPruningLayout::SpaceSize(const std::string& name,
                                     const ParameterMapT& parameters) const {
  for (const FreeSpace& s : free_spaces) {
    if (s.name == name) return s.size;
  }
  for (const PrunableLstm& l : lstms) {
    if (l.name != name) continue;
    const torch::Tensor* w_hh = Find(parameters, l.w_hh);
    return w_hh != nullptr && w_hh->defined() && w_hh->dim() == 2 ? w_hh->size(1) : -1;
  }
  return -1;
}

bool LstmPruningLayout::IsLstmSpace(const std::string& space) const {
  for (const PrunableLstm& l : lstms) {
    if (l.name == space) return true;
  }
  return false;
}

bool LstmPruningLayout::ReadsOnlyFreeSpaces(const PrunableLstm& lstm) const {
  for (const SpaceRun& run : lstm.input) {
    if (IsLstmSpace(run.space)) return false;
  }
  return true;
}

int64_t LstmPruningLayout::RunsSize(const std::vector<SpaceRun>& runs,
                                    const ParameterMapT& parameters) const {
  int64_t total = 0;
  for (const SpaceRun& run : runs) {
    const int64_t n = SpaceSize(run.space, parameters);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

absl::Status LstmPruningLayout::Validate(const ParameterMapT& parameters) const {
  std::set<std::string> names;
  for (const FreeSpace& s : free_spaces) {
    if (s.name.empty() || !names.insert(s.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("free space name '", s.name, "' is empty or used twice"));
    }
    if (s.size < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("free space '", s.name, "' has size ", s.size, "; it must be >= 1"));
    }
  }
  if (lstms.empty()) return absl::InvalidArgumentError("the layout has no LSTM");
  for (const PrunableLstm& l : lstms) {
    if (l.name.empty() || !names.insert(l.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("LSTM name '", l.name, "' is empty or used twice"));
    }
    if (absl::Status s = CheckLstm(l, parameters); !s.ok()) return s;
  }
  for (const PrunableLstm& l : lstms) {
    const std::string owner = absl::StrCat("LSTM '", l.name, "'");
    if (absl::Status s = CheckRuns(*this, l.input, parameters, owner); !s.ok()) return s;
    if (l.input.empty()) return absl::InvalidArgumentError(owner + " reads no space");
    const ParameterDim columns{l.w_ih, 1};
    const int64_t width = RunsSize(l.input, parameters);
    if (absl::Status s = CheckDim(columns, width, parameters, owner); !s.ok()) return s;
  }
  for (const SpaceReader& r : readers) {
    const std::string owner = absl::StrCat("reader '", r.at.parameter, "'");
    if (absl::Status s = CheckRuns(*this, r.layout, parameters, owner); !s.ok()) return s;
    if (r.offset < 0) {
      return absl::InvalidArgumentError(absl::StrCat(owner, ": offset ", r.offset, " < 0"));
    }
    const int64_t width = r.offset + RunsSize(r.layout, parameters);
    if (absl::Status s = CheckDim(r.at, width, parameters, owner); !s.ok()) return s;
  }
  for (const FreeSpace& f : free_spaces) {
    for (const ParameterDim& p : f.producers) {
      const std::string owner = absl::StrCat("free space '", f.name, "'");
      if (absl::Status s = CheckDim(p, f.size, parameters, owner); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

ParameterMapT ParameterMap(const torch::OrderedDict<std::string, torch::Tensor>& named) {
  ParameterMapT out;
  for (const auto& item : named) out.emplace(item.key(), item.value());
  return out;
}

}  // namespace rnnprune
