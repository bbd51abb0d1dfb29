#include "pruning/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/softmax_cross_entropy.h"
#include "torch/torch.h"

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
    return absl::InvalidArgumentError(absl::StrCat("learning_rate=", s.learning_rate, " must be > 0"));
  }
  if (!(s.lr_decay > 0 && s.lr_decay <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("lr_decay=", s.lr_decay, " must be in (0, 1]"));
  }
  if (s.epochs < 1) return absl::InvalidArgumentError(absl::StrCat("epochs=", s.epochs, " must be >= 1"));
  if (s.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size=", s.batch_size, " must be >= 1"));
  }
  if (s.bptt < 1) return absl::InvalidArgumentError(absl::StrCat("bptt=", s.bptt, " must be >= 1"));
  if (!(s.max_grad_norm > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("max_grad_norm=", s.max_grad_norm, " must be > 0"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalResult> EvaluatePerplexity(LstmLm& model, const torch::Tensor& ids,
                                              int64_t batch_size, int64_t bptt,
                                              int64_t max_tokens, TrainingHooks* hooks) {
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
    for (int64_t i = 0; i < windows; ++i) {
      BpttWindow w = GetBpttWindow(data, i, bptt);
      LmOutput out = hooks->Forward(model, w.input, &state);
      nll_sum += MeanNll(out, w.target).item<double>() * static_cast<double>(w.target.numel());
      tokens += w.target.numel();
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
    ASSIGN_OR_RETURN(torch::Tensor data, Batchify(train_ids, sch.batch_size));
    TrainingHooks dense;
    if (hooks == nullptr) hooks = &dense;
    auto log = options.log;
    if (!log) log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };

    // The global-norm clip covers the model's weights; a method's extra parameters (gate
    // log_alpha) are updated by the same SGD but not clipped, so the penalty's gradient on them
    // does not shrink the weights' steps.
    std::vector<torch::Tensor> params = model->parameters();
    std::vector<torch::Tensor> all_params = params;
    for (auto& t : hooks->ExtraParameters()) all_params.push_back(t);
    torch::optim::SGD sgd(all_params, torch::optim::SGDOptions(sch.learning_rate));

    int64_t steps_per_epoch = NumBpttWindows(data, sch.bptt);
    if (options.max_steps_per_epoch > 0) {
      steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch);
    }
    const int64_t log_every =
        options.log_every_steps > 0 ? options.log_every_steps
                                    : std::max<int64_t>(1, steps_per_epoch / 10);
    const int64_t total_steps = steps_per_epoch * sch.epochs;
    TrainResult result;
    int64_t global_step = 0;
    for (int epoch = 1; epoch <= sch.epochs; ++epoch) {
      const double lr =
          sch.learning_rate * std::pow(sch.lr_decay, std::max(epoch - sch.decay_after_epochs, 0));
      for (auto& group : sgd.param_groups()) {
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      }
      model->train();
      LstmState state = model->InitialState(sch.batch_size);
      EpochStats stats;
      stats.epoch = epoch;
      stats.learning_rate = lr;
      double nll_sum = 0;  // nats, summed over tokens
      const absl::Time epoch_start = absl::Now();
      for (int64_t step = 0; step < steps_per_epoch; ++step, ++global_step) {
        BpttWindow w = GetBpttWindow(data, step, sch.bptt);
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
              "epoch %d step %d: the loss is %s (NLL %g); stopping before the update",
              epoch, step + 1, std::isfinite(nll) ? "not finite (penalty)" : "not finite", nll));
        }
        sgd.zero_grad();
        loss.backward();
        const double grad_norm =
            torch::nn::utils::clip_grad_norm_(params, sch.max_grad_norm);
        if (!std::isfinite(grad_norm)) {
          for (const auto& p : model->named_parameters()) {
            if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>()) {
              return absl::InternalError(absl::StrFormat(
                  "epoch %d step %d: gradient of '%s' has NaN/Inf; stopping before the update",
                  epoch, step + 1, p.key()));
            }
          }
          return absl::InternalError(absl::StrFormat(
              "epoch %d step %d: gradient norm is not finite", epoch, step + 1));
        }
        sgd.step();
        hooks->AfterStep(model, lr);
        nll_sum += nll * static_cast<double>(w.target.numel());
        stats.tokens += w.target.numel();
        stats.steps = step + 1;
        if ((step + 1) % log_every == 0 || step + 1 == steps_per_epoch) {
          const double secs = absl::ToDoubleSeconds(absl::Now() - epoch_start);
          const double tps = stats.tokens / std::max(secs, 1e-9);
          const double done_secs = result.train_seconds + secs;
          const double eta = done_secs / (global_step + 1) * (total_steps - global_step - 1);
          log(absl::StrFormat(
              "epoch %d/%d step %d/%d lr %.4g | %.0f tokens/s | train ppl %.2f | ETA %s",
              epoch, sch.epochs, step + 1, steps_per_epoch, lr, tps,
              std::exp(nll_sum / stats.tokens), FormatDuration(eta)));
        }
      }
      stats.train_seconds = absl::ToDoubleSeconds(absl::Now() - epoch_start);
      stats.tokens_per_second = stats.tokens / std::max(stats.train_seconds, 1e-9);
      stats.train_perplexity = std::exp(nll_sum / std::max<int64_t>(stats.tokens, 1));
      if (options.eval_each_epoch && valid_ids.defined() && valid_ids.numel() > 1) {
        ASSIGN_OR_RETURN(EvalResult v, EvaluatePerplexity(model, valid_ids, 1, sch.bptt,
                                                          options.max_eval_tokens, hooks));
        stats.valid_perplexity = v.perplexity;
        log(absl::StrFormat("epoch %d done: train ppl %.2f, valid ppl %.2f (batch 1, %.1f s), "
                            "%.0f tokens/s",
                            epoch, stats.train_perplexity, v.perplexity, v.seconds,
                            stats.tokens_per_second));
      }
      result.tokens += stats.tokens;
      result.train_seconds += stats.train_seconds;
      result.epochs.push_back(stats);
    }
    result.tokens_per_second = result.tokens / std::max(result.train_seconds, 1e-9);
    return result;
  });
}

}  // namespace rnnprune
