#include "benchmarks/suite.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/inference_timing.h"
#include "benchmarks/presets.h"
#include "common/files.h"
#include "common/run_info.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/checkpoint.h"
#include "models/lstm_lm.h"
#include "models/zaremba.h"
#include "pruning/compaction.h"
#include "pruning/l0_neuron_selection.h"
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

// Fields every record carries: provenance of the run.
void AddProvenance(const SuiteOptions& o, const RunInfo& info, json* r) {
  (*r)["seed"] = o.seed;
  (*r)["threads"] = o.threads;
  (*r)["device"] = o.device;
  (*r)["git_commit"] = info.git_commit;
  (*r)["cpu_model"] = info.cpu_model;
  (*r)["logical_cpus"] = info.logical_cpus;
  (*r)["blas_coretype"] = info.blas_coretype;
  (*r)["hostname"] = info.hostname;
  (*r)["timestamp_utc"] = info.timestamp_utc;
  (*r)["command"] = o.command;
}

json SizesJson(const LstmLmConfig& c) {
  std::vector<int64_t> inputs;
  for (size_t l = 0; l < c.hidden_sizes.size(); ++l) inputs.push_back(c.InputSize(l));
  return {{"embedding_size", c.embedding_size},
          {"input_sizes", inputs},
          {"hidden_sizes", c.hidden_sizes},
          {"parameters", c.NumParameters()},
          {"multiply_adds_per_token", c.MultiplyAddsPerToken()}};
}

struct DenseRun {
  json record;
  std::string checkpoint;
  InferenceTiming timing;
  ZarembaConfig config;
};

absl::StatusOr<DenseRun> RunPtbDense(const SuiteOptions& o, const Preset& preset,
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
  DenseRun run;
  run.timing = TimeInference(model, preset.timing_repeats);
  run.checkpoint = ckpt;
  run.config = cfg;
  json& r = run.record;
  r["task"] = "ptb";
  r["method"] = "dense";
  r["preset"] = preset.name;
  r["config_name"] = config_name;
  r["model"] = json::parse(cfg.model.ToJson());
  r["num_parameters"] = cfg.model.NumParameters();
  r["sizes"] = SizesJson(cfg.model);
  r["schedule"] = ScheduleToJson(cfg.schedule);
  r["max_steps_per_epoch"] = preset.max_steps_per_epoch;
  AddProvenance(o, info, &r);
  r["checkpoint"] = ckpt;
  r["inference_ms_per_token"] = run.timing.ToJson();
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
  return run;
}

std::string LambdaTag(double lambda) { return absl::StrFormat("%g", lambda); }

// L0 neuron selection (Wen et al. 2020) fine-tuning the dense checkpoint at one lambda, then
// compaction, export and timing against the dense parent.
absl::StatusOr<json> RunPtbL0(const SuiteOptions& o, const Preset& preset, const DenseRun& dense,
                              double lambda, const PtbCorpus& corpus, const RunInfo& info) {
  const absl::Time start = absl::Now();
  const std::string& config_name = dense.config.name;
  const bool scratch = o.l0_mode == "scratch";
  torch::manual_seed(o.seed);
  LstmLm model{nullptr};
  if (scratch) {
    model = LstmLm(dense.config.model);
  } else {
    ASSIGN_OR_RETURN(LstmLmCheckpoint ckpt, LoadLstmLm(dense.checkpoint));
    model = ckpt.model;
  }
  L0Options lo;
  lo.lambda_input = lambda * o.l0_input_lambda_ratio;
  lo.lambda_hidden = lambda;
  lo.gates.init_keep_probability = o.l0_init_keep;
  ASSIGN_OR_RETURN(std::unique_ptr<L0NeuronSelection> l0,
                   L0NeuronSelection::Create(model->config(), lo));
  TrainOptions to;
  to.schedule = dense.config.schedule;
  if (scratch) {
    // From scratch: the dense run's whole schedule, gates included from the first step.
    to.max_steps_per_epoch = preset.max_steps_per_epoch;
  } else {
    // Fine-tuning the dense checkpoint with every gate starting open, at a constant lr.
    to.schedule.learning_rate = preset.l0_learning_rate;
    to.schedule.lr_decay = 1.0;
    to.schedule.epochs = preset.l0_epochs;
    to.max_steps_per_epoch = preset.l0_max_steps_per_epoch;
  }
  o.log(absl::StrFormat("[ptb/%s] l0 %s lambda=%g (%s): %d epochs", preset.name, config_name,
                        lambda, scratch ? "from scratch" : "fine-tuning the dense checkpoint",
                        to.schedule.epochs));
  to.eval_each_epoch = false;
  to.log = o.log;
  const double l0_before = l0->ExpectedL0();
  ASSIGN_OR_RETURN(TrainResult tr, Train(model, corpus.train, corpus.valid, to, l0.get()));
  const NeuronMask mask = l0->DeterministicMask();
  // Fields of the record whatever the outcome.
  json r;
  r["task"] = "ptb";
  r["method"] = "l0";
  r["preset"] = preset.name;
  r["config_name"] = config_name;
  r["lambda_input"] = lo.lambda_input;
  r["lambda_hidden"] = lo.lambda_hidden;
  r["l0_mode"] = o.l0_mode;
  r["l0_init_keep"] = o.l0_init_keep;
  r["kept_input_sizes"] = mask.KeptInputs();
  r["kept_hidden_sizes"] = mask.KeptHidden();
  r["expected_l0_before"] = l0_before;
  r["expected_l0_after"] = l0->ExpectedL0();
  r["schedule"] = ScheduleToJson(to.schedule);
  r["max_steps_per_epoch"] = to.max_steps_per_epoch;
  r["epochs"] = EpochsToJson(tr);
  AddProvenance(o, info, &r);
  absl::StatusOr<CompactionResult> compacted = Compact(model, mask);
  if (!compacted.ok()) {
    // Too strong a penalty can close every neuron of a layer: no network is left. Record it
    // (it is a result about this lambda) and go on with the other lambdas.
    o.log(absl::StrFormat("[ptb/%s] l0 lambda=%g: %s", preset.name, lambda,
                          compacted.status().message()));
    r["collapsed"] = std::string(compacted.status().message());
    r["wall_seconds"] = absl::ToDoubleSeconds(absl::Now() - start);
    return r;
  }
  CompactionResult& compact = *compacted;
  const int64_t bptt = dense.config.schedule.bptt;
  const int64_t max_tokens = preset.l0_max_eval_tokens;
  ASSIGN_OR_RETURN(EvalResult gated_valid,
                   EvaluatePerplexity(model, corpus.valid, 1, bptt, max_tokens, l0.get()));
  ASSIGN_OR_RETURN(EvalResult gated_test,
                   EvaluatePerplexity(model, corpus.test, 1, bptt, max_tokens, l0.get()));
  ASSIGN_OR_RETURN(EvalResult compact_valid,
                   EvaluatePerplexity(compact.model, corpus.valid, 1, bptt, max_tokens));
  ASSIGN_OR_RETURN(EvalResult compact_test,
                   EvaluatePerplexity(compact.model, corpus.test, 1, bptt, max_tokens));
  const double disagreement =
      std::max(std::abs(gated_valid.perplexity - compact_valid.perplexity) /
                   gated_valid.perplexity,
               std::abs(gated_test.perplexity - compact_test.perplexity) / gated_test.perplexity);
  if (disagreement > 1e-3) {
    return absl::InternalError(absl::StrFormat(
        "l0 lambda=%g: the compacted model's perplexity (valid %.4f, test %.4f) differs from the "
        "gated model's (valid %.4f, test %.4f) by %.2g relative; compaction is wrong",
        lambda, compact_valid.perplexity, compact_test.perplexity, gated_valid.perplexity,
        gated_test.perplexity, disagreement));
  }
  // Speed: the dense parent and the compacted model, timed side by side (interleaved calls).
  ASSIGN_OR_RETURN(LstmLmCheckpoint parent, LoadLstmLm(dense.checkpoint));
  const auto [dense_timing, timing] =
      TimeSideBySide(parent.model, compact.model, preset.timing_repeats);
  const LstmLmConfig& cc = compact.model->config();
  // Export: the compacted model and a JSON description of it.
  const std::string base = absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", config_name,
                                        "_l0_", LambdaTag(lambda));
  json sizes = SizesJson(cc);
  json meta = {{"method", "l0"},
               {"lambda_input", lo.lambda_input},
               {"lambda_hidden", lo.lambda_hidden},
               {"l0_mode", o.l0_mode},
               {"parent", scratch ? std::string("(trained from scratch)") : dense.checkpoint},
               {"sizes", sizes}};
  RETURN_IF_ERROR(SaveLstmLm(compact.model, base + ".pt", meta.dump()));
  RETURN_IF_ERROR(WriteFileAtomically(base + ".json", meta.dump(2) + "\n"));
  o.log(absl::StrFormat(
      "[ptb/%s] l0 lambda=%g: E=%d H=%s, %d parameters; test ppl gated %.2f compacted %.2f; "
      "speedup (whole model, batch 1) %.2fx",
      preset.name, lambda, cc.embedding_size, absl::StrJoin(cc.hidden_sizes, "/"),
      cc.NumParameters(), gated_test.perplexity, compact_test.perplexity,
      dense_timing.model_b1_ms / timing.model_b1_ms));

  r["sizes"] = sizes;
  r["dense_sizes"] = SizesJson(dense.config.model);
  r["model"] = json::parse(cc.ToJson());
  r["num_parameters"] = cc.NumParameters();
  r["parent_checkpoint"] = dense.checkpoint;
  r["checkpoint"] = base + ".pt";
  r["export_json"] = base + ".json";
  r["train_tokens"] = tr.tokens;
  r["train_tokens_per_second"] = tr.tokens_per_second;
  r["gated_valid_perplexity"] = gated_valid.perplexity;
  r["gated_test_perplexity"] = gated_test.perplexity;
  r["valid_perplexity"] = compact_valid.perplexity;
  r["test_perplexity"] = compact_test.perplexity;
  r["eval_tokens"] = {{"valid", compact_valid.tokens}, {"test", compact_test.tokens}};
  r["eval_protocol"] = max_tokens > 0
                           ? absl::StrCat("batch 1, BPTT 35, state carried, first ", max_tokens,
                                          " tokens of each split only (smoke)")
                           : "batch 1, BPTT 35, state carried over the whole split";
  r["inference_ms_per_token"] = timing.ToJson();
  r["dense_inference_ms_per_token"] = dense_timing.ToJson();
  r["speedup"] = Speedups(dense_timing, timing);
  r["timing_protocol"] = absl::StrCat(
      "median of ", preset.timing_repeats, " calls of 35 tokens each, dense parent and pruned "
      "model interleaved call by call in one process, eval mode, no gradients, ",
      o.threads, " threads");
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
  for (double l : o.l0_lambdas) {
    if (!(l >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("--l0_lambdas: ", l, " must be >= 0"));
    }
  }
  if (!(o.l0_input_lambda_ratio >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--l0_input_lambda_ratio=", o.l0_input_lambda_ratio, " must be >= 0"));
  }
  if (!(o.l0_init_keep > 0 && o.l0_init_keep < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--l0_init_keep=", o.l0_init_keep, " must be in (0, 1)"));
  }
  if (o.l0_mode != "finetune" && o.l0_mode != "scratch") {
    return absl::InvalidArgumentError(
        absl::StrCat("--l0_mode='", o.l0_mode, "' must be finetune or scratch"));
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
      const std::string results =
          absl::StrCat(o.reports_dir, "/results/ptb_", preset.name, ".jsonl");
      for (const std::string& config : preset.configs) {
        ASSIGN_OR_RETURN(DenseRun dense, RunPtbDense(o, preset, config, corpus, info));
        ptb_runs.push_back(dense.record);
        // Written after every run, so a later failure loses nothing finished.
        RETURN_IF_ERROR(WriteJsonLines(results, ptb_runs));
        for (double lambda : o.l0_lambdas.empty() ? preset.l0_lambdas : o.l0_lambdas) {
          ASSIGN_OR_RETURN(json r, RunPtbL0(o, preset, dense, lambda, corpus, info));
          ptb_runs.push_back(std::move(r));
          RETURN_IF_ERROR(WriteJsonLines(results, ptb_runs));
        }
      }
      for (const json& r : ptb_runs) runs.push_back(r);
      RETURN_IF_ERROR(RenderPtbReportFiles(o.reports_dir));
      o.log(absl::StrCat("[ptb] wrote ", o.reports_dir, "/ptb.md"));
    }
  }
  return runs;
}

}  // namespace rnnprune
