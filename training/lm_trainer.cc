#include "training/lm_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

namespace {

// One call of Train: its optimisers, its position in the schedule and what it has measured, so
// that each part of the loop (resume, one step, one epoch, a checkpoint) reads on its own.
class TrainingRun {
 public:
  TrainingRun(LstmLm& model, torch::Tensor data, const TrainOptions& options, TrainingHooks* hooks)
      : model_(model),
        data_(std::move(data)),
        options_(options),
        sch_(options.schedule),
        hooks_(hooks),
        log_(options.log),
        params_(model->parameters()),
        extra_(hooks->ExtraParameters()),
        extra_optimizer_(hooks->ExtraOptimizer()),
        sgd_(SgdParameters(), torch::optim::SGDOptions(sch_.learning_rate)),
        dp_(options.data_parallel) {
    if (!log_) {
      log_ = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    }
    if (dp_ != nullptr && !dp_->writes()) log_ = [](const std::string&) {};  // rank 0 logs
  }

  // Steps per epoch from the data and the options, and this rank's streams. Errors:
  // first_window out of range, more ranks than streams.
  absl::Status Prepare() {
    if (distributed()) {
      ASSIGN_OR_RETURN(share_, dp_->ShareOf(sch_.batch_size));
      data_ = data_.narrow(1, share_.first, share_.count).contiguous();
      model_->set_batch_share(share_);
    }
    const int64_t windows = NumBpttWindows(data_, sch_.bptt);
    if (options_.first_window < 0 || options_.first_window >= windows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "first_window=", options_.first_window, " must be in [0, ", windows,
          ") (the BPTT windows of the training split at batch ", sch_.batch_size, ")"));
    }
    steps_per_epoch_ = windows - options_.first_window;
    if (options_.max_steps_per_epoch > 0) {
      steps_per_epoch_ = std::min(steps_per_epoch_, options_.max_steps_per_epoch);
    }
    log_every_ = options_.log_every_steps > 0 ? options_.log_every_steps
                                              : std::max<int64_t>(1, steps_per_epoch_ / 10);
    total_steps_ = steps_per_epoch_ * sch_.epochs;
    return absl::OkStatus();
  }

  // Restores the training checkpoint when asked to and one exists (else starts from scratch,
  // saying so), then records the diagnostics of step 0 of a fresh run.
  absl::Status ResumeOrStart() {
    const std::string& path = options_.checkpoint_path;
    if (checkpointing() && options_.resume && !PathExists(path)) {
      log_(absl::StrFormat("no training checkpoint at %s: starting from scratch", path));
    } else if (checkpointing() && options_.resume) {
      ASSIGN_OR_RETURN(LmTrainingCheckpoint ckpt, LoadLmTrainingCheckpoint(path));
      RETURN_IF_ERROR(CheckResumable(ckpt, path, options_, steps_per_epoch_));
      RETURN_IF_ERROR(
          RestoreLmTrainingCheckpoint(ckpt, path, model_, *hooks_, sgd_, &resumed_state_));
      start_ = ckpt.progress;
      result_.epochs = start_.epochs;
      result_.diagnostics = start_.diagnostics;
      result_.tokens = start_.tokens;
      result_.train_seconds = start_.train_seconds;
      result_.resumed = true;
      result_.resumed_at_global_step = start_.global_step;
      log_(absl::StrFormat("resuming from %s: epoch %d step %d/%d (global step %d)", path,
                           start_.epoch, start_.step, steps_per_epoch_, start_.global_step));
    } else if (checkpointing() && PathExists(path)) {
      log_(absl::StrFormat("training checkpoint %s exists but resume is off: it will be replaced",
                           path));
    }
    global_step_ = start_.global_step;
    if (distributed()) RETURN_IF_ERROR(AgreeOnStart());
    if (options_.diagnostics_every_steps > 0 && global_step_ == 0) RecordDiagnostics(0);
    return absl::OkStatus();
  }

  // A resumed rank keeps its own streams of the carried state; every rank stands at the same
  // step with the same parameters (the same checkpoint, or the same seed).
  absl::Status AgreeOnStart() {
    for (std::vector<torch::Tensor>* part : {&resumed_state_.h, &resumed_state_.c}) {
      for (torch::Tensor& t : *part) t = t.narrow(1, share_.first, share_.count).contiguous();
    }
    return dp_->AgreeOnStart(global_step_, SummedParameters());
  }

  int first_epoch() const { return start_.epoch; }

  // Trains epoch `epoch` (1-based; from the resumed position when it is the checkpoint's),
  // validates, and writes the epoch-end checkpoint.
  absl::Status RunEpoch(int epoch, const torch::Tensor& valid_ids) {
    const double lr =
        sch_.learning_rate * std::pow(sch_.lr_decay, std::max(epoch - sch_.decay_after_epochs, 0));
    for (auto& group : sgd_.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
    model_->train();
    const bool mid_epoch = epoch == start_.epoch && start_.step > 0;
    LstmState state = mid_epoch ? resumed_state_ : model_->InitialState(data_.size(1));
    EpochStats stats;
    stats.epoch = epoch;
    stats.learning_rate = lr;
    stats.steps = mid_epoch ? start_.step : 0;
    stats.tokens = mid_epoch ? start_.epoch_tokens : 0;
    double nll_sum = mid_epoch ? start_.epoch_nll_sum : 0;  // nats, summed over tokens
    const double earlier_seconds = mid_epoch ? start_.epoch_train_seconds : 0;
    absl::Time epoch_start = absl::Now();  // moved forward past checkpoint writes
    for (int64_t step = stats.steps; step < steps_per_epoch_; ++step, ++global_step_) {
      BpttWindow w = GetBpttWindow(data_, options_.first_window + step, sch_.bptt);
      state = state.Detached();
      ASSIGN_OR_RETURN(const double nll, Step(w, &state, lr, epoch, step));
      const int64_t every = options_.diagnostics_every_steps;
      if (every > 0 && (global_step_ + 1) % every == 0 && global_step_ + 1 < total_steps_) {
        RecordDiagnostics(global_step_ + 1);
      }
      const int64_t tokens = w.target.size(0) * sch_.batch_size;  // every rank's
      nll_sum += nll * static_cast<double>(tokens);
      stats.tokens += tokens;
      stats.steps = step + 1;
      const double secs = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
      if ((step + 1) % log_every_ == 0 || step + 1 == steps_per_epoch_) {
        LogStep(stats, step, nll_sum, secs);
      }
      if (checkpointing() && options_.checkpoint_every_steps > 0 &&
          (global_step_ + 1) % options_.checkpoint_every_steps == 0 &&
          step + 1 < steps_per_epoch_) {  // the epoch's end writes its own, after validation
        const absl::Time pause = absl::Now();
        LmTrainingProgress p;
        p.epoch = epoch;
        p.step = step + 1;
        p.global_step = global_step_ + 1;
        p.epoch_nll_sum = nll_sum;
        p.epoch_tokens = stats.tokens;
        p.epoch_train_seconds = secs;
        RETURN_IF_ERROR(WriteCheckpoint(p, state));
        epoch_start += absl::Now() - pause;
      }
    }
    stats.train_seconds = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
    stats.tokens_per_second = stats.tokens / std::max(stats.train_seconds, 1e-9);
    stats.train_perplexity = std::exp(nll_sum / std::max<int64_t>(stats.tokens, 1));
    return EndEpoch(stats, valid_ids);
  }

  // The result, with the diagnostics after the last step (a run resumed from its final
  // checkpoint has them already).
  TrainResult Finish() {
    if (result_.diagnostics.empty() ||
        result_.diagnostics.back().value("step", int64_t{-1}) != global_step_) {
      RecordDiagnostics(global_step_);
    }
    result_.tokens_per_second = result_.tokens / std::max(result_.train_seconds, 1e-9);
    return result_;
  }

 private:
  // The plain SGD's parameters: the model's, and the method's extra parameters (gate log_alpha)
  // unless they have an optimiser of their own (TrainingHooks::ExtraOptimizer).
  std::vector<torch::Tensor> SgdParameters() const {
    std::vector<torch::Tensor> sgd = params_;
    if (extra_optimizer_ == nullptr) sgd.insert(sgd.end(), extra_.begin(), extra_.end());
    return sgd;
  }

  bool checkpointing() const { return !options_.checkpoint_path.empty(); }
  bool distributed() const { return dp_ != nullptr && dp_->world_size() > 1; }

  // One optimizer step on window `w`: loss = mean NLL per token * T (summed over the window's
  // steps, averaged over the batch, Zaremba's scale) + the hooks' penalty; the global-norm clip
  // covers the model's weights only, so the penalty's gradient on the extra parameters does not
  // shrink the weights' steps. Returns the window's mean NLL (nats). Errors: a non-finite loss
  // or gradient (naming the epoch, step and tensor), before any update.
  absl::StatusOr<double> Step(const BpttWindow& w, LstmState* state, double lr, int epoch,
                              int64_t step) {
    LmOutput out = hooks_->Forward(model_, w.input, state);
    const int64_t t = w.input.size(0);
    torch::Tensor mean_nll = MeanNll(out, w.target);
    torch::Tensor loss = mean_nll * static_cast<double>(t);
    torch::Tensor penalty = hooks_->Penalty(model_);
    if (distributed()) {  // this rank's part of the whole batch's loss
      loss = loss * (static_cast<double>(share_.count) / static_cast<double>(share_.global));
      if (penalty.defined()) penalty = penalty / static_cast<double>(dp_->world_size());
    }
    if (penalty.defined()) loss = loss + penalty;
    double nll = mean_nll.item<double>();
    // One process checks its loss now; ranks check the summed one after the all-reduce, so that
    // every rank takes the same decision.
    if (!distributed() && (!std::isfinite(nll) || !std::isfinite(loss.item<double>()))) {
      return NonFiniteLoss(epoch, step, nll);
    }
    sgd_.zero_grad();
    if (extra_optimizer_ != nullptr) extra_optimizer_->zero_grad();
    loss.backward();
    if (distributed()) {
      ASSIGN_OR_RETURN(nll, dp_->AllReduceGradients(
                                SummedParameters(), nll, share_,
                                absl::StrFormat("gradients, epoch %d step %d", epoch, step + 1)));
      if (!std::isfinite(nll) || !std::isfinite(loss.item<double>())) {
        return NonFiniteLoss(epoch, step, nll);
      }
    }
    const double grad_norm = torch::nn::utils::clip_grad_norm_(params_, sch_.max_grad_norm);
    RETURN_IF_ERROR(CheckGradients(grad_norm, epoch, step));
    sgd_.step();
    if (extra_optimizer_ != nullptr) extra_optimizer_->step();
    hooks_->AfterStep(model_, lr);
    return nll;
  }

  absl::Status NonFiniteLoss(int epoch, int64_t step, double nll) const {
    return absl::InternalError(absl::StrFormat(
        "epoch %d step %d: the loss is %s (NLL %g); stopping before the update", epoch, step + 1,
        std::isfinite(nll) ? "not finite (penalty)" : "not finite", nll));
  }

  // The model's weights, then the hooks' extra parameters: what the ranks sum and agree on.
  std::vector<torch::Tensor> SummedParameters() const {
    std::vector<torch::Tensor> all = params_;
    all.insert(all.end(), extra_.begin(), extra_.end());
    return all;
  }

  // Errors: InternalError naming the first parameter (or extra parameter) whose gradient holds
  // NaN/Inf.
  absl::Status CheckGradients(double grad_norm, int epoch, int64_t step) const {
    if (!std::isfinite(grad_norm)) {
      for (const auto& p : model_->named_parameters()) {
        if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>()) {
          return absl::InternalError(absl::StrFormat(
              "epoch %d step %d: gradient of '%s' has NaN/Inf; stopping before the update", epoch,
              step + 1, p.key()));
        }
      }
      return absl::InternalError(
          absl::StrFormat("epoch %d step %d: gradient norm is not finite", epoch, step + 1));
    }
    for (size_t i = 0; i < extra_.size(); ++i) {
      const torch::Tensor& g = extra_[i].grad();
      if (g.defined() && !torch::isfinite(g).all().item<bool>()) {
        return absl::InternalError(absl::StrFormat(
            "epoch %d step %d: gradient of extra parameter %d of %d (e.g. gate log_alpha) "
            "has NaN/Inf; stopping before the update",
            epoch, step + 1, i, extra_.size()));
      }
    }
    return absl::OkStatus();
  }

  // "epoch 2/13 step 300/1327 lr 1 | 7012 tokens/s | train ppl 143.20 | ETA 1h41m".
  void LogStep(const EpochStats& stats, int64_t step, double nll_sum, double secs) {
    const double tps = stats.tokens / std::max(secs, 1e-9);
    const double done_secs = result_.train_seconds + secs;
    const double eta = done_secs / (global_step_ + 1) * (total_steps_ - global_step_ - 1);
    log_(absl::StrFormat("epoch %d/%d step %d/%d lr %.4g | %.0f tokens/s | train ppl %.2f | ETA %s",
                         stats.epoch, sch_.epochs, step + 1, steps_per_epoch_, stats.learning_rate,
                         tps, std::exp(nll_sum / stats.tokens), FormatDuration(eta)));
  }

  // Validation (when asked), the epoch's stats into the result, and the epoch-end checkpoint.
  absl::Status EndEpoch(const EpochStats& epoch_stats, const torch::Tensor& valid_ids) {
    EpochStats stats = epoch_stats;
    if (options_.eval_each_epoch && valid_ids.defined() && valid_ids.numel() > 1) {
      ASSIGN_OR_RETURN(EvalResult v, EvaluatePerplexity(model_, valid_ids, 1, sch_.bptt,
                                                        options_.max_eval_tokens, hooks_));
      stats.valid_perplexity = v.perplexity;
      log_(absl::StrFormat(
          "epoch %d done: train ppl %.2f, valid ppl %.2f (batch 1, %.1f s), %.0f tokens/s",
          stats.epoch, stats.train_perplexity, v.perplexity, v.seconds, stats.tokens_per_second));
    }
    result_.tokens += stats.tokens;
    result_.train_seconds += stats.train_seconds;
    result_.epochs.push_back(stats);
    if (!checkpointing()) return absl::OkStatus();
    LmTrainingProgress p;
    p.epoch = stats.epoch + 1;
    p.global_step = global_step_;
    return WriteCheckpoint(p, LstmState{});
  }

  // Writes the state after `progress.global_step` steps; refuses NaN/Inf state, so the last
  // good checkpoint stays in place.
  absl::Status WriteCheckpoint(const LmTrainingProgress& progress, const LstmState& local_state) {
    LstmState state = local_state;
    if (distributed()) {  // the whole batch's carried state, [1, B, H] per layer
      for (std::vector<torch::Tensor>* part : {&state.h, &state.c}) {
        for (torch::Tensor& t : *part) {
          ASSIGN_OR_RETURN(t, dp_->GatherRows(t.contiguous(), 1, "the carried LSTM state"));
        }
      }
      if (!dp_->writes()) return absl::OkStatus();
    }
    LmTrainingProgress p = progress;
    p.steps_per_epoch = steps_per_epoch_;
    p.batch_size = sch_.batch_size;
    p.epochs = result_.epochs;
    p.tokens = result_.tokens;
    p.train_seconds = result_.train_seconds;
    p.diagnostics = result_.diagnostics;
    ASSIGN_OR_RETURN(
        LmTrainingCheckpoint c,
        CaptureLmTrainingCheckpoint(model_, *hooks_, sgd_, state, options_.config_hash, p));
    absl::Status s = SaveLmTrainingCheckpoint(c, options_.checkpoint_path);
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::InternalError(
          absl::StrFormat("epoch %d after global step %d: %s; the last good checkpoint %s is kept",
                          p.epoch, p.global_step, s.message(), options_.checkpoint_path));
    }
    return s;
  }

  // The hooks' statistics after `steps` optimizer steps (nothing when they give none).
  void RecordDiagnostics(int64_t steps) {
    nlohmann::json d = hooks_->Diagnostics(model_);
    if (d.is_null()) return;
    d["step"] = steps;
    result_.diagnostics.push_back(std::move(d));
  }

  LstmLm& model_;
  torch::Tensor data_;  // [rows, batch] (Batchify): this rank's columns
  const TrainOptions& options_;
  const ZarembaSchedule& sch_;
  TrainingHooks* hooks_;
  std::function<void(const std::string&)> log_;
  const std::vector<torch::Tensor> params_;   // the model's weights: clipped together
  const std::vector<torch::Tensor> extra_;    // the hooks' extra parameters
  torch::optim::Optimizer* extra_optimizer_;  // theirs, or null (they join the SGD)
  torch::optim::SGD sgd_;
  int64_t steps_per_epoch_ = 0;
  int64_t log_every_ = 1;
  int64_t total_steps_ = 0;
  TrainResult result_;
  LmTrainingProgress start_;  // where this run begins: the start, or a checkpoint's position
  LstmState resumed_state_;
  int64_t global_step_ = 0;
  DataParallel* dp_;  // null: one process
  BatchShare share_;  // this rank's streams (the whole batch for one process)
};

}  // namespace

absl::StatusOr<TrainResult> Train(LstmLm& model, const torch::Tensor& train_ids,
                                  const torch::Tensor& valid_ids, const TrainOptions& options,
                                  TrainingHooks* hooks) {
  return CatchTorch("Train", [&]() -> absl::StatusOr<TrainResult> {
    RETURN_IF_ERROR(ValidateSchedule(options.schedule));
    RETURN_IF_ERROR(ValidateCheckpointOptions(options));
    ASSIGN_OR_RETURN(torch::Tensor data, Batchify(train_ids, options.schedule.batch_size));
    TrainingHooks dense;
    BatchShareRestorer<LstmLm> restore_share(model);
    TrainingRun run(model, std::move(data), options, hooks != nullptr ? hooks : &dense);
    RETURN_IF_ERROR(run.Prepare());
    RETURN_IF_ERROR(run.ResumeOrStart());
    for (int epoch = run.first_epoch(); epoch <= options.schedule.epochs; ++epoch) {
      RETURN_IF_ERROR(run.RunEpoch(epoch, valid_ids));
    }
    return run.Finish();
  });
}

}  // namespace rnnprune
