#include "pruning/squad_training_checkpoint.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

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
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

constexpr char kFormat[] = "rnnprune.bidaf_training_checkpoint";

std::string ProgressToJson(const BidafTrainingProgress& p) {
  json epochs = json::array();
  for (const BidafEpochStats& e : p.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"steps", e.steps},
                      {"questions", e.questions},
                      {"mean_loss_nats", DoubleToJson(e.mean_loss_nats)},
                      {"seconds", DoubleToJson(e.seconds)},
                      {"questions_per_second", DoubleToJson(e.questions_per_second)}});
  }
  return json{{"epoch", p.epoch},
              {"step", p.step},
              {"global_step", p.global_step},
              {"steps_per_epoch", p.steps_per_epoch},
              {"batch_size", p.batch_size},
              {"train_examples", p.train_examples},
              {"epoch_loss_sum", DoubleToJson(p.epoch_loss_sum)},
              {"epoch_questions", p.epoch_questions},
              {"epoch_seconds", DoubleToJson(p.epoch_seconds)},
              {"questions", p.questions},
              {"seconds", DoubleToJson(p.seconds)},
              {"epochs", epochs}}
      .dump();
}

// Throws json exceptions or std::invalid_argument on a malformed text. step_losses_nats is not
// in the JSON (a tensor of its own).
BidafTrainingProgress ProgressFromJson(const std::string& text) {
  const json j = json::parse(text);
  BidafTrainingProgress p;
  p.epoch = j.at("epoch").get<int64_t>();
  p.step = j.at("step").get<int64_t>();
  p.global_step = j.at("global_step").get<int64_t>();
  p.steps_per_epoch = j.at("steps_per_epoch").get<int64_t>();
  p.batch_size = j.at("batch_size").get<int64_t>();
  p.train_examples = j.at("train_examples").get<int64_t>();
  p.epoch_loss_sum = DoubleFromJson(j.at("epoch_loss_sum"));
  p.epoch_questions = j.at("epoch_questions").get<int64_t>();
  p.epoch_seconds = DoubleFromJson(j.at("epoch_seconds"));
  p.questions = j.at("questions").get<int64_t>();
  p.seconds = DoubleFromJson(j.at("seconds"));
  for (const json& e : j.at("epochs")) {
    BidafEpochStats s;
    s.epoch = e.at("epoch").get<int64_t>();
    s.steps = e.at("steps").get<int64_t>();
    s.questions = e.at("questions").get<int64_t>();
    s.mean_loss_nats = DoubleFromJson(e.at("mean_loss_nats"));
    s.seconds = DoubleFromJson(e.at("seconds"));
    s.questions_per_second = DoubleFromJson(e.at("questions_per_second"));
    p.epochs.push_back(s);
  }
  return p;
}

absl::Status CheckFinite(const std::string& what, const torch::Tensor& t) {
  if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat(what, " is undefined"));
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " holds NaN/Inf: refusing to write it to a training checkpoint"));
  }
  return absl::OkStatus();
}

absl::Status ValidateForSave(const BidafTrainingCheckpoint& c) {
  for (const auto& [name, t] : c.parameters) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("parameter '", name, "'"), t));
  }
  for (const auto& [name, t] : c.buffers) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("buffer '", name, "'"), t));
  }
  for (const auto& [name, t] : c.ema_shadows) {
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("moving average of '", name, "'"), t));
  }
  const std::vector<double>& losses = c.progress.step_losses_nats;
  for (size_t i = 0; i < losses.size(); ++i) {
    if (!std::isfinite(losses[i])) {
      return absl::FailedPreconditionError(
          absl::StrCat("the loss of global step ", i + 1, " is ", losses[i],
                       ": refusing to write it to a training checkpoint"));
    }
  }
  if (static_cast<int64_t>(losses.size()) != c.progress.global_step) {
    return absl::InvalidArgumentError(absl::StrCat("progress: ", losses.size(),
                                                   " step losses for global step ",
                                                   c.progress.global_step));
  }
  if (!c.rng_state.defined()) return absl::InvalidArgumentError("no generator state");
  return absl::OkStatus();
}

// Writes `tensors` as <prefix>/names (JSON) and <prefix>/<name>.
void WriteNamed(torch::serialize::OutputArchive& archive, const std::string& prefix,
                const NamedTensors& tensors, bool is_buffer) {
  json names = json::array();
  for (const auto& [name, t] : tensors) {
    names.push_back(name);
    archive.write(absl::StrCat(prefix, "/", name), t.detach(), is_buffer);
  }
  archive.write(absl::StrCat(prefix, "/names"), c10::IValue(names.dump()));
}

// Reads what WriteNamed wrote; throws std::invalid_argument on a duplicate name.
NamedTensors ReadNamed(torch::serialize::InputArchive& archive, const std::string& prefix) {
  NamedTensors out;
  std::set<std::string> seen;
  const json names = json::parse(ReadValue(archive, absl::StrCat(prefix, "/names")).toStringRef());
  for (const json& name : names) {
    const std::string n = name.get<std::string>();
    if (!seen.insert(n).second) {
      throw std::invalid_argument(absl::StrCat(prefix, "/names lists '", n, "' twice"));
    }
    out.emplace_back(n, ReadTensor(archive, absl::StrCat(prefix, "/", n)));
  }
  return out;
}

// Empty when the progress is self-consistent, else what is wrong.
std::string ProgressProblem(const BidafTrainingProgress& p) {
  if (p.steps_per_epoch < 1 || p.batch_size < 1 || p.train_examples < 1) {
    return absl::StrCat("steps_per_epoch=", p.steps_per_epoch, ", batch_size=", p.batch_size,
                        ", train_examples=", p.train_examples, " must all be >= 1");
  }
  if (p.epoch < 1 || p.step < 0 || p.step >= p.steps_per_epoch ||
      static_cast<int64_t>(p.epochs.size()) != p.epoch - 1 ||
      p.global_step != (p.epoch - 1) * p.steps_per_epoch + p.step) {
    return absl::StrCat("impossible position: epoch ", p.epoch, " step ", p.step, " of ",
                        p.steps_per_epoch, ", global step ", p.global_step, ", ",
                        p.epochs.size(), " finished epochs");
  }
  if (static_cast<int64_t>(p.step_losses_nats.size()) != p.global_step) {
    return absl::StrCat(p.step_losses_nats.size(), " step losses for global step ",
                        p.global_step);
  }
  if (p.epoch_questions < 0 || p.questions < 0 || (p.step == 0 && p.epoch_questions != 0)) {
    return absl::StrCat("impossible question counts: ", p.epoch_questions, " in epoch ",
                        p.epoch, " at step ", p.step, ", ", p.questions, " before it");
  }
  return "";
}

std::string ShapeOf(const torch::Tensor& t) {
  return absl::StrCat(c10::str(t.sizes()), " ", c10::toString(t.scalar_type()));
}

// Empty when `saved` has the names, shapes and dtypes of `live`, else the first mismatch.
std::string NamedMismatch(const std::string& what, const NamedTensors& saved,
                          const NamedTensors& live) {
  if (saved.size() != live.size()) {
    return absl::StrCat("it holds ", saved.size(), " ", what, ", this run has ", live.size());
  }
  for (size_t i = 0; i < saved.size(); ++i) {
    const torch::Tensor& a = saved[i].second;
    const torch::Tensor& b = live[i].second;
    if (saved[i].first != live[i].first || !a.sizes().equals(b.sizes()) ||
        a.scalar_type() != b.scalar_type()) {
      return absl::StrCat(what, " ", i, " is '", saved[i].first, "' ", ShapeOf(a),
                          ", this run has '", live[i].first, "' ", ShapeOf(b));
    }
  }
  return "";
}

NamedTensors Named(const torch::OrderedDict<std::string, torch::Tensor>& dict) {
  NamedTensors out;
  for (const auto& item : dict) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

absl::Status SaveBidafTrainingCheckpoint(const BidafTrainingCheckpoint& c,
                                         const std::string& path) {
  RETURN_IF_ERROR(ValidateForSave(c));
  torch::serialize::OutputArchive archive;
  try {
    torch::NoGradGuard no_grad;
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("version", c10::IValue(static_cast<int64_t>(kBidafTrainingCheckpointVersion)));
    archive.write("config_hash", c10::IValue(c.config_hash));
    archive.write("progress", c10::IValue(ProgressToJson(c.progress)));
    const std::vector<double>& losses = c.progress.step_losses_nats;
    torch::Tensor step_losses =
        torch::empty({static_cast<int64_t>(losses.size())}, torch::kFloat64);
    if (!losses.empty()) {
      std::memcpy(step_losses.data_ptr<double>(), losses.data(), losses.size() * sizeof(double));
    }
    archive.write("progress/step_losses", step_losses, /*is_buffer=*/true);
    WriteNamed(archive, "model", c.parameters, /*is_buffer=*/false);
    WriteNamed(archive, "buffer", c.buffers, /*is_buffer=*/true);
    archive.write("optimizer/name", c10::IValue(c.optimizer_name));
    archive.write("optimizer/state", c10::IValue(c.optimizer_state));
    WriteNamed(archive, "ema", c.ema_shadows, /*is_buffer=*/true);
    archive.write("ema/num_updates", c10::IValue(c.ema_num_updates));
    archive.write("rng/torch_cpu", c.rng_state, /*is_buffer=*/true);
  } catch (const std::exception& e) {  // c10::Error derives from std::exception
    return absl::InternalError(
        absl::StrCat("cannot serialise BiDAF training checkpoint '", path, "': ", e.what()));
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
          absl::StrCat("cannot write BiDAF training checkpoint '", path, "': ", e.what()));
    }
    return write_status;
  });
}

absl::StatusOr<BidafTrainingCheckpoint> LoadBidafTrainingCheckpoint(const std::string& path) {
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat("no BiDAF training checkpoint at '", path, "'"));
  }
  const auto invalid = [&path](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read BiDAF training checkpoint '", path, "': ", why));
  };
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  // LibTorch checks no CRC and trusts the lengths it reads (models/torch_archive.h): the bytes
  // are checked first, so a damaged file is refused instead of loading wrong values.
  const absl::Status archive_ok = CheckTorchArchive(*bytes);
  if (!archive_ok.ok()) {
    return invalid(absl::StrCat("truncated or corrupt: ", archive_ok.message()));
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes->data(), bytes->size());
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() ||
        format.toStringRef() != kFormat) {
      return invalid(absl::StrCat("not a BiDAF training checkpoint (no format '", kFormat, "')"));
    }
    const int64_t version = ReadValue(archive, "version").toInt();
    if (version != kBidafTrainingCheckpointVersion) {
      return invalid(absl::StrCat("version ", version, ", this build reads version ",
                                  kBidafTrainingCheckpointVersion));
    }
    BidafTrainingCheckpoint c;
    c.config_hash = ReadValue(archive, "config_hash").toStringRef();
    c.progress = ProgressFromJson(ReadValue(archive, "progress").toStringRef());
    const torch::Tensor losses = ReadTensor(archive, "progress/step_losses");
    if (losses.scalar_type() != torch::kFloat64 || losses.dim() != 1) {
      return invalid(absl::StrCat("progress/step_losses is ", ShapeOf(losses),
                                  ", not a float64 vector"));
    }
    const torch::Tensor l = losses.contiguous();
    c.progress.step_losses_nats.assign(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
    const std::string problem = ProgressProblem(c.progress);
    if (!problem.empty()) return invalid(absl::StrCat("progress: ", problem));
    c.parameters = ReadNamed(archive, "model");
    c.buffers = ReadNamed(archive, "buffer");
    c.optimizer_name = ReadValue(archive, "optimizer/name").toStringRef();
    if (c.optimizer_name != "adam" && c.optimizer_name != "adadelta") {
      return invalid(absl::StrCat("optimizer/name '", c.optimizer_name,
                                  "' is neither 'adam' nor 'adadelta'"));
    }
    c.optimizer_state = ReadValue(archive, "optimizer/state").toStringRef();
    const absl::Status optimizer_ok = CheckTorchArchive(c.optimizer_state);
    if (!optimizer_ok.ok()) {
      return invalid(absl::StrCat("optimizer/state is corrupt: ", optimizer_ok.message()));
    }
    c.ema_shadows = ReadNamed(archive, "ema");
    c.ema_num_updates = ReadValue(archive, "ema/num_updates").toInt();
    if (c.ema_num_updates < 0) {
      return invalid(absl::StrCat("ema/num_updates=", c.ema_num_updates, " is negative"));
    }
    c.rng_state = ReadTensor(archive, "rng/torch_cpu");
    if (c.rng_state.scalar_type() != torch::kUInt8 || c.rng_state.dim() != 1) {
      return invalid("rng/torch_cpu is not a uint8 vector");
    }
    return c;
  } catch (const c10::Error& e) {
    return invalid(absl::StrCat("truncated or corrupt? ", e.what_without_backtrace()));
  } catch (const std::exception& e) {  // json errors, bad IValue casts, duplicate names
    return invalid(absl::StrCat("malformed contents: ", e.what()));
  }
}

absl::StatusOr<BidafTrainingCheckpoint> CaptureBidafTrainingCheckpoint(
    const Bidaf& model, torch::optim::Optimizer& optimizer, const std::string& optimizer_name,
    const ExponentialMovingAverage* ema, const std::string& config_hash,
    const BidafTrainingProgress& progress) {
  return CatchTorch("capturing a BiDAF training checkpoint",
                    [&]() -> absl::StatusOr<BidafTrainingCheckpoint> {
    BidafTrainingCheckpoint c;
    c.config_hash = config_hash;
    c.optimizer_name = optimizer_name;
    c.progress = progress;
    for (const auto& p : model->named_parameters()) {
      c.parameters.emplace_back(p.key(), p.value().detach());
    }
    for (const auto& b : model->named_buffers()) {
      c.buffers.emplace_back(b.key(), b.value().detach());
    }
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    std::ostringstream bytes;
    optimizer_archive.save_to(bytes);
    c.optimizer_state = bytes.str();
    if (ema != nullptr) {
      for (const auto& [name, t] : ema->shadows()) c.ema_shadows.emplace_back(name, t.detach());
      c.ema_num_updates = ema->num_updates();
    }
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      c.rng_state = gen.get_state();
    }
    return c;
  });
}

absl::Status RestoreBidafTrainingCheckpoint(const BidafTrainingCheckpoint& c,
                                            const std::string& path, Bidaf& model,
                                            torch::optim::Optimizer& optimizer,
                                            const std::string& optimizer_name,
                                            ExponentialMovingAverage* ema) {
  const auto mismatch = [&path](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("BiDAF training checkpoint '", path, "' does not fit this run: ", why));
  };
  return CatchTorch(absl::StrCat("restoring BiDAF training checkpoint '", path, "'"),
                    [&]() -> absl::Status {
    // Check everything before changing anything.
    if (c.optimizer_name != optimizer_name) {
      return mismatch(absl::StrCat("it was trained with optimizer '", c.optimizer_name,
                                   "', this run uses '", optimizer_name, "'"));
    }
    const NamedTensors params = Named(model->named_parameters());
    std::string problem = NamedMismatch("parameters", c.parameters, params);
    if (!problem.empty()) return mismatch(problem);
    const NamedTensors buffers = Named(model->named_buffers());
    problem = NamedMismatch("buffers", c.buffers, buffers);
    if (!problem.empty()) return mismatch(problem);
    if (ema == nullptr && !c.ema_shadows.empty()) {
      return mismatch("it holds a moving average of the weights, this run keeps none");
    }
    if (ema != nullptr) {
      if (ema->swapped()) return mismatch("the run's moving average is swapped in");
      problem = NamedMismatch("moving averages", c.ema_shadows, ema->shadows());
      if (!problem.empty()) return mismatch(problem);
    }
    std::istringstream bytes(c.optimizer_state);
    torch::serialize::InputArchive optimizer_archive;
    optimizer_archive.load_from(bytes);

    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].second.copy_(c.parameters[i].second);
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].second.copy_(c.buffers[i].second);
    if (ema != nullptr) RETURN_IF_ERROR(ema->Restore(c.ema_shadows, c.ema_num_updates));
    optimizer.load(optimizer_archive);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(c.rng_state);
    }
    return absl::OkStatus();
  });
}

}  // namespace rnnprune
