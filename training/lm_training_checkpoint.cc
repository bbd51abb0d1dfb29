#include "training/lm_training_checkpoint.h"

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

constexpr char kTrainer[] = "lstm_lm";

json ProgressToJson(const LmTrainingProgress& p) {
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
              {"diagnostics", p.diagnostics}};
}

EpochStats EpochStatsFromJson(const json& e) {
  EpochStats s;
  s.epoch = e.at("epoch").get<int>();
  s.learning_rate = DoubleFromJson(e.at("learning_rate"));
  s.steps = e.at("steps").get<int64_t>();
  s.tokens = e.at("tokens").get<int64_t>();
  s.train_perplexity = DoubleFromJson(e.at("train_perplexity"));
  s.valid_perplexity = DoubleFromJson(e.at("valid_perplexity"));
  s.train_seconds = DoubleFromJson(e.at("train_seconds"));
  s.tokens_per_second = DoubleFromJson(e.at("tokens_per_second"));
  return s;
}

// Throws json exceptions or std::invalid_argument on a malformed object.
LmTrainingProgress ProgressFromJson(const json& j) {
  LmTrainingProgress p;
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
  for (const json& e : j.at("epochs")) p.epochs.push_back(EpochStatsFromJson(e));
  p.diagnostics = j.at("diagnostics");
  if (!p.diagnostics.is_array()) throw std::invalid_argument("diagnostics is not an array");
  return p;
}

// Empty when the checkpoint is self-consistent, else what is wrong.
std::string ConsistencyProblem(const LmTrainingCheckpoint& c) {
  const LmTrainingProgress& p = c.progress;
  if (p.steps_per_epoch < 1 || p.batch_size < 1) {
    return absl::StrCat("steps_per_epoch=", p.steps_per_epoch, ", batch_size=", p.batch_size,
                        " must both be >= 1");
  }
  if (p.epoch < 1 || p.step < 0 || p.step >= p.steps_per_epoch ||
      static_cast<int64_t>(p.epochs.size()) != p.epoch - 1 ||
      p.global_step != (p.epoch - 1) * p.steps_per_epoch + p.step) {
    return absl::StrCat("impossible position: epoch ", p.epoch, " step ", p.step, " of ",
                        p.steps_per_epoch, ", global step ", p.global_step, ", ", p.epochs.size(),
                        " finished epochs");
  }
  if ((p.step == 0) != c.lstm_state.h.empty()) {
    return absl::StrCat(c.lstm_state.h.size(), " layers of carried LSTM state at step ", p.step,
                        " (state is carried exactly when mid-epoch)");
  }
  if (c.lstm_state.h.size() != c.lstm_state.c.size()) {
    return absl::StrCat("LSTM state: ", c.lstm_state.h.size(), " h layers, ", c.lstm_state.c.size(),
                        " c layers");
  }
  return "";
}

TrainingCheckpoint ToContainer(const LmTrainingCheckpoint& c) {
  TrainingCheckpoint out;
  out.trainer = kTrainer;
  out.config_hash = c.config_hash;
  out.progress = ProgressToJson(c.progress);
  out.groups["model"] = c.model_parameters;
  NamedTensors& extra = out.groups["extra"];
  for (size_t i = 0; i < c.extra_parameters.size(); ++i) {
    extra.emplace_back(absl::StrCat(i), c.extra_parameters[i]);
  }
  NamedTensors& lstm = out.groups["lstm"];
  for (size_t l = 0; l < c.lstm_state.h.size(); ++l) {
    lstm.emplace_back(absl::StrCat("h/", l), c.lstm_state.h[l]);
    if (l < c.lstm_state.c.size()) lstm.emplace_back(absl::StrCat("c/", l), c.lstm_state.c[l]);
  }
  NamedTensors& hook = out.groups["hook"];
  for (const auto& [name, t] : c.hook_state) hook.emplace_back(name, t);
  out.optimizers["weights"] = c.optimizer_state;
  if (!c.extra_optimizer_state.empty()) out.optimizers["extra"] = c.extra_optimizer_state;
  out.rng_state = c.rng_state;
  return out;
}

// Throws json exceptions or std::invalid_argument.
LmTrainingCheckpoint FromContainer(const TrainingCheckpoint& in) {
  LmTrainingCheckpoint c;
  c.config_hash = in.config_hash;
  c.progress = ProgressFromJson(in.progress);
  c.model_parameters = RequiredGroup(in, "model");
  const NamedTensors& extra = RequiredGroup(in, "extra");
  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra[i].first != absl::StrCat(i)) {
      throw std::invalid_argument(
          absl::StrCat("extra parameter ", i, " is named '", extra[i].first, "'"));
    }
    c.extra_parameters.push_back(extra[i].second);
  }
  const NamedTensors& lstm = RequiredGroup(in, "lstm");
  for (size_t i = 0; i < lstm.size(); ++i) {
    const std::string want = absl::StrCat(i % 2 == 0 ? "h/" : "c/", i / 2);
    if (lstm[i].first != want) {
      throw std::invalid_argument(
          absl::StrCat("LSTM state ", i, " is named '", lstm[i].first, "', expected '", want, "'"));
    }
    (i % 2 == 0 ? c.lstm_state.h : c.lstm_state.c).push_back(lstm[i].second);
  }
  for (const auto& [name, t] : RequiredGroup(in, "hook")) c.hook_state[name] = t;
  c.optimizer_state = RequiredOptimizer(in, "weights");
  if (auto extra_opt = in.optimizers.find("extra"); extra_opt != in.optimizers.end()) {
    c.extra_optimizer_state = extra_opt->second;
  }
  c.rng_state = in.rng_state;
  return c;
}

}  // namespace

absl::Status SaveLmTrainingCheckpoint(const LmTrainingCheckpoint& c, const std::string& path) {
  if (c.lstm_state.h.size() != c.lstm_state.c.size()) {
    return absl::InvalidArgumentError("LSTM state: h and c have different layer counts");
  }
  return SaveTrainingCheckpoint(ToContainer(c), path);
}

absl::StatusOr<LmTrainingCheckpoint> ParseLmTrainingCheckpoint(absl::string_view bytes,
                                                               const std::string& what) {
  ASSIGN_OR_RETURN(TrainingCheckpoint container, ParseTrainingCheckpoint(bytes, kTrainer, what));
  const auto invalid = [&what](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read training checkpoint '", what, "': ", why));
  };
  try {
    LmTrainingCheckpoint c = FromContainer(container);
    const std::string problem = ConsistencyProblem(c);
    if (!problem.empty()) return invalid(problem);
    return c;
  } catch (const std::exception& e) {  // json errors, missing groups, bad names
    return invalid(absl::StrCat("malformed contents: ", e.what()));
  }
}

absl::StatusOr<LmTrainingCheckpoint> LoadLmTrainingCheckpoint(const std::string& path) {
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat("no training checkpoint at '", path, "'"));
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseLmTrainingCheckpoint(bytes, path);
}

absl::StatusOr<LmTrainingCheckpoint> CaptureLmTrainingCheckpoint(
    const LstmLm& model, TrainingHooks& hooks, torch::optim::Optimizer& optimizer,
    const LstmState& lstm_state, const std::string& config_hash,
    const LmTrainingProgress& progress) {
  return CatchTorch("capturing a training checkpoint",
                    [&]() -> absl::StatusOr<LmTrainingCheckpoint> {
                      LmTrainingCheckpoint c;
                      c.config_hash = config_hash;
                      c.progress = progress;
                      for (const auto& p : model->named_parameters()) {
                        c.model_parameters.emplace_back(p.key(), p.value().detach());
                      }
                      for (const torch::Tensor& t : hooks.ExtraParameters())
                        c.extra_parameters.push_back(t.detach());
                      c.hook_state = hooks.SaveTrainingState();
                      c.optimizer_state = SerializeOptimizer(optimizer);
                      if (torch::optim::Optimizer* extra = hooks.ExtraOptimizer()) {
                        c.extra_optimizer_state = SerializeOptimizer(*extra);
                      }
                      c.rng_state = CaptureTorchCpuRng();
                      c.lstm_state = lstm_state.Detached();
                      return c;
                    });
}

absl::Status RestoreLmTrainingCheckpoint(const LmTrainingCheckpoint& c, const std::string& path,
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
  return CatchTorch(
      absl::StrCat("restoring training checkpoint '", path, "'"), [&]() -> absl::Status {
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
          return mismatch(
              extra_optimizer != nullptr
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
                                         c10::str(c.extra_parameters[i].sizes()),
                                         ", the hooks' has ", c10::str(extra[i].sizes())));
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
            if (!c.lstm_state.h[l].sizes().equals(want) ||
                !c.lstm_state.c[l].sizes().equals(want)) {
              return mismatch(absl::StrCat("LSTM state of layer ", l, " is ",
                                           c10::str(c.lstm_state.h[l].sizes()), ", expected ",
                                           c10::str(c10::IntArrayRef(want))));
            }
          }
        }
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < named.size(); ++i)
          named[i].value().copy_(c.model_parameters[i].second);
        for (size_t i = 0; i < extra.size(); ++i) extra[i].copy_(c.extra_parameters[i]);
        absl::Status hook_status = hooks.RestoreTrainingState(c.hook_state);
        if (!hook_status.ok()) return mismatch(std::string(hook_status.message()));
        DeserializeOptimizer(c.optimizer_state, optimizer);
        if (extra_optimizer != nullptr)
          DeserializeOptimizer(c.extra_optimizer_state, *extra_optimizer);
        RestoreTorchCpuRng(c.rng_state);
        if (!c.lstm_state.h.empty()) *lstm_state = c.lstm_state.Detached();
        return absl::OkStatus();
      });
}

}  // namespace rnnprune
