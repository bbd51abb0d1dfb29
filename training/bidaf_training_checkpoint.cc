#include "training/bidaf_training_checkpoint.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

constexpr char kTrainer[] = "bidaf";

json ProgressToJson(const BidafTrainingProgress& p) {
  json epochs = json::array();
  for (const BidafEpochStats& e : p.epochs) {
    json stats = {{"epoch", e.epoch},
                  {"steps", e.steps},
                  {"questions", e.questions},
                  {"mean_loss_nats", DoubleToJson(e.mean_loss_nats)},
                  {"seconds", DoubleToJson(e.seconds)},
                  {"questions_per_second", DoubleToJson(e.questions_per_second)}};
    if (e.validated) {
      stats["validation_exact_match"] = DoubleToJson(e.validation_exact_match);
      stats["validation_f1"] = DoubleToJson(e.validation_f1);
      stats["validation_seconds"] = DoubleToJson(e.validation_seconds);
    }
    epochs.push_back(stats);
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
              {"epochs", epochs}};
}

// Throws json exceptions or std::invalid_argument on a malformed object. step_losses_nats is
// not in the JSON (a tensor of its own).
BidafTrainingProgress ProgressFromJson(const json& j) {
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
    s.validated = e.contains("validation_f1");
    if (s.validated) {
      s.validation_exact_match = DoubleFromJson(e.at("validation_exact_match"));
      s.validation_f1 = DoubleFromJson(e.at("validation_f1"));
      s.validation_seconds = DoubleFromJson(e.at("validation_seconds"));
    }
    p.epochs.push_back(s);
  }
  return p;
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
                        p.steps_per_epoch, ", global step ", p.global_step, ", ", p.epochs.size(),
                        " finished epochs");
  }
  if (static_cast<int64_t>(p.step_losses_nats.size()) != p.global_step) {
    return absl::StrCat(p.step_losses_nats.size(), " step losses for global step ", p.global_step);
  }
  if (p.epoch_questions < 0 || p.questions < 0 || (p.step == 0 && p.epoch_questions != 0)) {
    return absl::StrCat("impossible question counts: ", p.epoch_questions, " in epoch ", p.epoch,
                        " at step ", p.step, ", ", p.questions, " before it");
  }
  return "";
}

TrainingCheckpoint ToContainer(const BidafTrainingCheckpoint& c) {
  TrainingCheckpoint out;
  out.trainer = kTrainer;
  out.config_hash = c.config_hash;
  out.progress = ProgressToJson(c.progress);
  out.progress["optimizer"] = c.optimizer_name;
  out.progress["ema_num_updates"] = c.ema_num_updates;
  const std::vector<double>& losses = c.progress.step_losses_nats;
  torch::Tensor step_losses = torch::empty({static_cast<int64_t>(losses.size())}, torch::kFloat64);
  if (!losses.empty()) {
    std::memcpy(step_losses.data_ptr<double>(), losses.data(), losses.size() * sizeof(double));
  }
  out.groups["step_losses"] = {{"nats", step_losses}};
  out.groups["model"] = c.parameters;
  out.groups["buffer"] = c.buffers;
  out.groups["ema"] = c.ema_shadows;
  out.groups["extra"] = c.extra_parameters;
  out.groups["hook"] = {c.hook_state.begin(), c.hook_state.end()};
  out.optimizers["weights"] = c.optimizer_state;
  if (!c.extra_optimizer_state.empty()) out.optimizers["extra"] = c.extra_optimizer_state;
  out.rng_state = c.rng_state;
  return out;
}

// Throws json exceptions or std::invalid_argument.
BidafTrainingCheckpoint FromContainer(const TrainingCheckpoint& in) {
  BidafTrainingCheckpoint c;
  c.config_hash = in.config_hash;
  c.progress = ProgressFromJson(in.progress);
  c.optimizer_name = in.progress.at("optimizer").get<std::string>();
  if (c.optimizer_name != "adam" && c.optimizer_name != "adadelta") {
    throw std::invalid_argument(
        absl::StrCat("optimizer '", c.optimizer_name, "' is neither 'adam' nor 'adadelta'"));
  }
  c.ema_num_updates = in.progress.at("ema_num_updates").get<int64_t>();
  if (c.ema_num_updates < 0) {
    throw std::invalid_argument(
        absl::StrCat("ema_num_updates=", c.ema_num_updates, " is negative"));
  }
  const NamedTensors& losses = RequiredGroup(in, "step_losses");
  if (losses.size() != 1 || losses[0].first != "nats" ||
      losses[0].second.scalar_type() != torch::kFloat64 || losses[0].second.dim() != 1) {
    throw std::invalid_argument("step_losses is not one float64 vector 'nats'");
  }
  const torch::Tensor l = losses[0].second.contiguous();
  c.progress.step_losses_nats.assign(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
  c.parameters = RequiredGroup(in, "model");
  c.buffers = RequiredGroup(in, "buffer");
  c.ema_shadows = RequiredGroup(in, "ema");
  c.optimizer_state = RequiredOptimizer(in, "weights");
  // Checkpoints written before pruning hooks existed have neither.
  if (const auto it = in.groups.find("extra"); it != in.groups.end())
    c.extra_parameters = it->second;
  if (const auto it = in.optimizers.find("extra"); it != in.optimizers.end()) {
    c.extra_optimizer_state = it->second;
  }
  if (const auto it = in.groups.find("hook"); it != in.groups.end()) {
    c.hook_state = {it->second.begin(), it->second.end()};
  }
  c.rng_state = in.rng_state;
  return c;
}

}  // namespace

absl::Status SaveBidafTrainingCheckpoint(const BidafTrainingCheckpoint& c,
                                         const std::string& path) {
  const std::vector<double>& losses = c.progress.step_losses_nats;
  for (size_t i = 0; i < losses.size(); ++i) {
    if (!std::isfinite(losses[i])) {
      return absl::FailedPreconditionError(
          absl::StrCat("the loss of global step ", i + 1, " is ", losses[i],
                       ": refusing to write it to a training checkpoint"));
    }
  }
  if (static_cast<int64_t>(losses.size()) != c.progress.global_step) {
    return absl::InvalidArgumentError(absl::StrCat(
        "progress: ", losses.size(), " step losses for global step ", c.progress.global_step));
  }
  return SaveTrainingCheckpoint(ToContainer(c), path);
}

absl::StatusOr<BidafTrainingCheckpoint> ParseBidafTrainingCheckpoint(absl::string_view bytes,
                                                                     const std::string& what) {
  ASSIGN_OR_RETURN(TrainingCheckpoint container, ParseTrainingCheckpoint(bytes, kTrainer, what));
  const auto invalid = [&what](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read BiDAF training checkpoint '", what, "': ", why));
  };
  try {
    BidafTrainingCheckpoint c = FromContainer(container);
    const std::string problem = ProgressProblem(c.progress);
    if (!problem.empty()) return invalid(absl::StrCat("progress: ", problem));
    return c;
  } catch (const std::exception& e) {  // json errors, missing groups, bad values
    return invalid(absl::StrCat("malformed contents: ", e.what()));
  }
}

absl::StatusOr<BidafTrainingCheckpoint> LoadBidafTrainingCheckpoint(const std::string& path) {
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat("no BiDAF training checkpoint at '", path, "'"));
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseBidafTrainingCheckpoint(bytes, path);
}

absl::StatusOr<BidafTrainingCheckpoint> CaptureBidafTrainingCheckpoint(
    const Bidaf& model, torch::optim::Optimizer& optimizer, const std::string& optimizer_name,
    const ExponentialMovingAverage* ema, ModelHooks* hooks, const std::string& config_hash,
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
                      c.optimizer_state = SerializeOptimizer(optimizer);
                      if (ema != nullptr) {
                        for (const auto& [name, t] : ema->shadows())
                          c.ema_shadows.emplace_back(name, t.detach());
                        c.ema_num_updates = ema->num_updates();
                      }
                      if (hooks != nullptr) {
                        const std::vector<torch::Tensor> extra = hooks->ExtraParameters();
                        for (size_t i = 0; i < extra.size(); ++i) {
                          c.extra_parameters.emplace_back(std::to_string(i), extra[i].detach());
                        }
                        if (hooks->ExtraOptimizer() != nullptr) {
                          c.extra_optimizer_state = SerializeOptimizer(*hooks->ExtraOptimizer());
                        }
                        c.hook_state = hooks->SaveTrainingState();
                      }
                      c.rng_state = CaptureTorchCpuRng();
                      return c;
                    });
}

absl::Status RestoreBidafTrainingCheckpoint(const BidafTrainingCheckpoint& c,
                                            const std::string& path, Bidaf& model,
                                            torch::optim::Optimizer& optimizer,
                                            const std::string& optimizer_name,
                                            ExponentialMovingAverage* ema, ModelHooks* hooks) {
  const auto mismatch = [&path](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("BiDAF training checkpoint '", path, "' does not fit this run: ", why));
  };
  return CatchTorch(
      absl::StrCat("restoring BiDAF training checkpoint '", path, "'"), [&]() -> absl::Status {
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

        NamedTensors extra;
        if (hooks != nullptr) {
          const std::vector<torch::Tensor> live = hooks->ExtraParameters();
          for (size_t i = 0; i < live.size(); ++i) extra.emplace_back(std::to_string(i), live[i]);
        }
        problem = NamedMismatch("extra parameters", c.extra_parameters, extra);
        if (!problem.empty()) return mismatch(problem);
        torch::optim::Optimizer* extra_optimizer = hooks ? hooks->ExtraOptimizer() : nullptr;
        if ((extra_optimizer != nullptr) != !c.extra_optimizer_state.empty()) {
          return mismatch(
              extra_optimizer != nullptr
                  ? "it holds no state of the pruning method's optimizer"
                  : "it holds the state of a pruning method's optimizer this run lacks");
        }
        if (hooks == nullptr && !c.hook_state.empty()) {
          return mismatch("it holds the state of pruning hooks this run lacks");
        }
        // The hooks check their state before anything of the model is changed.
        if (hooks != nullptr) {
          const absl::Status s = hooks->RestoreTrainingState(c.hook_state);
          if (!s.ok()) return mismatch(s.message());
        }

        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i) params[i].second.copy_(c.parameters[i].second);
        for (size_t i = 0; i < extra.size(); ++i) {
          extra[i].second.copy_(c.extra_parameters[i].second);
        }
        if (extra_optimizer != nullptr) {
          DeserializeOptimizer(c.extra_optimizer_state, *extra_optimizer);
        }
        for (size_t i = 0; i < buffers.size(); ++i) buffers[i].second.copy_(c.buffers[i].second);
        if (ema != nullptr) RETURN_IF_ERROR(ema->Restore(c.ema_shadows, c.ema_num_updates));
        DeserializeOptimizer(c.optimizer_state, optimizer);
        RestoreTorchCpuRng(c.rng_state);
        return absl::OkStatus();
      });
}

}  // namespace rnnprune
