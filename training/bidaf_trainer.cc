#include "training/bidaf_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/squad_metric.h"
#include "models/bidaf_spans.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"
#include "training/adadelta.h"
#include "training/bidaf_training_checkpoint.h"
#include "training/moving_average.h"
#include "training/squad_batch.h"
#include "training/step_sizes.h"

namespace rnnprune {
namespace {

constexpr double kAdadeltaDefaultLr = 0.5;  // Seo et al. 2017, Section 4
constexpr double kAdamDefaultLr = 1e-3;     // Kingma & Ba 2015

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  return absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

// Restores a module's training mode when the scope ends (also on early returns).
class TrainingModeRestorer {
 public:
  explicit TrainingModeRestorer(torch::nn::Module* module)
      : module_(module), was_training_(module->is_training()) {}
  ~TrainingModeRestorer() { module_->train(was_training_); }
  TrainingModeRestorer(const TrainingModeRestorer&) = delete;
  TrainingModeRestorer& operator=(const TrainingModeRestorer&) = delete;

 private:
  torch::nn::Module* module_;
  bool was_training_;
};

std::vector<std::pair<std::string, torch::Tensor>> TrainableParameters(const BidafImpl& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const BidafTrainOptions& options,
                                                       std::vector<torch::Tensor> params) {
  const double lr = options.EffectiveLearningRate();
  if (options.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(std::move(params), torch::optim::AdamOptions(lr));
  }
  return std::make_unique<Adadelta>(std::move(params), AdadeltaOptions(lr));
}

// The global L2 norm of the gradients; when it is not finite, Internal naming the first
// parameter whose gradient holds a NaN/Inf. Then, with max_norm > 0, scales the gradients down
// to that norm (as torch::nn::utils::clip_grad_norm_).
absl::Status CheckAndClipGradients(const std::vector<std::pair<std::string, torch::Tensor>>& params,
                                   double max_norm, const std::string& where) {
  std::vector<torch::Tensor> norms;
  for (const auto& [name, p] : params) {
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  }
  if (norms.empty()) return absl::OkStatus();
  const double total = torch::stack(norms).norm().item<double>();
  if (!std::isfinite(total)) {
    for (const auto& [name, p] : params) {
      if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) {
        return absl::InternalError(absl::StrCat(where, ": the gradient of '", name,
                                                "' has NaN/Inf; stopping before the update"));
      }
    }
    return absl::InternalError(
        absl::StrCat(where, ": the gradient norm is ", total, "; stopping before the update"));
  }
  if (max_norm > 0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (const auto& [name, p] : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return absl::OkStatus();
}

// The parameters the ranks sum and agree on: the trained ones, then the hooks' extra ones.
std::vector<torch::Tensor> SummedParameters(
    const std::vector<std::pair<std::string, torch::Tensor>>& params, ModelHooks* hooks) {
  std::vector<torch::Tensor> out;
  for (const auto& item : params) out.push_back(item.second);
  if (hooks != nullptr) {
    for (const torch::Tensor& p : hooks->ExtraParameters()) out.push_back(p);
  }
  return out;
}

absl::Status Annotate(const absl::Status& status, const std::string& where) {
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

// The model's forward pass on `batch` as `hooks` ask for it in the model's current mode (null
// hooks: its own), with LibTorch errors as a Status.
absl::StatusOr<BidafOutput> GatedForwardOf(Bidaf& model, ModelHooks* hooks,
                                           const BidafBatch& batch) {
  if (hooks == nullptr) return model->TryForward(batch);
  return CatchTorch("Bidaf forward", [&]() -> absl::StatusOr<BidafOutput> {
    const absl::Status valid = ValidateBidafBatch(batch, model->config(), false);
    if (!valid.ok()) return valid;
    const PrunableModelView view = model->View();
    return model->ForwardGated(batch, hooks->Forward(view, batch.context_words.size(0)));
  });
}

// Whether `c` (read from `path`) belongs to this run and holds a position inside it.
absl::Status CheckResumable(const BidafTrainingCheckpoint& c, const std::string& path,
                            const BidafTrainOptions& o, int64_t steps_per_epoch,
                            int64_t train_examples) {
  if (c.config_hash != o.config_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to resume from BiDAF training checkpoint '", path,
        "': it was made with config hash ", c.config_hash, ", this run has config hash ",
        o.config_hash, " (a different configuration; delete the file or pass its configuration)"));
  }
  const BidafTrainingProgress& p = c.progress;
  if (p.steps_per_epoch != steps_per_epoch || p.batch_size != o.batch_size ||
      p.train_examples != train_examples) {
    return absl::FailedPreconditionError(
        absl::StrCat("BiDAF training checkpoint '", path, "' was made with ", p.steps_per_epoch,
                     " steps per epoch of ", p.batch_size, " questions over ", p.train_examples,
                     " training examples, this run has ", steps_per_epoch, " of ", o.batch_size,
                     " over ", train_examples, " (same config hash: is the data different?)"));
  }
  if (p.epoch > o.epochs + 1 || (p.epoch == o.epochs + 1 && p.step != 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("BiDAF training checkpoint '", path, "' holds an impossible position: epoch ",
                     p.epoch, " step ", p.step, " of a run of ", o.epochs, " epochs (corrupt?)"));
  }
  return absl::OkStatus();
}

// Scores options.validation into `stats` with the weights evaluation uses (the moving average
// swapped in and back out, when there is one); the model's training mode is kept.
absl::Status ScoreValidation(Bidaf& model, const BidafTrainOptions& options,
                             ExponentialMovingAverage* ema, BidafEpochStats* stats) {
  const absl::Time start = absl::Now();
  if (ema != nullptr) RETURN_IF_ERROR(ema->Swap(*model));
  absl::StatusOr<BidafEvalResult> scored =
      EvaluateBidaf(model, *options.validation, options.validation_batch_size,
                    options.max_answer_tokens, options.hooks);
  if (ema != nullptr) RETURN_IF_ERROR(ema->Swap(*model));  // the trained values, bit for bit
  if (!scored.ok()) return Annotate(scored.status(), "TrainBidaf: validation");
  stats->validated = true;
  stats->validation_exact_match = scored->exact_match;
  stats->validation_f1 = scored->f1;
  stats->validation_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return absl::OkStatus();
}

}  // namespace

double BidafTrainOptions::EffectiveLearningRate() const {
  if (learning_rate > 0) return learning_rate;
  return optimizer == "adam" ? kAdamDefaultLr : kAdadeltaDefaultLr;
}

absl::Status BidafTrainOptions::Validate() const {
  auto bad = [](const std::string& field, const auto& value, const std::string& rule) {
    return absl::InvalidArgumentError(
        absl::StrCat("BidafTrainOptions.", field, "=", value, " must be ", rule));
  };
  if (epochs < 1) return bad("epochs", epochs, ">= 1");
  if (max_steps_per_epoch < 0) return bad("max_steps_per_epoch", max_steps_per_epoch, ">= 0");
  if (batch_size < 1) return bad("batch_size", batch_size, ">= 1");
  if (optimizer != "adadelta" && optimizer != "adam") {
    return bad("optimizer", absl::StrCat("'", optimizer, "'"), "'adadelta' or 'adam'");
  }
  if (!(learning_rate >= 0 && std::isfinite(learning_rate))) {
    return bad("learning_rate", learning_rate, ">= 0 and finite (0 = the optimizer's default)");
  }
  if (!(ema_decay >= 0 && ema_decay < 1)) return bad("ema_decay", ema_decay, "in [0, 1)");
  if (!(max_grad_norm >= 0 && std::isfinite(max_grad_norm))) {
    return bad("max_grad_norm", max_grad_norm, ">= 0 and finite (0 = no clip)");
  }
  if (log_every_steps < 0) return bad("log_every_steps", log_every_steps, ">= 0");
  if (validation_batch_size < 1) return bad("validation_batch_size", validation_batch_size, ">= 1");
  if (max_answer_tokens < 0)
    return bad("max_answer_tokens", max_answer_tokens, ">= 0 (0 = no cap)");
  if (checkpoint_every_steps < 0) {
    return bad("checkpoint_every_steps", checkpoint_every_steps, ">= 0 (0 = at epoch ends only)");
  }
  if (!checkpoint_path.empty() && config_hash.empty()) {
    return bad("config_hash", "''",
               absl::StrCat("non-empty when checkpoint_path is set (checkpoint_path='",
                            checkpoint_path, "'), so that a resumed run can be checked"));
  }
  return absl::OkStatus();
}

absl::StatusOr<BidafTrainResult> TrainBidaf(Bidaf& model, const std::vector<SquadExample>& train,
                                            const BidafTrainOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  if (train.empty()) return absl::InvalidArgumentError("TrainBidaf: no training example");
  return CatchTorch("TrainBidaf", [&]() -> absl::StatusOr<BidafTrainResult> {
    auto log = options.log;
    if (!log) log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    DataParallel* dp = options.data_parallel;
    const bool distributed = dp != nullptr && dp->world_size() > 1;
    if (distributed && !dp->writes()) log = [](const std::string&) {};  // rank 0 logs
    TrainingModeRestorer restore_mode(model.get());
    BatchShareRestorer<Bidaf> restore_share(model);
    torch::manual_seed(options.seed);
    const std::vector<std::pair<std::string, torch::Tensor>> named = TrainableParameters(*model);
    std::vector<torch::Tensor> params;
    for (const auto& item : named) params.push_back(item.second);
    std::unique_ptr<torch::optim::Optimizer> optimizer = MakeOptimizer(options, params);
    ASSIGN_OR_RETURN(const StepSizes step_sizes,
                     StepSizes::Of(*optimizer, options.EffectiveLearningRate()));
    ModelHooks* hooks = options.hooks;
    torch::optim::Optimizer* extra_optimizer = hooks ? hooks->ExtraOptimizer() : nullptr;
    if (hooks != nullptr && !hooks->ExtraParameters().empty() && extra_optimizer == nullptr) {
      return absl::InvalidArgumentError(
          "TrainBidaf: hooks with extra parameters must provide their ExtraOptimizer()");
    }
    PrunableModelView view = model->View();  // aliases of the live parameters
    std::optional<ExponentialMovingAverage> ema;
    if (options.ema_decay > 0) {
      EmaOptions ema_options;
      ema_options.decay = options.ema_decay;
      ASSIGN_OR_RETURN(ema, ExponentialMovingAverage::Create(*model, ema_options));
    }

    const int64_t batches_per_epoch =
        (static_cast<int64_t>(train.size()) + options.batch_size - 1) / options.batch_size;
    const int64_t steps_per_epoch = options.max_steps_per_epoch > 0
                                        ? std::min(batches_per_epoch, options.max_steps_per_epoch)
                                        : batches_per_epoch;
    const int64_t log_every = options.log_every_steps > 0
                                  ? options.log_every_steps
                                  : std::max<int64_t>(1, steps_per_epoch / 10);
    const int64_t total_steps = steps_per_epoch * options.epochs;
    const int64_t train_examples = static_cast<int64_t>(train.size());
    const std::string& ckpt_path = options.checkpoint_path;
    const bool checkpointing = !ckpt_path.empty();
    ExponentialMovingAverage* ema_ptr = ema.has_value() ? &*ema : nullptr;

    BidafTrainResult result;
    BidafTrainingProgress start;  // where this run begins: the start, or a checkpoint's position
    if (checkpointing && options.resume && !PathExists(ckpt_path)) {
      log(absl::StrFormat("no training checkpoint at %s: starting from scratch", ckpt_path));
    } else if (checkpointing && options.resume) {
      ASSIGN_OR_RETURN(BidafTrainingCheckpoint ckpt, LoadBidafTrainingCheckpoint(ckpt_path));
      RETURN_IF_ERROR(CheckResumable(ckpt, ckpt_path, options, steps_per_epoch, train_examples));
      RETURN_IF_ERROR(RestoreBidafTrainingCheckpoint(ckpt, ckpt_path, model, *optimizer,
                                                     options.optimizer, ema_ptr, hooks));
      start = std::move(ckpt.progress);
      result.epochs = start.epochs;
      result.questions = start.questions;
      result.seconds = start.seconds;
      result.step_losses_nats = start.step_losses_nats;
      result.steps = start.global_step;
      result.resumed = true;
      result.resumed_at_global_step = start.global_step;
      log(absl::StrFormat("resuming from %s: epoch %d step %d/%d (global step %d)", ckpt_path,
                          start.epoch, start.step, steps_per_epoch, start.global_step));
    } else if (checkpointing && PathExists(ckpt_path)) {
      log(absl::StrFormat("training checkpoint %s exists but resume is off: it will be replaced",
                          ckpt_path));
    }

    // Writes the state after `p.global_step` steps (the stats of finished epochs and the step
    // losses come from `result`); refuses NaN/Inf state, so the last good checkpoint stays.
    const auto write_checkpoint = [&](BidafTrainingProgress p) -> absl::Status {
      if (distributed && !dp->writes()) return absl::OkStatus();  // rank 0 writes
      p.steps_per_epoch = steps_per_epoch;
      p.batch_size = options.batch_size;
      p.train_examples = train_examples;
      p.epochs = result.epochs;
      p.questions = result.questions;
      p.seconds = result.seconds;
      p.step_losses_nats = result.step_losses_nats;
      ASSIGN_OR_RETURN(BidafTrainingCheckpoint c,
                       CaptureBidafTrainingCheckpoint(model, *optimizer, options.optimizer, ema_ptr,
                                                      hooks, options.config_hash, p));
      absl::Status s = SaveBidafTrainingCheckpoint(c, ckpt_path);
      if (s.code() == absl::StatusCode::kFailedPrecondition) {
        return absl::InternalError(absl::StrFormat(
            "TrainBidaf: epoch %d after global step %d: %s; the last good checkpoint %s is kept",
            p.epoch, p.global_step, s.message(), ckpt_path));
      }
      return s;
    };

    if (distributed) {
      RETURN_IF_ERROR(dp->AgreeOnStart(start.global_step, SummedParameters(named, hooks)));
    }
    model->train();
    for (int64_t epoch = start.epoch; epoch <= options.epochs; ++epoch) {
      ASSIGN_OR_RETURN(std::vector<std::vector<int64_t>> batches,
                       LengthGroupedBatches(train, options.batch_size,
                                            options.seed + static_cast<uint64_t>(epoch)));
      const int64_t steps = std::min(steps_per_epoch, static_cast<int64_t>(batches.size()));
      if (steps != steps_per_epoch) {  // the batches cover every example: never
        return absl::InternalError(absl::StrCat("TrainBidaf: epoch ", epoch, " has ", steps,
                                                " batches, expected ", steps_per_epoch));
      }
      // A resumed epoch continues after the checkpoint's step, on the same batches.
      const bool mid_epoch = epoch == start.epoch && start.step > 0;
      BidafEpochStats stats;
      stats.epoch = epoch;
      stats.steps = mid_epoch ? start.step : 0;
      stats.questions = mid_epoch ? start.epoch_questions : 0;
      double loss_sum = mid_epoch ? start.epoch_loss_sum : 0;  // nats, summed over questions
      const double earlier_seconds = mid_epoch ? start.epoch_seconds : 0;
      absl::Time epoch_start = absl::Now();  // moved forward past checkpoint writes
      for (int64_t step = stats.steps + 1; step <= steps; ++step) {
        const std::string where = absl::StrFormat("TrainBidaf: epoch %d step %d", epoch, step);
        const std::vector<int64_t>& indices = batches[static_cast<size_t>(step - 1)];
        absl::StatusOr<BidafBatch> batch = MakeBidafBatch(train, indices);
        if (!batch.ok()) return Annotate(batch.status(), where);
        BatchShare share;  // this rank's questions of the batch
        if (distributed) {
          absl::StatusOr<BatchShare> s = dp->ShareOf(static_cast<int64_t>(indices.size()));
          if (!s.ok()) return Annotate(s.status(), where);
          share = *s;
          *batch = RowsOfBidafBatch(*batch, share.first, share.count);
          model->set_batch_share(share);
          view.batch_share = share;
        }
        absl::StatusOr<BidafOutput> output = GatedForwardOf(model, hooks, *batch);
        if (!output.ok()) return Annotate(output.status(), where);
        torch::Tensor loss = BidafLoss(*output, *batch);
        double loss_nats = loss.item<double>();
        const auto not_finite = [&] {
          return absl::InternalError(absl::StrCat(where, ": the loss is ", loss_nats,
                                                  " (not finite); stopping before the update"));
        };
        // One process checks its loss now; ranks check the summed one after the all-reduce, so
        // that every rank takes the same decision.
        if (!distributed && !std::isfinite(loss_nats)) return not_finite();
        if (distributed) {
          loss = loss * (static_cast<double>(share.count) / static_cast<double>(share.global));
        }
        if (hooks != nullptr) {
          view.training = true;
          torch::Tensor penalty = hooks->Penalty(view);
          if (penalty.defined() && distributed) penalty = penalty / dp->world_size();
          if (penalty.defined()) loss = loss + penalty;
        }
        optimizer->zero_grad();
        if (extra_optimizer != nullptr) extra_optimizer->zero_grad();
        loss.backward();
        if (distributed) {
          ASSIGN_OR_RETURN(loss_nats, dp->AllReduceGradients(SummedParameters(named, hooks),
                                                             loss_nats, share, where));
          if (!std::isfinite(loss_nats)) return not_finite();
        }
        RETURN_IF_ERROR(CheckAndClipGradients(named, options.max_grad_norm, where));
        optimizer->step();
        if (extra_optimizer != nullptr) extra_optimizer->step();
        if (hooks != nullptr) hooks->AfterStep(view, step_sizes);
        if (ema.has_value()) RETURN_IF_ERROR(ema->Update(*model));

        const int64_t questions = static_cast<int64_t>(indices.size());
        loss_sum += loss_nats * static_cast<double>(questions);
        stats.questions += questions;
        stats.steps = step;
        result.step_losses_nats.push_back(loss_nats);
        ++result.steps;
        const double secs = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
        if (step % log_every == 0 || step == steps) {
          // The speed of this process's steps (a resumed run's earlier ones ran elsewhere).
          const double secs_here =
              result.seconds - start.seconds + secs - (mid_epoch ? earlier_seconds : 0);
          const int64_t steps_here = std::max<int64_t>(1, result.steps - start.global_step);
          const double eta = secs_here / static_cast<double>(steps_here) *
                             static_cast<double>(total_steps - result.steps);
          log(absl::StrFormat(
              "epoch %d/%d step %d/%d | loss %.4f nats (epoch mean %.4f) | %.1f questions/s | "
              "ETA %s",
              epoch, options.epochs, step, steps, loss_nats,
              loss_sum / static_cast<double>(stats.questions),
              static_cast<double>(stats.questions) / std::max(secs, 1e-9), FormatDuration(eta)));
        }
        if (checkpointing && options.checkpoint_every_steps > 0 &&
            result.steps % options.checkpoint_every_steps == 0 &&
            step < steps) {  // the epoch's end writes its own
          const absl::Time pause = absl::Now();
          BidafTrainingProgress p;
          p.epoch = epoch;
          p.step = step;
          p.global_step = result.steps;
          p.epoch_loss_sum = loss_sum;
          p.epoch_questions = stats.questions;
          p.epoch_seconds = secs;
          RETURN_IF_ERROR(write_checkpoint(std::move(p)));
          epoch_start += absl::Now() - pause;
        }
      }
      stats.seconds = earlier_seconds + absl::ToDoubleSeconds(absl::Now() - epoch_start);
      stats.mean_loss_nats = loss_sum / static_cast<double>(std::max<int64_t>(stats.questions, 1));
      stats.questions_per_second =
          static_cast<double>(stats.questions) / std::max(stats.seconds, 1e-9);
      if (options.validation != nullptr && !options.validation->empty()) {
        RETURN_IF_ERROR(ScoreValidation(model, options, ema_ptr, &stats));
        log(absl::StrFormat(
            "epoch %d/%d: validation exact match %.2f, F1 %.2f (%d questions, %.1f s)", epoch,
            options.epochs, stats.validation_exact_match, stats.validation_f1,
            options.validation->size(), stats.validation_seconds));
      }
      result.questions += stats.questions;
      result.seconds += stats.seconds;
      result.epochs.push_back(stats);
      if (checkpointing) {
        BidafTrainingProgress p;
        p.epoch = epoch + 1;
        p.global_step = result.steps;
        RETURN_IF_ERROR(write_checkpoint(std::move(p)));
      }
    }
    result.questions_per_second =
        static_cast<double>(result.questions) / std::max(result.seconds, 1e-9);
    result.final_loss_nats = result.step_losses_nats.empty() ? 0 : result.step_losses_nats.back();
    if (hooks != nullptr) {
      hooks->AfterTraining(view);
      result.diagnostics = hooks->Diagnostics(view);
    }
    if (ema.has_value()) {
      RETURN_IF_ERROR(ema->Swap(*model));  // the averages go in; the trained values are dropped
      result.holds_averaged_weights = true;
    }
    return result;
  });
}

absl::StatusOr<std::string> SpanText(const SquadExample& example, int64_t first, int64_t last) {
  const int64_t n = static_cast<int64_t>(example.context_tokens.size());
  if (!(0 <= first && first <= last && last < n)) {
    return absl::InvalidArgumentError(absl::StrCat("question ", example.id, ": span [", first, ", ",
                                                   last, "] must satisfy 0 <= first <= last < ", n,
                                                   " (context tokens)"));
  }
  const int64_t begin = example.context_tokens[static_cast<size_t>(first)].begin;
  const int64_t end = example.context_tokens[static_cast<size_t>(last)].end;
  if (!(0 <= begin && begin <= end && end <= static_cast<int64_t>(example.context.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "question ", example.id, ": tokens [", first, ", ", last, "] span bytes [", begin, ", ",
        end, ") outside its context of ", example.context.size(), " bytes"));
  }
  return example.context.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
}

absl::StatusOr<BidafEvalResult> EvaluateBidaf(Bidaf& model,
                                              const std::vector<SquadExample>& examples,
                                              int64_t batch_size, int64_t max_answer_tokens) {
  return EvaluateBidaf(model, examples, batch_size, max_answer_tokens, nullptr);
}

absl::StatusOr<BidafEvalResult> EvaluateBidaf(Bidaf& model,
                                              const std::vector<SquadExample>& examples,
                                              int64_t batch_size, int64_t max_answer_tokens,
                                              ModelHooks* hooks) {
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("EvaluateBidaf: batch_size=", batch_size, " must be >= 1"));
  }
  if (max_answer_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EvaluateBidaf: max_answer_tokens=", max_answer_tokens, " must be >= 0 (0 = no cap)"));
  }
  if (examples.empty()) return absl::InvalidArgumentError("EvaluateBidaf: no example");
  std::set<std::string> ids;
  for (const SquadExample& e : examples) {
    if (!ids.insert(e.id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("EvaluateBidaf: question id ", e.id, " appears twice"));
    }
    if (e.context_tokens.size() != e.context_words.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("EvaluateBidaf: question ", e.id, " has ", e.context_tokens.size(),
                       " context tokens but ", e.context_words.size(), " context word ids"));
    }
  }
  return CatchTorch("EvaluateBidaf", [&]() -> absl::StatusOr<BidafEvalResult> {
    TrainingModeRestorer restore_mode(model.get());
    model->eval();
    torch::NoGradGuard no_grad;
    const absl::Time start = absl::Now();
    std::vector<int64_t> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return examples[static_cast<size_t>(a)].context_words.size() <
             examples[static_cast<size_t>(b)].context_words.size();
    });
    BidafEvalResult result;
    double em_sum = 0, f1_sum = 0;
    for (size_t from = 0; from < order.size(); from += static_cast<size_t>(batch_size)) {
      const size_t to = std::min(order.size(), from + static_cast<size_t>(batch_size));
      const std::vector<int64_t> indices(order.begin() + static_cast<std::ptrdiff_t>(from),
                                         order.begin() + static_cast<std::ptrdiff_t>(to));
      const std::string where =
          absl::StrCat("EvaluateBidaf: batch of question ", examples[indices[0]].id);
      absl::StatusOr<BidafBatch> batch = MakeBidafBatch(examples, indices);
      if (!batch.ok()) return Annotate(batch.status(), where);
      absl::StatusOr<BidafOutput> output = GatedForwardOf(model, hooks, *batch);
      if (!output.ok()) return Annotate(output.status(), where);
      absl::StatusOr<std::vector<BidafSpan>> spans = DecodeSpans(
          output->start_logits, output->end_logits, batch->context_mask, max_answer_tokens);
      if (!spans.ok()) return Annotate(spans.status(), where);
      for (size_t r = 0; r < indices.size(); ++r) {
        const SquadExample& e = examples[static_cast<size_t>(indices[r])];
        ASSIGN_OR_RETURN(std::string text, SpanText(e, (*spans)[r].first, (*spans)[r].last));
        em_sum += MaxExactMatch(text, e.gold_texts);
        f1_sum += MaxF1(text, e.gold_texts);
        result.predictions[e.id] = std::move(text);
      }
    }
    result.questions = static_cast<int64_t>(examples.size());
    result.exact_match = 100.0 * em_sum / static_cast<double>(result.questions);
    result.f1 = 100.0 * f1_sum / static_cast<double>(result.questions);
    result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    result.questions_per_second =
        static_cast<double>(result.questions) / std::max(result.seconds, 1e-9);
    return result;
  });
}

absl::Status WritePredictionsJson(const BidafEvalResult& result, const std::string& path) {
  std::string text;
  try {
    nlohmann::json predictions = nlohmann::json::object();
    for (const auto& [id, answer] : result.predictions) predictions[id] = answer;
    text = predictions.dump();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("WritePredictionsJson(", path, "): ", e.what()));
  }
  return WriteFileAtomically(path, text + "\n");
}

}  // namespace rnnprune
