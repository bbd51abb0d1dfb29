#include "models/torch_export.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/torch_status.h"
#include "torch/csrc/jit/serialization/pickle.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// "<prefix>_w_ih" -> "<prefix>.weight_ih_l0" and the like (an LSTM layer's tensors); any other
// name unchanged.
std::string TorchLstmName(const std::string& name) {
  static const std::pair<const char*, const char*> kSuffixes[] = {{"_w_ih", ".weight_ih_l0"},
                                                                  {"_w_hh", ".weight_hh_l0"},
                                                                  {"_b_ih", ".bias_ih_l0"},
                                                                  {"_b_hh", ".bias_hh_l0"}};
  for (const auto& [ours, theirs] : kSuffixes) {
    if (absl::EndsWith(name, ours) && name.size() > std::string(ours).size()) {
      return absl::StrCat(name.substr(0, name.size() - std::string(ours).size()), theirs);
    }
  }
  return name;
}

}  // namespace

StateDict TorchStateDict(const torch::nn::Module& model) {
  StateDict out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    out.emplace_back(TorchLstmName(item.key()), item.value().detach().clone().contiguous());
  }
  return out;
}

absl::Status WriteTorchStateDict(const StateDict& state, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& [name, tensor] : state) {
    if (name.empty() || !seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("WriteTorchStateDict(", path, "): the name '",
                                                     name, "' is empty or given twice"));
    }
    if (!tensor.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("WriteTorchStateDict(", path, "): tensor '", name, "' is undefined"));
    }
  }
  absl::StatusOr<std::vector<char>> bytes = CatchTorch(
      absl::StrCat("WriteTorchStateDict(", path, ")"), [&]() -> absl::StatusOr<std::vector<char>> {
        c10::Dict<std::string, at::Tensor> dict;
        for (const auto& [name, tensor] : state) {
          dict.insert(name, tensor.contiguous().cpu());
        }
        return torch::jit::pickle_save(c10::IValue(dict));
      });
  if (!bytes.ok()) return bytes.status();
  const absl::Status written =
      WriteFileAtomically(path, absl::string_view(bytes->data(), bytes->size()));
  if (written.ok()) return written;
  return absl::Status(written.code(),
                      absl::StrCat("WriteTorchStateDict(", path, "): ", written.message()));
}

absl::Status ExportTorchModel(const torch::nn::Module& model, const std::string& config_json,
                              const std::string& dir) {
  // The weights first: a new folder that has a config.json has its weights too.
  absl::Status s = MakeDirs(dir);
  if (s.ok()) s = WriteTorchStateDict(TorchStateDict(model), dir + "/model.pt");
  if (s.ok()) s = WriteFileAtomically(dir + "/config.json", config_json + "\n");
  return s;
}

}  // namespace rnnprune
