#include "benchmarks/suite.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/presets.h"
#include "common/files.h"
#include "common/run_info.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/checkpoint.h"
#include "models/lstm_lm.h"
#include "models/zaremba.h"
#include "pruning/trainer.h"
#include "reports/results.h"
#include "torch/cuda.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

json EpochsToJson(const TrainResult& r) {
  json out = json::array();
  for (const EpochStats& e : r.epochs) {
    out.push_back({{"epoch", e.epoch},
                   {"learning_rate", e.learning_rate},
                   {"steps", e.steps},
                   {"tokens", e.tokens},
                   {"train_perplexity", e.train_perplexity},
                   {"valid_perplexity", e.valid_perplexity},
                   {"train_seconds", e.train_seconds},
                   {"tokens_per_second", e.tokens_per_second}});
  }
  return out;
}

json ScheduleToJson(const ZarembaSchedule& s) {
  return {{"learning_rate", s.learning_rate}, {"lr_decay", s.lr_decay},
          {"decay_after_epochs", s.decay_after_epochs}, {"epochs", s.epochs},
          {"max_grad_norm", s.max_grad_norm}, {"batch_size", s.batch_size}, {"bptt", s.bptt}};
}

absl::StatusOr<json> RunPtbDense(const SuiteOptions& o, const Preset& preset,
                                 const std::string& config_name, const PtbCorpus& corpus,
                                 const RunInfo& info) {
  ASSIGN_OR_RETURN(ZarembaConfig cfg, GetZarembaConfig(config_name));
  if (preset.epochs > 0) cfg.schedule.epochs = preset.epochs;
  if (preset.decay_after_epochs > 0) cfg.schedule.decay_after_epochs = preset.decay_after_epochs;
  cfg.model.vocab_size = corpus.vocab.size();
  const absl::Time start = absl::Now();
  o.log(absl::StrFormat("[ptb/%s] dense %s: %d epochs, %d threads, seed %d", preset.name,
                        config_name, cfg.schedule.epochs, o.threads, o.seed));
  torch::manual_seed(o.seed);
  LstmLm model(cfg.model);
  TrainOptions to;
  to.schedule = cfg.schedule;
  to.max_steps_per_epoch = preset.max_steps_per_epoch;
  to.log = o.log;
  ASSIGN_OR_RETURN(TrainResult tr, Train(model, corpus.train, corpus.valid, to));
  const std::string ckpt =
      absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", config_name, "_dense.pt");
  json meta = {{"preset", preset.name}, {"config_name", config_name}, {"seed", o.seed}};
  RETURN_IF_ERROR(SaveLstmLm(model, ckpt, meta.dump()));
  ASSIGN_OR_RETURN(EvalResult valid, EvaluatePerplexity(model, corpus.valid, 1, cfg.schedule.bptt));
  ASSIGN_OR_RETURN(EvalResult test, EvaluatePerplexity(model, corpus.test, 1, cfg.schedule.bptt));
  o.log(absl::StrFormat("[ptb/%s] dense %s: valid ppl %.2f, test ppl %.2f (batch 1, %.1f s)",
                        preset.name, config_name, valid.perplexity, test.perplexity,
                        valid.seconds + test.seconds));
  json r;
  r["task"] = "ptb";
  r["method"] = "dense";
  r["preset"] = preset.name;
  r["config_name"] = config_name;
  r["model"] = json::parse(cfg.model.ToJson());
  r["num_parameters"] = cfg.model.NumParameters();
  r["schedule"] = ScheduleToJson(cfg.schedule);
  r["max_steps_per_epoch"] = preset.max_steps_per_epoch;
  r["seed"] = o.seed;
  r["threads"] = o.threads;
  r["device"] = o.device;
  r["git_commit"] = info.git_commit;
  r["cpu_model"] = info.cpu_model;
  r["logical_cpus"] = info.logical_cpus;
  r["blas_coretype"] = info.blas_coretype;
  r["hostname"] = info.hostname;
  r["timestamp_utc"] = info.timestamp_utc;
  r["command"] = o.command;
  r["checkpoint"] = ckpt;
  r["train_tokens"] = tr.tokens;
  r["train_seconds"] = tr.train_seconds;
  r["train_tokens_per_second"] = tr.tokens_per_second;
  r["valid_perplexity"] = valid.perplexity;
  r["test_perplexity"] = test.perplexity;
  r["valid_nll_nats_per_token"] = valid.mean_nll_nats;
  r["test_nll_nats_per_token"] = test.mean_nll_nats;
  r["eval_protocol"] = "batch 1, BPTT 35, state carried over the whole split";
  r["epochs"] = EpochsToJson(tr);
  r["wall_seconds"] = absl::ToDoubleSeconds(absl::Now() - start);
  return r;
}

}  // namespace

absl::Status ValidateSuiteOptions(const SuiteOptions& o) {
  RETURN_IF_ERROR(GetPreset(o.preset).status());
  if (o.tasks.empty()) return absl::InvalidArgumentError("--tasks is empty: must list ptb");
  for (const std::string& t : o.tasks) {
    if (t != "ptb") {
      return absl::InvalidArgumentError(
          absl::StrCat("--tasks: unknown task '", t, "' (available: ptb)"));
    }
  }
  if (o.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--threads=", o.threads, " must be >= 1"));
  }
  if (o.device != "cpu" && o.device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("--device='", o.device, "' must be cpu or cuda"));
  }
  if (o.device == "cuda" && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError(
        "--device=cuda: this LibTorch build has no CUDA support or sees no GPU (Debian's "
        "libtorch-dev is CPU-only); use --device=cpu or a CUDA build of LibTorch");
  }
  if (o.device == "cuda") {
    return absl::UnimplementedError(
        "--device=cuda: CUDA training is not wired in yet (the fused LSTM layer is CPU-only); "
        "use --device=cpu");
  }
  if (o.reports_dir.empty() || o.output_dir.empty()) {
    return absl::InvalidArgumentError("--reports_dir and --output_dir must not be empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<json>> RunSuite(const SuiteOptions& options) {
  SuiteOptions o = options;
  if (!o.log) o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  RETURN_IF_ERROR(ValidateSuiteOptions(o));
  ASSIGN_OR_RETURN(Preset preset, GetPreset(o.preset));
  RETURN_IF_ERROR(MakeDirs(o.reports_dir + "/results"));
  RETURN_IF_ERROR(MakeDirs(o.output_dir));
  torch::set_num_threads(o.threads);
  const RunInfo info = CollectRunInfo(o.source_dir);
  std::vector<json> runs;
  for (const std::string& task : o.tasks) {
    if (task == "ptb") {
      PtbLoadOptions lo;
      lo.verify_checksums = o.verify_checksums;
      ASSIGN_OR_RETURN(PtbCorpus corpus, LoadPtb(o.data_dir + "/ptb", lo));
      o.log(absl::StrFormat("[ptb] loaded %s: %d / %d / %d tokens, vocabulary %d", corpus.dir,
                            corpus.train.size(0), corpus.valid.size(0), corpus.test.size(0),
                            corpus.vocab.size()));
      std::vector<json> ptb_runs;
      for (const std::string& config : preset.configs) {
        ASSIGN_OR_RETURN(json r, RunPtbDense(o, preset, config, corpus, info));
        ptb_runs.push_back(r);
        runs.push_back(std::move(r));
        // Written after every run, so a later failure loses nothing finished.
        RETURN_IF_ERROR(WriteJsonLines(
            absl::StrCat(o.reports_dir, "/results/ptb_", preset.name, ".jsonl"), ptb_runs));
      }
      RETURN_IF_ERROR(RenderPtbReportFiles(o.reports_dir));
      o.log(absl::StrCat("[ptb] wrote ", o.reports_dir, "/ptb.md"));
    }
  }
  return runs;
}

}  // namespace rnnprune
