#include "training/checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "models/archive_writer.h"
#include "models/torch_archive.h"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

constexpr char kFormat[] = "rnnprune.training_checkpoint";

bool ValidName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '/';
  });
}

absl::Status CheckName(const std::string& what, const std::string& name) {
  if (ValidName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "': names are [A-Za-z0-9_./]+"));
}

absl::Status CheckTensor(const std::string& what, const torch::Tensor& t) {
  if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat(what, " is undefined"));
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " holds NaN/Inf: refusing to write it to a training checkpoint"));
  }
  return absl::OkStatus();
}

absl::Status ValidateForSave(const TrainingCheckpoint& c) {
  if (!c.progress.is_object()) return absl::InvalidArgumentError("progress is not a JSON object");
  if (!c.rng_state.defined()) return absl::InvalidArgumentError("no generator state");
  for (const auto& [group, tensors] : c.groups) {
    RETURN_IF_ERROR(CheckName("tensor group", group));
    std::set<std::string> seen;
    for (const auto& [name, t] : tensors) {
      const std::string what = absl::StrCat(group, " '", name, "'");
      RETURN_IF_ERROR(CheckName(group, name));
      if (!seen.insert(name).second) {
        return absl::InvalidArgumentError(absl::StrCat(what, " appears twice"));
      }
      RETURN_IF_ERROR(CheckTensor(what, t));
    }
  }
  for (const auto& [role, state] : c.optimizers) RETURN_IF_ERROR(CheckName("optimiser", role));
  return absl::OkStatus();
}

// The archive of `c`. Throws c10::Error.
void WriteArchive(const TrainingCheckpoint& c, torch::serialize::OutputArchive& archive) {
  torch::NoGradGuard no_grad;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("version", c10::IValue(static_cast<int64_t>(kTrainingCheckpointVersion)));
  archive.write("trainer", c10::IValue(c.trainer));
  archive.write("config_hash", c10::IValue(c.config_hash));
  archive.write("progress", c10::IValue(c.progress.dump()));
  json groups = json::array();
  for (const auto& [group, tensors] : c.groups) {
    groups.push_back(group);
    json names = json::array();
    for (size_t i = 0; i < tensors.size(); ++i) {
      names.push_back(tensors[i].first);
      archive.write(absl::StrCat("tensors/", group, "/", i), tensors[i].second.detach(),
                    /*is_buffer=*/true);
    }
    archive.write(absl::StrCat("tensors/", group, "/names"), c10::IValue(names.dump()));
  }
  archive.write("groups", c10::IValue(groups.dump()));
  json roles = json::array();
  for (const auto& [role, state] : c.optimizers) {
    roles.push_back(role);
    archive.write(absl::StrCat("optimizers/", role), c10::IValue(state));
  }
  archive.write("optimizers", c10::IValue(roles.dump()));
  archive.write("rng/torch_cpu", c.rng_state, /*is_buffer=*/true);
}

torch::Tensor ReadTensor(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t;
}

c10::IValue ReadValue(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue v;
  archive.read(key, v);
  return v;
}

// The names of a JSON array stored at `key`, checked to be valid and unique. Throws
// std::invalid_argument (and json errors) when they are not.
std::vector<std::string> ReadNames(torch::serialize::InputArchive& archive,
                                   const std::string& key) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const json& name : json::parse(ReadValue(archive, key).toStringRef())) {
    const std::string n = name.get<std::string>();
    if (!ValidName(n))
      throw std::invalid_argument(absl::StrCat(key, " lists a bad name '", n, "'"));
    if (!seen.insert(n).second) {
      throw std::invalid_argument(absl::StrCat(key, " lists '", n, "' twice"));
    }
    names.push_back(n);
  }
  return names;
}

// Reads the keys of `archive` (format and version already checked). Throws c10::Error, json
// errors and std::invalid_argument.
TrainingCheckpoint ReadContents(torch::serialize::InputArchive& archive) {
  TrainingCheckpoint c;
  c.trainer = ReadValue(archive, "trainer").toStringRef();
  c.config_hash = ReadValue(archive, "config_hash").toStringRef();
  c.progress = json::parse(ReadValue(archive, "progress").toStringRef());
  if (!c.progress.is_object()) throw std::invalid_argument("progress is not a JSON object");
  for (const std::string& group : ReadNames(archive, "groups")) {
    NamedTensors& tensors = c.groups[group];
    const std::vector<std::string> names =
        ReadNames(archive, absl::StrCat("tensors/", group, "/names"));
    for (size_t i = 0; i < names.size(); ++i) {
      tensors.emplace_back(names[i], ReadTensor(archive, absl::StrCat("tensors/", group, "/", i)));
    }
  }
  for (const std::string& role : ReadNames(archive, "optimizers")) {
    c.optimizers[role] = ReadValue(archive, absl::StrCat("optimizers/", role)).toStringRef();
  }
  c.rng_state = ReadTensor(archive, "rng/torch_cpu");
  if (c.rng_state.scalar_type() != torch::kUInt8 || c.rng_state.dim() != 1) {
    throw std::invalid_argument("rng/torch_cpu is not a uint8 vector");
  }
  return c;
}

}  // namespace

absl::Status SaveTrainingCheckpoint(const TrainingCheckpoint& c, const std::string& path) {
  RETURN_IF_ERROR(ValidateForSave(c));
  torch::serialize::OutputArchive archive;
  try {
    WriteArchive(c, archive);
  } catch (const std::exception& e) {  // c10::Error derives from std::exception
    return absl::InternalError(
        absl::StrCat("cannot serialise training checkpoint '", path, "': ", e.what()));
  }
  return WriteArchiveAtomically(archive, path, "training checkpoint");
}

absl::StatusOr<TrainingCheckpoint> ParseTrainingCheckpoint(absl::string_view bytes,
                                                           absl::string_view trainer,
                                                           const std::string& what) {
  const auto invalid = [&what](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read training checkpoint '", what, "': ", why));
  };
  // LibTorch checks no CRC and trusts the lengths it reads (models/torch_archive.h): the bytes
  // are checked first, so a damaged file is refused instead of loading wrong values.
  if (absl::Status ok = CheckTorchArchive(bytes); !ok.ok()) {
    return invalid(absl::StrCat("truncated or corrupt: ", ok.message()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() ||
        format.toStringRef() != kFormat) {
      return invalid(absl::StrCat("not a training checkpoint (no format '", kFormat, "')"));
    }
    const int64_t version = ReadValue(archive, "version").toInt();
    if (version != kTrainingCheckpointVersion) {
      return invalid(absl::StrCat("version ", version, ", this build reads version ",
                                  kTrainingCheckpointVersion,
                                  " (delete the file: the run starts over)"));
    }
    TrainingCheckpoint c = ReadContents(archive);
    if (c.trainer != trainer) {
      return invalid(absl::StrCat("written by the '", c.trainer, "' trainer, not '", trainer, "'"));
    }
    for (const auto& [role, state] : c.optimizers) {
      // Each optimiser state is an archive of its own, parsed by LibTorch on restore.
      if (absl::Status ok = CheckTorchArchive(state); !ok.ok()) {
        return invalid(absl::StrCat("corrupt '", role, "' optimiser state: ", ok.message()));
      }
    }
    return c;
  } catch (const c10::Error& e) {
    return invalid(absl::StrCat("truncated or corrupt? ", e.what_without_backtrace()));
  } catch (const std::exception& e) {  // json errors, bad IValue casts, bad or repeated names
    return invalid(absl::StrCat("malformed contents: ", e.what()));
  }
}

absl::StatusOr<TrainingCheckpoint> LoadTrainingCheckpoint(const std::string& path,
                                                          absl::string_view trainer) {
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat("no training checkpoint at '", path, "'"));
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseTrainingCheckpoint(bytes, trainer, path);
}

const NamedTensors& RequiredGroup(const TrainingCheckpoint& checkpoint, const std::string& group) {
  auto it = checkpoint.groups.find(group);
  if (it == checkpoint.groups.end()) {
    throw std::invalid_argument(absl::StrCat("no tensor group '", group, "'"));
  }
  return it->second;
}

const std::string& RequiredOptimizer(const TrainingCheckpoint& checkpoint,
                                     const std::string& role) {
  auto it = checkpoint.optimizers.find(role);
  if (it == checkpoint.optimizers.end()) {
    throw std::invalid_argument(absl::StrCat("no '", role, "' optimiser state"));
  }
  return it->second;
}

std::string SerializeOptimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

void DeserializeOptimizer(const std::string& state, torch::optim::Optimizer& optimizer) {
  std::istringstream bytes(state);
  torch::serialize::InputArchive archive;
  archive.load_from(bytes);
  optimizer.load(archive);
}

NamedTensors Named(const torch::OrderedDict<std::string, torch::Tensor>& dict) {
  NamedTensors out;
  for (const auto& item : dict) out.emplace_back(item.key(), item.value().detach());
  return out;
}

std::string NamedMismatch(const std::string& what, const NamedTensors& saved,
                          const NamedTensors& live) {
  const auto shape = [](const torch::Tensor& t) {
    return absl::StrCat(c10::str(t.sizes()), " ", c10::toString(t.scalar_type()));
  };
  if (saved.size() != live.size()) {
    return absl::StrCat("it holds ", saved.size(), " ", what, ", this run has ", live.size());
  }
  for (size_t i = 0; i < saved.size(); ++i) {
    const torch::Tensor& a = saved[i].second;
    const torch::Tensor& b = live[i].second;
    if (saved[i].first != live[i].first || !a.sizes().equals(b.sizes()) ||
        a.scalar_type() != b.scalar_type()) {
      return absl::StrCat(what, " ", i, " is '", saved[i].first, "' ", shape(a), ", this run has '",
                          live[i].first, "' ", shape(b));
    }
  }
  return "";
}

nlohmann::json DoubleToJson(double x) {
  if (std::isfinite(x)) return x;
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

double DoubleFromJson(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();  // throws json::type_error for other types
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  throw std::invalid_argument(absl::StrCat("not a number: '", s, "'"));
}

std::string TensorsSha256(const NamedTensors& tensors) {
  std::string bytes;
  for (const auto& [name, t] : tensors) {
    const torch::Tensor c = t.detach().cpu().contiguous();
    absl::StrAppend(&bytes, name, "|", c10::toString(c.scalar_type()), "|", c10::str(c.sizes()),
                    "|");
    bytes.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
  }
  return Sha256Hex(bytes);
}

}  // namespace rnnprune
