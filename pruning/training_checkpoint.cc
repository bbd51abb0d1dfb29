#include "pruning/training_checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/torch_archive.h"
#include "pruning/checkpoint_io.h"
#include "nlohmann/json.hpp"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

constexpr char kFormat[] = "rnnprune.training_checkpoint";

std::string ProgressToJson(const TrainingProgress& p) {
  json epochs = json::array();
  for (const EpochStats& e : p.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"learning_rate", DoubleToJson(e.learning_rate)},
                      {"steps", e.steps},
                      {"tokens", e.tokens},
                      {"train_perplexity", DoubleToJson(e.train_perplexity)},
                      {"valid_perplexity", DoubleToJson(e.valid_perplexity)},
                      {"train_seconds", DoubleToJson(e.train_seconds)},
                      {"tokens_per_second", DoubleToJson(e.tokens_per_second)}});
  }
  return json{{"epoch", p.epoch},
              {"step", p.step},
              {"global_step", p.global_step},
              {"steps_per_epoch", p.steps_per_epoch},
              {"batch_size", p.batch_size},
              {"epoch_nll_sum", DoubleToJson(p.epoch_nll_sum)},
              {"epoch_tokens", p.epoch_tokens},
              {"epoch_train_seconds", DoubleToJson(p.epoch_train_seconds)},
              {"tokens", p.tokens},
              {"train_seconds", DoubleToJson(p.train_seconds)},
              {"epochs", epochs},
              {"diagnostics", p.diagnostics}}
      .dump();
}

// Throws json exceptions or std::invalid_argument on a malformed text.
TrainingProgress ProgressFromJson(const std::string& text) {
  const json j = json::parse(text);
  TrainingProgress p;
  p.epoch = j.at("epoch").get<int>();
  p.step = j.at("step").get<int64_t>();
  p.global_step = j.at("global_step").get<int64_t>();
  p.steps_per_epoch = j.at("steps_per_epoch").get<int64_t>();
  p.batch_size = j.at("batch_size").get<int64_t>();
  p.epoch_nll_sum = DoubleFromJson(j.at("epoch_nll_sum"));
  p.epoch_tokens = j.at("epoch_tokens").get<int64_t>();
  p.epoch_train_seconds = DoubleFromJson(j.at("epoch_train_seconds"));
  p.tokens = j.at("tokens").get<int64_t>();
  p.train_seconds = DoubleFromJson(j.at("train_seconds"));
  for (const json& e : j.at("epochs")) {
    EpochStats s;
    s.epoch = e.at("epoch").get<int>();
    s.learning_rate = DoubleFromJson(e.at("learning_rate"));
    s.steps = e.at("steps").get<int64_t>();
    s.tokens = e.at("tokens").get<int64_t>();
    s.train_perplexity = DoubleFromJson(e.at("train_perplexity"));
    s.valid_perplexity = DoubleFromJson(e.at("valid_perplexity"));
    s.train_seconds = DoubleFromJson(e.at("train_seconds"));
    s.tokens_per_second = DoubleFromJson(e.at("tokens_per_second"));
    p.epochs.push_back(s);
  }
  p.diagnostics = j.at("diagnostics");
  if (!p.diagnostics.is_array()) throw std::invalid_argument("diagnostics is not an array");
  return p;
}

// The bytes of a LibTorch archive holding `optimizer`'s state. Throws c10::Error.
std::string SerializeOptimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

// Loads what SerializeOptimizer wrote into `optimizer`. Throws c10::Error.
void LoadOptimizer(const std::string& state, torch::optim::Optimizer& optimizer) {
  std::istringstream bytes(state);
  torch::serialize::InputArchive archive;
  archive.load_from(bytes);
  optimizer.load(archive);
}

absl::Status CheckFinite(const std::string& what, const torch::Tensor& t) {
  if (t.defined() && t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " holds NaN/Inf: refusing to write it to a training checkpoint"));
  }
  return absl::OkStatus();
}

absl::Status ValidateForSave(const TrainingCheckpoint& c) {
  for (const auto& [name, t] : c.hook_state) {
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '/';
    });
    if (!ok || !t.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hook state '", name, "': names are [A-Za-z0-9_./]+ and tensors must be defined"));
    }
  }
  for (const auto& [name, t] : c.model_parameters) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("parameter '", name, "'"), t));
  }
  for (size_t i = 0; i < c.extra_parameters.size(); ++i) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("extra parameter ", i), c.extra_parameters[i]));
  }
  for (size_t l = 0; l < c.lstm_state.h.size(); ++l) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("LSTM state h[", l, "]"), c.lstm_state.h[l]));
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("LSTM state c[", l, "]"), c.lstm_state.c[l]));
  }
  if (c.lstm_state.h.size() != c.lstm_state.c.size()) {
    return absl::InvalidArgumentError("LSTM state: h and c have different layer counts");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveTrainingCheckpoint(const TrainingCheckpoint& c, const std::string& path) {
  RETURN_IF_ERROR(ValidateForSave(c));
  torch::serialize::OutputArchive archive;
  try {
    torch::NoGradGuard no_grad;
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("version", c10::IValue(static_cast<int64_t>(kTrainingCheckpointVersion)));
    archive.write("config_hash", c10::IValue(c.config_hash));
    archive.write("progress", c10::IValue(ProgressToJson(c.progress)));
    json names = json::array();
    for (const auto& [name, t] : c.model_parameters) {
      names.push_back(name);
      archive.write(absl::StrCat("model/", name), t.detach());
    }
    archive.write("model/names", c10::IValue(names.dump()));
    archive.write("extra/count", c10::IValue(static_cast<int64_t>(c.extra_parameters.size())));
    for (size_t i = 0; i < c.extra_parameters.size(); ++i) {
      archive.write(absl::StrCat("extra/", i), c.extra_parameters[i].detach());
    }
    archive.write("optimizer", c10::IValue(c.optimizer_state));
    archive.write("extra_optimizer", c10::IValue(c.extra_optimizer_state));
    archive.write("rng/torch_cpu", c.rng_state, /*is_buffer=*/true);
    archive.write("lstm/layers", c10::IValue(static_cast<int64_t>(c.lstm_state.h.size())));
    for (size_t l = 0; l < c.lstm_state.h.size(); ++l) {
      archive.write(absl::StrCat("lstm/h/", l), c.lstm_state.h[l].detach(), true);
      archive.write(absl::StrCat("lstm/c/", l), c.lstm_state.c[l].detach(), true);
    }
    json hook_names = json::array();
    for (const auto& [name, t] : c.hook_state) {
      hook_names.push_back(name);
      archive.write(absl::StrCat("hook/", name), t.detach(), true);
    }
    archive.write("hook/names", c10::IValue(hook_names.dump()));
  } catch (const std::exception& e) {  // c10::Error derives from std::exception
    return absl::InternalError(
        absl::StrCat("cannot serialise training checkpoint '", path, "': ", e.what()));
  }
  return WriteFileAtomicallyWith(path, [&](const FileAppender& append) -> absl::Status {
    absl::Status write_status;
    try {
      archive.save_to([&](const void* data, size_t n) -> size_t {
        if (!write_status.ok()) return 0;
        write_status = append(absl::string_view(static_cast<const char*>(data), n));
        return write_status.ok() ? n : 0;
      });
    } catch (const std::exception& e) {
      if (!write_status.ok()) return write_status;
      return absl::InternalError(
          absl::StrCat("cannot write training checkpoint '", path, "': ", e.what()));
    }
    return write_status;
  });
}

absl::StatusOr<TrainingCheckpoint> LoadTrainingCheckpoint(const std::string& path) {
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat("no training checkpoint at '", path, "'"));
  }
  const auto invalid = [&path](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read training checkpoint '", path, "': ", why));
  };
  // The whole file is checked before LibTorch parses it (models/torch_archive.h: CRC-32 of every
  // entry, sizes, pickle lengths), then handed to LibTorch from memory.
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status archive_ok = CheckTorchArchive(*bytes); !archive_ok.ok()) {
    return invalid(absl::StrCat("truncated or corrupt: ", archive_ok.message()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes->data(), bytes->size());
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() ||
        format.toStringRef() != kFormat) {
      return invalid(absl::StrCat("not a training checkpoint (no format '", kFormat, "')"));
    }
    const int64_t version = ReadValue(archive, "version").toInt();
    if (version != kTrainingCheckpointVersion) {
      return invalid(absl::StrCat("version ", version, ", this build reads version ",
                                  kTrainingCheckpointVersion));
    }
    TrainingCheckpoint c;
    c.config_hash = ReadValue(archive, "config_hash").toStringRef();
    c.progress = ProgressFromJson(ReadValue(archive, "progress").toStringRef());
    for (const json& name : json::parse(ReadValue(archive, "model/names").toStringRef())) {
      const std::string n = name.get<std::string>();
      c.model_parameters.emplace_back(n, ReadTensor(archive, "model/" + n));
    }
    const int64_t extra = ReadValue(archive, "extra/count").toInt();
    for (int64_t i = 0; i < extra; ++i) {
      c.extra_parameters.push_back(ReadTensor(archive, absl::StrCat("extra/", i)));
    }
    c.optimizer_state = ReadValue(archive, "optimizer").toStringRef();
    // The optimizer state is an archive of its own, parsed by LibTorch on restore.
    if (absl::Status optimizer_ok = CheckTorchArchive(c.optimizer_state); !optimizer_ok.ok()) {
      return invalid(absl::StrCat("corrupt optimizer state: ", optimizer_ok.message()));
    }
    c.extra_optimizer_state = ReadValue(archive, "extra_optimizer").toStringRef();
    if (!c.extra_optimizer_state.empty()) {
      if (absl::Status ok = CheckTorchArchive(c.extra_optimizer_state); !ok.ok()) {
        return invalid(absl::StrCat("corrupt extra optimizer state: ", ok.message()));
      }
    }
    c.rng_state = ReadTensor(archive, "rng/torch_cpu");
    if (c.rng_state.scalar_type() != torch::kUInt8 || c.rng_state.dim() != 1) {
      return invalid("rng/torch_cpu is not a uint8 vector");
    }
    const int64_t layers = ReadValue(archive, "lstm/layers").toInt();
    for (int64_t l = 0; l < layers; ++l) {
      c.lstm_state.h.push_back(ReadTensor(archive, absl::StrCat("lstm/h/", l)));
      c.lstm_state.c.push_back(ReadTensor(archive, absl::StrCat("lstm/c/", l)));
    }
    for (const json& name : json::parse(ReadValue(archive, "hook/names").toStringRef())) {
      const std::string n = name.get<std::string>();
      c.hook_state[n] = ReadTensor(archive, "hook/" + n);
    }
    return c;
  } catch (const c10::Error& e) {
    return invalid(absl::StrCat("truncated or corrupt? ", e.what_without_backtrace()));
  } catch (const std::exception& e) {  // json errors, bad IValue casts
    return invalid(absl::StrCat("malformed contents: ", e.what()));
  }
}

absl::StatusOr<TrainingCheckpoint> CaptureTrainingCheckpoint(
    const LstmLm& model, TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
    const LstmState& lstm_state, const std::string& config_hash,
    const TrainingProgress& progress) {
  return CatchTorch("capturing a training checkpoint",
                    [&]() -> absl::StatusOr<TrainingCheckpoint> {
    TrainingCheckpoint c;
    c.config_hash = config_hash;
    c.progress = progress;
    for (const auto& p : model->named_parameters()) {
      c.model_parameters.emplace_back(p.key(), p.value().detach());
    }
    for (const torch::Tensor& t : hooks.ExtraParameters()) c.extra_parameters.push_back(t.detach());
    c.hook_state = hooks.SaveTrainingState();
    c.optimizer_state = SerializeOptimizer(optimizer);
    if (torch::optim::Optimizer* extra = hooks.ExtraOptimizer()) {
      c.extra_optimizer_state = SerializeOptimizer(*extra);
    }
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      c.rng_state = gen.get_state();
    }
    c.lstm_state = lstm_state.Detached();
    return c;
  });
}

absl::Status RestoreTrainingCheckpoint(const TrainingCheckpoint& c, const std::string& path,
                                       LstmLm& model, TrainingHooks& hooks,
                                       torch::optim::Optimizer& optimizer,
                                       LstmState* lstm_state) {
  const auto mismatch = [&path](const std::string& why) {
    return absl::FailedPreconditionError(
        absl::StrCat("training checkpoint '", path, "' does not fit this run: ", why));
  };
  const auto same_shape = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.sizes().equals(b.sizes()) && a.scalar_type() == b.scalar_type();
  };
  return CatchTorch(absl::StrCat("restoring training checkpoint '", path, "'"),
                    [&]() -> absl::Status {
    // Check everything before changing anything.
    const auto named = model->named_parameters();
    if (named.size() != c.model_parameters.size()) {
      return mismatch(absl::StrCat("it holds ", c.model_parameters.size(),
                                   " model parameters, the model has ", named.size()));
    }
    for (size_t i = 0; i < named.size(); ++i) {
      const auto& [name, t] = c.model_parameters[i];
      if (name != named[i].key() || !same_shape(t, named[i].value())) {
        return mismatch(absl::StrCat("parameter ", i, " is '", name, "' ", c10::str(t.sizes()),
                                     ", the model has '", named[i].key(), "' ",
                                     c10::str(named[i].value().sizes())));
      }
    }
    torch::optim::Optimizer* extra_optimizer = hooks.ExtraOptimizer();
    if ((extra_optimizer != nullptr) != !c.extra_optimizer_state.empty()) {
      return mismatch(extra_optimizer != nullptr
                          ? "it holds no state of the extra parameters' optimiser, the hooks have one"
                          : "it holds an extra parameters' optimiser state, the hooks have none");
    }
    std::vector<torch::Tensor> extra = hooks.ExtraParameters();
    if (extra.size() != c.extra_parameters.size()) {
      return mismatch(absl::StrCat("it holds ", c.extra_parameters.size(),
                                   " extra parameters (e.g. gates), the hooks have ",
                                   extra.size()));
    }
    for (size_t i = 0; i < extra.size(); ++i) {
      if (!same_shape(extra[i], c.extra_parameters[i])) {
        return mismatch(absl::StrCat("extra parameter ", i, " has shape ",
                                     c10::str(c.extra_parameters[i].sizes()), ", the hooks' has ",
                                     c10::str(extra[i].sizes())));
      }
    }
    const LstmLmConfig& config = model->config();
    if (!c.lstm_state.h.empty()) {
      if (c.lstm_state.h.size() != config.hidden_sizes.size() ||
          c.lstm_state.c.size() != config.hidden_sizes.size()) {
        return mismatch(absl::StrCat("its LSTM state has ", c.lstm_state.h.size(),
                                     " layers, the model ", config.hidden_sizes.size()));
      }
      for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
        const std::vector<int64_t> want = {1, c.progress.batch_size, config.hidden_sizes[l]};
        if (!c.lstm_state.h[l].sizes().equals(want) || !c.lstm_state.c[l].sizes().equals(want)) {
          return mismatch(absl::StrCat("LSTM state of layer ", l, " is ",
                                       c10::str(c.lstm_state.h[l].sizes()), ", expected ",
                                       c10::str(c10::IntArrayRef(want))));
        }
      }
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < named.size(); ++i) named[i].value().copy_(c.model_parameters[i].second);
    for (size_t i = 0; i < extra.size(); ++i) extra[i].copy_(c.extra_parameters[i]);
    absl::Status hook_status = hooks.RestoreTrainingState(c.hook_state);
    if (!hook_status.ok()) return mismatch(std::string(hook_status.message()));
    LoadOptimizer(c.optimizer_state, optimizer);
    if (extra_optimizer != nullptr) LoadOptimizer(c.extra_optimizer_state, *extra_optimizer);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(c.rng_state);
    }
    if (!c.lstm_state.h.empty()) *lstm_state = c.lstm_state.Detached();
    return absl::OkStatus();
  });
}

std::string TensorsSha256(const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  std::string bytes;
  for (const auto& [name, t] : tensors) {
    const torch::Tensor c = t.detach().cpu().contiguous();
    absl::StrAppend(&bytes, name, "|", c10::toString(c.scalar_type()), "|",
                    c10::str(c.sizes()), "|");
    bytes.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
  }
  return Sha256Hex(bytes);
}

}  // namespace rnnprune
