#include "training/lm_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/softmax_cross_entropy.h"
#include "torch/torch.h"
#include "training/lm_training_checkpoint.h"

namespace rnnprune {
namespace {

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  return absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

// Mean NLL (nats per token) of `target` [T, B] under `out`, decoder and softmax fused.
torch::Tensor MeanNll(const LmOutput& out, const torch::Tensor& target) {
  return LinearCrossEntropy(out.hidden.reshape({-1, out.hidden.size(2)}), out.decoder_weight,
                            out.decoder_bias, target.reshape({-1}));
}

absl::Status ValidateSchedule(const ZarembaSchedule& s) {
  if (!(s.learning_rate > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate=", s.learning_rate, " must be > 0"));
  }
  if (!(s.lr_decay > 0 && s.lr_decay <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("lr_decay=", s.lr_decay, " must be in (0, 1]"));
  }
  if (s.epochs < 1)
    return absl::InvalidArgumentError(absl::StrCat("epochs=", s.epochs, " must be >= 1"));
  if (s.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size=", s.batch_size, " must be >= 1"));
  }
  if (s.bptt < 1) return absl::InvalidArgumentError(absl::StrCat("bptt=", s.bptt, " must be >= 1"));
  if (!(s.max_grad_norm > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_grad_norm=", s.max_grad_norm, " must be > 0"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCheckpointOptions(const TrainOptions& o) {
  if (o.checkpoint_every_steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_every_steps=", o.checkpoint_every_steps, " must be >= 0"));
  }
  if (!o.checkpoint_path.empty() && o.config_hash.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint_path='", o.checkpoint_path,
        "' needs a config_hash (common/config_hash.h) so that a resumed run can be checked"));
  }
  return absl::OkStatus();
}

// Whether `c` (read from `path`) belongs to this run and holds a position inside it.
absl::Status CheckResumable(const LmTrainingCheckpoint& c, const std::string& path,
                            const TrainOptions& o, int64_t steps_per_epoch) {
  if (c.config_hash != o.config_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to resume from training checkpoint '", path, "': it was made with config hash ",
        c.config_hash, ", this run has config hash ", o.config_hash,
        " (a different configuration; delete the file or pass its configuration)"));
  }
  const LmTrainingProgress& p = c.progress;
  if (p.steps_per_epoch != steps_per_epoch || p.batch_size != o.schedule.batch_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training checkpoint '", path, "' was made with ", p.steps_per_epoch,
        " steps per epoch at batch size ", p.batch_size, ", this run has ", steps_per_epoch,
        " at batch size ", o.schedule.batch_size, " (same config hash: is the data different?)"));
  }
  const bool at_boundary = p.step == 0;
  if (p.epoch < 1 || p.epoch > o.schedule.epochs + 1 || p.step < 0 || p.step >= steps_per_epoch ||
      (p.epoch == o.schedule.epochs + 1 && !at_boundary) ||
      static_cast<int64_t>(p.epochs.size()) != p.epoch - 1 ||
      p.global_step != (p.epoch - 1) * steps_per_epoch + p.step ||
      at_boundary != c.lstm_state.h.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training checkpoint '", path, "' holds an impossible position: epoch ", p.epoch, " step ",
        p.step, " global step ", p.global_step, " with ", p.epochs.size(), " finished epochs, ",
        c.lstm_state.h.size(), " LSTM state layers (corrupt?)"));
  }
  return absl::OkStatus();
}

}  // namespace

nlohmann::json TrainResultToJson(const TrainResult& r) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochStats& e : r.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"learning_rate", e.learning_rate},
                      {"steps", e.steps},
                      {"tokens", e.tokens},
                      {"train_perplexity", e.train_perplexity},
                      {"valid_perplexity", e.valid_perplexity},
                      {"train_seconds", e.train_seconds},
                      {"tokens_per_second", e.tokens_per_second}});
  }
  return {{"epochs", epochs},
          {"tokens", r.tokens},
          {"train_seconds", r.train_seconds},
          {"tokens_per_second", r.tokens_per_second},
          {"resumed", r.resumed},
          {"resumed_at_global_step", r.resumed_at_global_step},
          {"diagnostics", r.diagnostics}};
}

absl::StatusOr<TrainResult> TrainResultFromJson(const nlohmann::json& j) {
  try {
    TrainResult r;
    for (const nlohmann::json& e : j.at("epochs")) {
      EpochStats s;
      s.epoch = e.at("epoch").get<int>();
      s.learning_rate = e.at("learning_rate").get<double>();
      s.steps = e.at("steps").get<int64_t>();
      s.tokens = e.at("tokens").get<int64_t>();
      s.train_perplexity = e.at("train_perplexity").get<double>();
      s.valid_perplexity = e.at("valid_perplexity").get<double>();
      s.train_seconds = e.at("train_seconds").get<double>();
      s.tokens_per_second = e.at("tokens_per_second").get<double>();
      r.epochs.push_back(s);
    }
    r.tokens = j.at("tokens").get<int64_t>();
    r.train_seconds = j.at("train_seconds").get<double>();
    r.tokens_per_second = j.at("tokens_per_second").get<double>();
    r.resumed = j.at("resumed").get<bool>();
    r.resumed_at_global_step = j.at("resumed_at_global_step").get<int64_t>();
    r.diagnostics = j.at("diagnostics");
    if (!r.diagnostics.is_array()) {
      return absl::InvalidArgumentError("training result: diagnostics is not an array");
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed training result: ", e.what()));
  }
}

int64_t EpochTrainingTokens(int64_t stream_tokens, int64_t batch_size) {
  if (batch_size < 1) return 0;
  const int64_t rows = stream_tokens / batch_size;
  return rows < 2 ? 0 : batch_size * (rows - 1);
}

namespace {

// "12,250 of 82,430 tokens (15%), 31 s, about 3 min left".
std::string EvalProgressLine(int64_t done, int64_t total, double seconds) {
  const double left = done > 0 ? seconds * static_cast<double>(total - done) / done : 0;
  return absl::StrFormat("evaluated %d of %d tokens (%.0f%%), %.0f s, about %.0f %s left", done,
                         total, 100.0 * done / std::max<int64_t>(total, 1), seconds,
                         left >= 90 ? left / 60 : left, left >= 90 ? "min" : "s");
}

}  // namespace

absl::StatusOr<EvalResult> EvaluatePerplexity(
    LstmLm& model, const torch::Tensor& ids, int64_t batch_size, int64_t bptt, int64_t max_tokens,
    TrainingHooks* hooks, const std::function<void(const std::string&)>& progress) {
  return CatchTorch("EvaluatePerplexity", [&]() -> absl::StatusOr<EvalResult> {
    if (bptt < 1) return absl::InvalidArgumentError(absl::StrCat("bptt=", bptt, " must be >= 1"));
    torch::Tensor stream = ids;
    if (max_tokens > 0 && max_tokens < ids.size(0)) stream = ids.narrow(0, 0, max_tokens);
    ASSIGN_OR_RETURN(torch::Tensor data, Batchify(stream, batch_size));
    TrainingHooks dense;
    if (hooks == nullptr) hooks = &dense;
    const bool was_training = model->is_training();
    model->eval();
    torch::NoGradGuard no_grad;
    const absl::Time start = absl::Now();
    LstmState state = model->InitialState(batch_size);
    double nll_sum = 0;
    int64_t tokens = 0;
    const int64_t windows = NumBpttWindows(data, bptt);
    absl::Time last_report = start;
    for (int64_t i = 0; i < windows; ++i) {
      BpttWindow w = GetBpttWindow(data, i, bptt);
      LmOutput out = hooks->Forward(model, w.input, &state);
      nll_sum += MeanNll(out, w.target).item<double>() * static_cast<double>(w.target.numel());
      tokens += w.target.numel();
      if (progress && absl::Now() - last_report >= absl::Seconds(kEvalProgressSeconds)) {
        last_report = absl::Now();
        progress(EvalProgressLine(tokens, data.numel() - batch_size,
                                  absl::ToDoubleSeconds(last_report - start)));
      }
    }
    model->train(was_training);
    EvalResult r;
    r.tokens = tokens;
    r.mean_nll_nats = tokens > 0 ? nll_sum / static_cast<double>(tokens) : 0.0;
    r.perplexity = std::exp(r.mean_nll_nats);
    r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return r;
  });
}

absl::StatusOr<TrainResult> Train(LstmLm& model, const torch::Tensor& train_ids,
                                  const torch::Tensor& valid_ids, const TrainOptions& options,
                                  TrainingHooks* hooks) {
  return CatchTorch("Train", [&]() -> absl::StatusOr<TrainResult> {
    const ZarembaSchedule& sch = options.schedule;
    RETURN_IF_ERROR(ValidateSchedule(sch));
    RETURN_IF_ERROR(ValidateCheckpointOptions(options));
    ASSIGN_OR_RETURN(torch::Tensor data, Batchify(train_ids, sch.batch_size));
    TrainingHooks dense;
    if (hooks == nullptr) hooks = &dense;
    auto log = options.log;
    if (!log) log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };

    // The global-norm clip covers the model's weights; a method's extra parameters (gate
    // log_alpha) are not clipped, so the penalty's gradient on them does not shrink the weights'
    // steps. They have an optimiser of their own (ExtraOptimizer), or else join the SGD.
    std::vector<torch::Tensor> params = model->parameters();
    const std::vector<torch::Tensor> extra = hooks->ExtraParameters();
    torch::optim::Optimizer* extra_optimizer = hooks->ExtraOptimizer();
    std::vector<torch::Tensor> sgd_params = params;
    if (extra_optimizer == nullptr) sgd_params.insert(sgd_params.end(), extra.begin(), extra.end());
    torch::optim::SGD sgd(sgd_params, torch::optim::SGDOptions(sch.learning_rate));

    const int64_t windows = NumBpttWindows(data, sch.bptt);
    if (options.first_window < 0 || options.first_window >= windows) {
      return absl::InvalidArgumentError(
          absl::StrCat("first_window=", options.first_window, " must be in [0, ", windows,
                       ") (the BPTT windows of the training split at batch ", sch.batch_size, ")"));
    }
    int64_t steps_per_epoch = windows - options.first_window;
    if (options.max_steps_per_epoch > 0) {
      steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch);
    }
    const int64_t log_every = options.log_every_steps > 0
                                  ? options.log_every_steps
                                  : std::max<int64_t>(1, steps_per_epoch / 10);
    const int64_t total_steps = steps_per_epoch * sch.epochs;
    const std::string& ckpt_path = options.checkpoint_path;
    const bool checkpointing = !ckpt_path.empty();

    TrainResult result;
    LmTrainingProgress start;  // where this run begins: the start, or a checkpoint's position
    LstmState resumed_state;
    if (checkpointing && options.resume && !PathExists(ckpt_path)) {
      log(absl::StrFormat("no training checkpoint at %s: starting from scratch", ckpt_path));
    } else if (checkpointing && options.resume) {
      ASSIGN_OR_RETURN(LmTrainingCheckpoint ckpt, LoadLmTrainingCheckpoint(ckpt_path));
      RETURN_IF_ERROR(CheckResumable(ckpt, ckpt_path, options, steps_per_epoch));
      RETURN_IF_ERROR(
          RestoreLmTrainingCheckpoint(ckpt, ckpt_path, model, *hooks, sgd, &resumed_state));
      start = ckpt.progress;
      result.epochs = start.epochs;
      result.diagnostics = start.diagnostics;
      result.tokens = start.tokens;
      result.train_seconds = start.train_seconds;
      result.resumed = true;
      result.resumed_at_global_step = start.global_step;
      log(absl::StrFormat("resuming from %s: epoch %d step %d/%d (global step %d)", ckpt_path,
                          start.epoch, start.step, steps_per_epoch, start.global_step));
    } else if (checkpointing && PathExists(ckpt_path)) {
      log(absl::StrFormat("training checkpoint %s exists but resume is off: it will be replaced",
                          ckpt_path));
    }

    // Writes the state after `progress.global_step` steps; refuses NaN/Inf state, so the last
    // good checkpoint stays in place.
    const auto write_checkpoint = [&](const LmTrainingProgress& progress,
                                      const LstmState& state) -> absl::Status {
      LmTrainingProgress p = progress;
      p.steps_per_epoch = steps_per_epoch;
      p.batch_size = sch.batch_size;
      p.epochs = result.epochs;
      p.tokens = result.tokens;
      p.train_seconds = result.train_seconds;
      p.diagnostics = result.diagnostics;
      ASSIGN_OR_RETURN(
          LmTrainingCheckpoint c,
          CaptureLmTrainingCheckpoint(model, *hooks, sgd, state, options.config_hash, p));
      absl::Status s = SaveLmTrainingCheckpoint(c, ckpt_path);
      if (s.code() == absl::StatusCode::kFailedPrecondition) {
        return absl::InternalError(absl::StrFormat(
            "epoch %d after global step %d: %s; the last good checkpoint %s is kept", p.epoch,
            p.global_step, s.message(), ckpt_path));
      }
      return s;
    };

    // The hooks' statistics after `steps` optimizer steps (nothing when they give none).
    const auto record_diagnostics = [&](int64_t steps) {
      nlohmann::json d = hooks->Diagnostics(model);
      if (d.is_null()) return;
      d["step"] = steps;
      result.diagnostics.push_back(std::move(d));
    };
    const int64_t every = options.diagnostics_every_steps;
    int64_t global_step = start.global_step;
    if (every > 0 && global_step == 0) record_diagnostics(0);
    for (int epoch = start.epoch; epoch <= sch.epochs; ++epoch) {
      const double lr =
          sch.learning_rate * std::pow(sch.lr_decay, std::max(epoch - sch.decay_after_epochs, 0));
      for (auto& group : sgd.param_groups()) {
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      }
      model->train();
      const bool mid_epoch = epoch == start.epoch && start.step > 0;
      LstmState state = mid_epoch ? resumed_state : model->InitialState(sch.batch_size);
      EpochStats stats;
      stats.epoch = epoch;
      stats.learning_rate = lr;
      stats.steps = mid_epoch ? start.step : 0;
      stats.tokens = mid_epoch ? start.epoch_tokens : 0;
      double nll_sum = mid_epoch ? start.epoch_nll_sum : 0;  // nats, summed over tokens
      const double earlier_seconds = mid_epoch ? start.epoch_train_seconds : 0;
      absl::Time epoch_start = absl::Now();  // moved forward past checkpoint writes
      for (int64_t step = stats.steps; step < steps_per_epoch; ++step, ++global_step) {
        BpttWindow w = GetBpttWindow(data, options.first_window + step, sch.bptt);
        state = state.Detached();
        LmOutput out = hooks->Forward(model, w.input, &state);
        const int64_t t = w.input.size(0);
        // Mean NLL per token over the window, then * t: summed over steps, mean over batch.
        torch::Tensor mean_nll = MeanNll(out, w.target);
        torch::Tensor loss = mean_nll * static_cast<double>(t);
        torch::Tensor penalty = hooks->Penalty(model);
        if (penalty.defined()) loss = loss + penalty;
        const double nll = mean_nll.item<double>();
        if (!std::isfinite(nll) || !std::isfinite(loss.item<double>())) {
          return absl::InternalError(absl::StrFormat(
              "epoch %d step %d: the loss is %s (NLL %g); stopping before the update", epoch,
              step + 1, std::isfinite(nll) ? "not finite (penalty)" : "not finite", nll));
        }
        sgd.zero_grad();
        if (extra_optimizer != nullptr) extra_optimizer->zero_grad();
        loss.backward();
        const double grad_norm = torch::nn::utils::clip_grad_norm_(params, sch.max_grad_norm);
        if (!std::isfinite(grad_norm)) {
          for (const auto& p : model->named_parameters()) {
            if (p.value().grad().defined() &&
                !torch::isfinite(p.value().grad()).all().item<bool>()) {
              return absl::InternalError(absl::StrFormat(
                  "epoch %d step %d: gradient of '%s' has NaN/Inf; stopping before the update",
                  epoch, step + 1, p.key()));
            }
          }
          return absl::InternalError(
              absl::StrFormat("epoch %d step %d: gradient norm is not finite", epoch, step + 1));
        }
        for (size_t i = 0; i < extra.size(); ++i) {
          const torch::Tensor& g = extra[i].grad();
          if (g.defined() && !torch::isfinite(g).all().item<bool>()) {
            return absl::InternalError(absl::StrFormat(
                "epoch %d step %d: gradient of extra parameter %d of %d (e.g. gate log_alpha) "
                "has NaN/Inf; stopping before the update",
                epoch, step + 1, i, extra.size()));
          }
        }
        sgd.step();
        if (extra_optimizer != nullptr) extra_optimizer->step();
        hooks->AfterStep(model, lr);
        if (every > 0 && (global_step + 1) % every == 0 && global_step + 1 < total_steps) {
          record_diagnostics(global_step + 1);
        }
        nll_sum += nll * static_cast<double>(w.target.numel());
        stats.tokens += w.target.numel();
        stats.steps = step + 1;
        const double secs = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
        if ((step + 1) % log_every == 0 || step + 1 == steps_per_epoch) {
          const double tps = stats.tokens / std::max(secs, 1e-9);
          const double done_secs = result.train_seconds + secs;
          const double eta = done_secs / (global_step + 1) * (total_steps - global_step - 1);
          log(absl::StrFormat(
              "epoch %d/%d step %d/%d lr %.4g | %.0f tokens/s | train ppl %.2f | ETA %s", epoch,
              sch.epochs, step + 1, steps_per_epoch, lr, tps, std::exp(nll_sum / stats.tokens),
              FormatDuration(eta)));
        }
        if (checkpointing && options.checkpoint_every_steps > 0 &&
            (global_step + 1) % options.checkpoint_every_steps == 0 &&
            step + 1 < steps_per_epoch) {  // the epoch's end writes its own, after validation
          const absl::Time pause = absl::Now();
          LmTrainingProgress p;
          p.epoch = epoch;
          p.step = step + 1;
          p.global_step = global_step + 1;
          p.epoch_nll_sum = nll_sum;
          p.epoch_tokens = stats.tokens;
          p.epoch_train_seconds = secs;
          RETURN_IF_ERROR(write_checkpoint(p, state));
          epoch_start += absl::Now() - pause;
        }
      }
      stats.train_seconds = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
      stats.tokens_per_second = stats.tokens / std::max(stats.train_seconds, 1e-9);
      stats.train_perplexity = std::exp(nll_sum / std::max<int64_t>(stats.tokens, 1));
      if (options.eval_each_epoch && valid_ids.defined() && valid_ids.numel() > 1) {
        ASSIGN_OR_RETURN(EvalResult v, EvaluatePerplexity(model, valid_ids, 1, sch.bptt,
                                                          options.max_eval_tokens, hooks));
        stats.valid_perplexity = v.perplexity;
        log(absl::StrFormat(
            "epoch %d done: train ppl %.2f, valid ppl %.2f (batch 1, %.1f s), "
            "%.0f tokens/s",
            epoch, stats.train_perplexity, v.perplexity, v.seconds, stats.tokens_per_second));
      }
      result.tokens += stats.tokens;
      result.train_seconds += stats.train_seconds;
      result.epochs.push_back(stats);
      if (checkpointing) {
        LmTrainingProgress p;
        p.epoch = epoch + 1;
        p.global_step = global_step;
        RETURN_IF_ERROR(write_checkpoint(p, LstmState{}));
      }
    }
    // After the last step (a run resumed from its final checkpoint has it already).
    if (result.diagnostics.empty() ||
        result.diagnostics.back().value("step", int64_t{-1}) != global_step) {
      record_diagnostics(global_step);
    }
    result.tokens_per_second = result.tokens / std::max(result.train_seconds, 1e-9);
    return result;
  });
}

}  // namespace rnnprune
