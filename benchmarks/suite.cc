#include "benchmarks/suite.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/inference_timing.h"
#include "benchmarks/presets.h"
#include "benchmarks/speed_suite.h"
#include "benchmarks/squad_task.h"
#include "reports/speed_report.h"
#include "common/config_hash.h"
#include "common/files.h"
#include "common/run_info.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/checkpoint.h"
#include "models/engines/engine.h"
#include "models/lstm_lm.h"
#include "models/sparse_lstm.h"
#include "models/zaremba.h"
#include "pruning/agreement.h"
#include "pruning/method.h"
#include "pruning/protocol.h"
#include "training/lm_trainer.h"
#include "reports/results.h"
#include "torch/cuda.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

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
  // The run's training checkpoint, to be removed once the record is written ("" when none).
  std::string training_checkpoint;
  InferenceTiming timing;
  ZarembaConfig config;
  std::string config_hash;
};

// Records of the preset's results file by config hash (empty with --force or no file).
using PreviousRuns = std::map<std::string, json>;

bool FileExists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// SHA-256 of the corpus's token ids (train, valid, test): the data's identity in config hashes.
std::string CorpusSha256(const PtbCorpus& corpus) {
  std::string bytes;
  for (const torch::Tensor* t : {&corpus.train, &corpus.valid, &corpus.test}) {
    torch::Tensor c = t->contiguous();
    bytes.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  return Sha256Hex(bytes);
}

// A finished run of `previous` with this hash whose checkpoint still exists (or that collapsed
// and has none), marked as re-used; nullopt otherwise.
std::optional<json> Reusable(const PreviousRuns& previous, const std::string& hash) {
  auto it = previous.find(hash);
  if (it == previous.end()) return std::nullopt;
  const json& r = it->second;
  if (!r.contains("collapsed") &&
      (!r.contains("checkpoint") || !r["checkpoint"].is_string() ||
       !FileExists(r["checkpoint"].get<std::string>()))) {
    return std::nullopt;
  }
  json reused = r;
  reused["reused"] = true;
  return reused;
}

// Part of every PTB config hash: bumped when a code change alters the numbers a run gives for
// the same configuration, so that records of older code are not re-used as if they matched.
// 2: LoadLstmLm stopped drawing from torch's generator (the method runs' dropout draws moved).
constexpr int kPtbNumericsVersion = 2;

// What makes two records the same run, whatever their config hash: a newer record of the same
// run supersedes an older one in the results file.
std::string RunIdentity(const json& r) {
  return absl::StrCat(r.value("config_name", ""), "|", r.value("method", ""), "|",
                      r.contains("setting") ? r["setting"].dump() : "", "|",
                      r.contains("seed") ? r["seed"].dump() : "", "|",
                      r.contains("parent_checkpoint") ? "child" : "parent");
}

}  // namespace

std::vector<json> MergeResults(const std::vector<json>& current,
                               const std::vector<json>& earlier) {
  std::vector<json> merged = current;
  std::set<std::string> identities, dense_hashes;
  for (const json& r : current) {
    identities.insert(RunIdentity(r));
    if (!r.contains("parent_checkpoint")) dense_hashes.insert(r.value("config_hash", ""));
  }
  // Zaremba configs whose dense model this invocation trained (not re-used).
  std::set<std::string> retrained;
  for (const json& r : current) {
    if (!r.contains("parent_checkpoint") && !r.value("reused", false)) {
      retrained.insert(r.value("config_name", ""));
    }
  }
  std::vector<const json*> kept;
  for (const json& r : earlier) {
    if (identities.count(RunIdentity(r)) > 0) continue;
    kept.push_back(&r);
    if (!r.contains("parent_checkpoint")) dense_hashes.insert(r.value("config_hash", ""));
  }
  for (const json* r : kept) {
    if (r->contains("parent_checkpoint")) {
      // A method run whose dense parent was re-trained differently is stale. Records written
      // before parent hashes were recorded are stale once their config's parent is re-trained.
      const bool stale = r->contains("parent_config_hash")
                             ? dense_hashes.count(r->value("parent_config_hash", "")) == 0
                             : retrained.count(r->value("config_name", "")) > 0;
      if (stale) continue;
    }
    merged.push_back(*r);
  }
  return merged;
}

namespace {

// Training checkpoints of one run: written every checkpoint_every_steps steps and at each epoch
// end, resumed from unless --force.
void AddTrainingCheckpoint(const SuiteOptions& o, const std::string& path,
                           const std::string& hash, TrainOptions* to) {
  to->checkpoint_path = path;
  to->checkpoint_every_steps = o.checkpoint_every_steps;
  to->resume = !o.force;
  to->config_hash = hash;
}

absl::StatusOr<DenseRun> RunPtbDense(const SuiteOptions& o, const Preset& preset,
                                     const std::string& config_name, const PtbCorpus& corpus,
                                     const std::string& corpus_sha256,
                                     const PreviousRuns& previous, const RunInfo& info) {
  ASSIGN_OR_RETURN(ZarembaConfig cfg, GetZarembaConfig(config_name));
  if (preset.epochs > 0) cfg.schedule.epochs = preset.epochs;
  if (preset.decay_after_epochs > 0) cfg.schedule.decay_after_epochs = preset.decay_after_epochs;
  cfg.model.vocab_size = corpus.vocab.size();
  json identity = {
      {"task", "ptb"}, {"run", "dense"}, {"preset", preset.name}, {"config_name", config_name},
      {"model", json::parse(cfg.model.ToJson())}, {"schedule", ScheduleToJson(cfg.schedule)},
      {"max_steps_per_epoch", preset.max_steps_per_epoch}, {"seed", o.seed},
      {"data_sha256", corpus_sha256}, {"max_eval_tokens", preset.max_eval_tokens},
      {"dense_checkpoint", o.dense_checkpoint}, {"numerics_version", kPtbNumericsVersion}};
  // A --noevaluate_test record holds no test perplexity: its hash differs. (The default adds
  // nothing, so that records written before the flag existed keep their hash.)
  if (!o.evaluate_test) identity["evaluate_test"] = false;
  const std::string hash = ConfigHash(identity);
  if (std::optional<json> reused = Reusable(previous, hash)) {
    o.log(absl::StrFormat("[ptb/%s] dense %s: re-using the finished run of %s (config hash %s; "
                          "--force recomputes)",
                          preset.name, config_name, (*reused)["timestamp_utc"].dump(),
                          hash.substr(0, 12)));
    DenseRun run;
    run.record = *reused;
    run.checkpoint = (*reused)["checkpoint"].get<std::string>();
    run.config = cfg;
    run.config_hash = hash;
    return run;
  }
  const absl::Time start = absl::Now();
  o.log(absl::StrFormat("[ptb/%s] dense %s: %d epochs, %d threads, seed %d", preset.name,
                        config_name, cfg.schedule.epochs, o.threads, o.seed));
  torch::manual_seed(o.seed);
  LstmLm model(cfg.model);
  TrainResult tr;
  std::string ckpt, dense_training_ckpt;
  if (!o.dense_checkpoint.empty()) {
    // A dense parent trained before: load it instead of training (its config must be the one
    // this preset trains).
    ckpt = o.dense_checkpoint;
    ASSIGN_OR_RETURN(LstmLmCheckpoint loaded, LoadLstmLm(ckpt));
    if (loaded.model->config().ToJson() != cfg.model.ToJson()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dense_checkpoint=", ckpt, " holds a model with config ",
          loaded.model->config().ToJson(), ", but preset ", preset.name, " trains ", config_name,
          " = ", cfg.model.ToJson()));
    }
    model = loaded.model;
    o.log(absl::StrFormat("[ptb/%s] dense %s: loaded %s (not trained in this run)", preset.name,
                          config_name, ckpt));
  } else {
    TrainOptions to;
    to.schedule = cfg.schedule;
    to.max_steps_per_epoch = preset.max_steps_per_epoch;
    to.log = o.log;
    ckpt = absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", config_name, "_dense.pt");
    const std::string training_ckpt = absl::StrCat(ckpt, ".train.ckpt");
    AddTrainingCheckpoint(o, training_ckpt, hash, &to);
    ASSIGN_OR_RETURN(tr, Train(model, corpus.train, corpus.valid, to));
    json meta = {{"preset", preset.name}, {"config_name", config_name}, {"seed", o.seed}};
    RETURN_IF_ERROR(SaveLstmLm(model, ckpt, meta.dump()));
    dense_training_ckpt = training_ckpt;  // removed once the record is written
  }
  ASSIGN_OR_RETURN(EvalResult valid, EvaluatePerplexity(model, corpus.valid, 1, cfg.schedule.bptt));
  EvalResult test;  // not evaluated with --noevaluate_test (sweeps)
  if (o.evaluate_test) {
    ASSIGN_OR_RETURN(test, EvaluatePerplexity(model, corpus.test, 1, cfg.schedule.bptt));
  }
  // Smoke presets evaluate pruned models on the first tokens of each split only: score the
  // parent on the same tokens too, so that the comparison uses one token set.
  EvalResult test_subset;
  if (preset.max_eval_tokens > 0 && o.evaluate_test) {
    ASSIGN_OR_RETURN(test_subset, EvaluatePerplexity(model, corpus.test, 1, cfg.schedule.bptt,
                                                     preset.max_eval_tokens));
  }
  o.log(absl::StrFormat("[ptb/%s] dense %s: valid ppl %.2f, test ppl %s (batch 1, %.1f s)",
                        preset.name, config_name, valid.perplexity,
                        o.evaluate_test ? absl::StrFormat("%.2f", test.perplexity)
                                        : std::string("not evaluated"),
                        valid.seconds + test.seconds));
  DenseRun run;
  ASSIGN_OR_RETURN(run.timing, TimeInference(model, preset.timing_repeats));
  run.checkpoint = ckpt;
  run.training_checkpoint = dense_training_ckpt;
  run.config = cfg;
  run.config_hash = hash;
  json& r = run.record;
  r["task"] = "ptb";
  r["config_hash"] = hash;
  if (tr.resumed) r["resumed_at_step"] = tr.resumed_at_global_step;
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
  if (!o.dense_checkpoint.empty()) r["loaded_from"] = ckpt;
  r["inference_ms_per_token"] = run.timing.ToJson();
  r["train_tokens"] = tr.tokens;
  r["train_seconds"] = tr.train_seconds;
  r["train_tokens_per_second"] = tr.tokens_per_second;
  r["valid_perplexity"] = valid.perplexity;
  r["valid_nll_nats_per_token"] = valid.mean_nll_nats;
  r["eval_tokens"] = {{"valid", valid.tokens}};
  if (o.evaluate_test) {
    r["test_perplexity"] = test.perplexity;
    r["test_nll_nats_per_token"] = test.mean_nll_nats;
    r["eval_tokens"]["test"] = test.tokens;
  } else {
    r["test_not_evaluated"] = "--noevaluate_test (a sweep choosing settings on valid)";
  }
  if (preset.max_eval_tokens > 0 && o.evaluate_test) {
    r["test_perplexity_first_tokens"] = {{"tokens", test_subset.tokens},
                                         {"perplexity", test_subset.perplexity}};
  }
  r["eval_protocol"] = "batch 1, BPTT 35, state carried over the whole split";
  r["epochs"] = TrainResultToJson(tr)["epochs"];
  r["wall_seconds"] = absl::ToDoubleSeconds(absl::Now() - start);
  return run;
}

// Tokens of the valid split on which the structure's reference forward (gates or CSR) and the
// pruned model actually timed and evaluated must give the same perplexity.
constexpr int64_t kAgreementTokens = 5000;

// The unit every lambda is given in (records, --help, README).
constexpr char kLambdaUnit[] =
    "per epoch of training tokens: lambda * R / N is added to the mean NLL per token (nats), "
    "N = the training tokens of one epoch (Louizos et al. 2018, Eq. 3)";

// One run of a method: its numeric setting (kLambda / kSparsity) or target sizes.
struct RunSetting {
  double value = 0;
  std::vector<int64_t> sizes;  // kTargetSizes: [E, H_0, ..., H_{L-1}]
  std::string label;           // for logs, file names and the report ("1e-4", "21:200:68")
};

// Evaluation through the CSR inference path (the model argument is ignored).
class CsrForward : public TrainingHooks {
 public:
  explicit CsrForward(std::shared_ptr<const SparseLstmLm> sparse) : sparse_(std::move(sparse)) {}
  LmOutput Forward(LstmLm&, const torch::Tensor& input, LstmState* state) override {
    LmOutput o;
    o.hidden = sparse_->Run(input, state);
    o.decoder_weight = sparse_->decoder_weight();
    o.decoder_bias = sparse_->decoder_bias();
    return o;
  }

 private:
  std::shared_ptr<const SparseLstmLm> sparse_;
};

// The methods --l0_* and --l0_mode apply to.
bool IsL0Method(const std::string& name) { return name == "l0" || name == "l0_speed"; }

// The protocol's two phases for `preset` on this corpus, with their lengths in steps.
struct Phases {
  PhaseOptions search, recovery;
  int64_t search_steps = 0, recovery_steps = 0;
};

absl::StatusOr<Phases> PresetPhases(const Preset& preset, const ZarembaConfig& dense,
                                    bool scratch, const PtbCorpus& corpus) {
  const ZarembaSchedule& sch = dense.schedule;
  ASSIGN_OR_RETURN(torch::Tensor batched, Batchify(corpus.train, sch.batch_size));
  const int64_t windows = NumBpttWindows(batched, sch.bptt);
  ZarembaSchedule constant = sch;
  constant.lr_decay = 1.0;
  Phases p;
  int64_t offset = 0;
  if (scratch) {
    // From scratch: the dense run's whole schedule, the method active from the first step.
    p.search.schedule = sch;
    p.search.max_steps_per_epoch = preset.max_steps_per_epoch;
    const int64_t per_epoch = preset.max_steps_per_epoch > 0
                                  ? std::min(windows, preset.max_steps_per_epoch)
                                  : windows;
    p.search_steps = per_epoch * sch.epochs;
    offset = per_epoch;
  } else {
    p.search_steps =
        preset.search_epochs > 0 ? preset.search_epochs * windows : preset.search_steps;
    constant.learning_rate = preset.search_learning_rate;
    ASSIGN_OR_RETURN(p.search, LayOutPhase(constant, p.search_steps, 0, windows));
    offset = p.search_steps;
  }
  p.recovery_steps =
      preset.recovery_epochs > 0 ? preset.recovery_epochs * windows : preset.recovery_steps;
  constant.learning_rate = preset.recovery_learning_rate;
  if (p.recovery_steps > 0) {
    ASSIGN_OR_RETURN(p.recovery, LayOutPhase(constant, p.recovery_steps, offset, windows));
  } else {
    p.recovery.schedule = constant;
    p.recovery.schedule.epochs = 0;  // no recovery phase
  }
  return p;
}

json PhaseToJson(const PhaseOptions& p, int64_t steps) {
  return {{"steps", steps},
          {"schedule", ScheduleToJson(p.schedule)},
          {"first_window", p.first_window},
          {"max_steps_per_epoch", p.max_steps_per_epoch}};
}

// What a method is created from in this suite.
MethodOptions SuiteMethodOptions(const SuiteOptions& o, const LstmLmConfig& config,
                                 const RunSetting& setting, int64_t search_steps,
                                 double penalty_scale) {
  MethodOptions mo;
  mo.config = config;
  mo.lambda = setting.value;
  mo.sparsity = setting.value;
  mo.target_sizes = setting.sizes;
  mo.penalty_scale = penalty_scale;
  // Gradual schedules (magnitude pruning) are laid out over the search phase.
  mo.total_steps = std::max<int64_t>(1, search_steps);
  mo.seed = static_cast<uint64_t>(o.seed);
  mo.zero_threshold = o.zero_threshold;
  mo.l0_embedding_lambda_ratio = o.l0_embedding_lambda_ratio;
  mo.l0_input_lambda_ratio = o.l0_input_lambda_ratio;
  mo.l0_init_keep = o.l0_init_keep;
  mo.l0_gate_learning_rate = o.l0_gate_learning_rate;
  return mo;
}

// The record's fields of the final structure (sizes, parameters, multiply-adds, agreement).
void AddStructureFields(const ProtocolResult& pr, const LstmLmConfig& dense, json* r) {
  if (pr.structured) {
    (*r)["kept_input_sizes"] = pr.kept_input_sizes;
    (*r)["kept_hidden_sizes"] = pr.kept_hidden_sizes;
    (*r)["agreement_check"] = pr.agreement;
  }
  if (!pr.model.is_empty()) {
    const LstmLmConfig& c = pr.model->config();
    (*r)["sizes"] = SizesJson(c);
    (*r)["model"] = json::parse(c.ToJson());
    (*r)["num_parameters"] = pr.structured ? c.NumParameters() : CountNonZeroParameters(pr.model);
    (*r)["multiply_adds_per_token"] = c.MultiplyAddsPerToken();
  }
  (*r)["dense_sizes"] = SizesJson(dense);
}

// Unstructured results: the CSR form of the LSTM matrices, checked against the dense model with
// zeros, with its sizes in the record.
absl::StatusOr<std::shared_ptr<const SparseLstmLm>> CsrOf(const ProtocolResult& pr,
                                                          const std::string& tag,
                                                          const torch::Tensor& valid,
                                                          int64_t bptt, json* r) {
  LstmLm model = pr.model;
  ASSIGN_OR_RETURN(SparseLstmLm csr, SparseLstmLm::FromDense(model));
  auto sparse = std::make_shared<const SparseLstmLm>(std::move(csr));
  CsrForward csr_forward(sparse);
  ASSIGN_OR_RETURN((*r)["agreement_check"],
                   CheckAgreement(tag, "dense model with zeros (CSR path checked)", model,
                                  nullptr, model, &csr_forward, valid, bptt));
  PruningStructure s;
  s.weight_masks = pr.weight_masks;
  (*r)["weight_sparsity"] = WeightSparsity(s);
  (*r)["lstm_nonzeros"] = sparse->LstmNonZeros();
  (*r)["lstm_csr_bytes"] = sparse->LstmCsrBytes();
  (*r)["lstm_dense_bytes"] = sparse->LstmDenseBytes();
  // Only the non-zeros of the LSTM matrices need a multiply-add; the decoder is dense.
  const LstmLmConfig& c = model->config();
  (*r)["multiply_adds_per_token"] = sparse->LstmNonZeros() + c.vocab_size * c.hidden_sizes.back();
  return std::shared_ptr<const SparseLstmLm>(sparse);
}

// Times the dense parent, the pruned model and its CSR form (when given) side by side.
absl::Status TimeAgainstParent(const SuiteOptions& o, const Preset& preset, const DenseRun& dense,
                               LstmLm& pruned, std::shared_ptr<const SparseLstmLm> sparse,
                               json* r) {
  ASSIGN_OR_RETURN(LstmLmCheckpoint parent, LoadLstmLm(dense.checkpoint));
  ASSIGN_OR_RETURN(InferenceRunner parent_runner,
                   EngineRunner(kDefaultInferenceEngine, parent.model));
  ASSIGN_OR_RETURN(InferenceRunner pruned_runner, EngineRunner(kDefaultInferenceEngine, pruned));
  std::vector<InferenceRunner> runners = {parent_runner, pruned_runner};
  if (sparse) runners.push_back(CsrRunner(sparse));
  const std::vector<InferenceTiming> t = TimeRunnersSideBySide(runners, preset.timing_repeats);
  (*r)["dense_inference_ms_per_token"] = t[0].ToJson();
  (*r)["inference_ms_per_token"] = t[1].ToJson();
  (*r)["speedup"] = Speedups(t[0], t[1]);
  if (sparse) {
    (*r)["csr_inference_ms_per_token"] = t[2].ToJson();
    (*r)["csr_speedup"] = Speedups(t[0], t[2]);
  }
  (*r)["timing_protocol"] = absl::StrCat(
      "median of ", preset.timing_repeats, " calls of 35 tokens each, the dense parent and the "
      "pruned model", sparse ? " (dense with zeros, and CSR through Eigen)" : "",
      " interleaved call by call in one process, inference engine '", kDefaultInferenceEngine,
      "' (reports/speed.md), ", o.threads, " threads");
  (*r)["inference_engine"] = kDefaultInferenceEngine;
  return absl::OkStatus();
}

// Valid (and, unless --noevaluate_test, test) perplexity of the final model.
absl::Status EvaluateFinal(const SuiteOptions& o, const Preset& preset, LstmLm& model,
                           const PtbCorpus& corpus, int64_t bptt, json* r) {
  const int64_t max_tokens = preset.max_eval_tokens;
  ASSIGN_OR_RETURN(EvalResult valid,
                   EvaluatePerplexity(model, corpus.valid, 1, bptt, max_tokens));
  (*r)["valid_perplexity"] = valid.perplexity;
  (*r)["eval_tokens"] = {{"valid", valid.tokens}};
  if (o.evaluate_test) {
    ASSIGN_OR_RETURN(EvalResult test, EvaluatePerplexity(model, corpus.test, 1, bptt, max_tokens));
    (*r)["test_perplexity"] = test.perplexity;
    (*r)["eval_tokens"]["test"] = test.tokens;
  } else {
    (*r)["test_not_evaluated"] = "--noevaluate_test (a sweep choosing settings on valid)";
  }
  (*r)["eval_protocol"] = max_tokens > 0
                              ? absl::StrCat("batch 1, BPTT 35, state carried, first ", max_tokens,
                                             " tokens of each split only (smoke)")
                              : "batch 1, BPTT 35, state carried over the whole split";
  return absl::OkStatus();
}

// Runs the method `name` at one setting on the dense checkpoint (or, for L0 with
// --l0_mode=scratch, from scratch) with the pruning protocol (pruning/protocol.h); then
// evaluates, exports and times the result against the dense parent. `temporaries` receives the
// run's intermediate files, to remove once the record is written.
absl::StatusOr<json> RunPtbMethod(const SuiteOptions& o, const Preset& preset,
                                  const DenseRun& dense, const std::string& name,
                                  const PruningMethodInfo& method_info,
                                  const RunSetting& setting, const PtbCorpus& corpus,
                                  const PreviousRuns& previous, const RunInfo& info,
                                  std::vector<std::string>* temporaries) {
  const absl::Time start = absl::Now();
  const std::string& config_name = dense.config.name;
  const std::string tag = absl::StrCat(preset.name, "/", name, " ", setting.label);
  const bool scratch = IsL0Method(name) && o.l0_mode == "scratch";
  ASSIGN_OR_RETURN(Phases phases, PresetPhases(preset, dense.config, scratch, corpus));
  const ZarembaSchedule& sch = dense.config.schedule;
  const double penalty_scale = PenaltyScale(corpus.train.size(0), sch.batch_size, sch.bptt);
  ASSIGN_OR_RETURN(std::unique_ptr<PruningMethod> method,
                   CreatePruningMethod(name, SuiteMethodOptions(o, dense.config.model, setting,
                                                                phases.search_steps,
                                                                penalty_scale)));
  const json protocol = {{"search", PhaseToJson(phases.search, phases.search_steps)},
                         {"recovery", PhaseToJson(phases.recovery, phases.recovery_steps)},
                         {"diagnostics_every_steps", preset.diagnostics_every_steps}};
  json identity = {{"task", "ptb"},
                   {"run", "method"},
                   {"parent_config_hash", dense.config_hash},
                   {"method", name},
                   {"setting", setting.label},
                   {"setting_value", setting.value},
                   {"target_sizes", setting.sizes},
                   {"zero_threshold", o.zero_threshold},
                   {"method_options", method->RecordedOptions()},
                   {"protocol", protocol},
                   {"seed", o.seed},
                   {"max_eval_tokens", preset.max_eval_tokens},
                   {"evaluate_test", o.evaluate_test},
                   {"numerics_version", kPtbNumericsVersion}};
  if (scratch) identity["l0_mode"] = o.l0_mode;
  const std::string hash = ConfigHash(identity);
  if (std::optional<json> reused = Reusable(previous, hash)) {
    o.log(absl::StrFormat("[ptb/%s] re-using the finished run of %s (config hash %s; --force "
                          "recomputes)",
                          tag, (*reused)["timestamp_utc"].dump(), hash.substr(0, 12)));
    return *reused;
  }
  const std::string base = absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", config_name,
                                        "_", name, "_",
                                        setting.label == "-"
                                            ? std::string("control")
                                            : absl::StrReplaceAll(setting.label, {{":", "-"}}));
  torch::manual_seed(o.seed);
  LstmLm model{nullptr};
  if (scratch) {
    model = LstmLm(dense.config.model);
  } else {
    ASSIGN_OR_RETURN(LstmLmCheckpoint ckpt, LoadLstmLm(dense.checkpoint));
    model = ckpt.model;
  }
  o.log(absl::StrFormat("[ptb/%s] %s: search %d steps, recovery %d steps (%s)", tag,
                        method_info.description, phases.search_steps, phases.recovery_steps,
                        scratch ? "from scratch" : "from the dense checkpoint"));
  ProtocolOptions po;
  po.search = phases.search;
  po.recovery = phases.recovery;
  po.diagnostics_every_steps = preset.diagnostics_every_steps;
  po.agreement_tokens = kAgreementTokens;
  po.checkpoint_base = base;
  po.checkpoint_every_steps = o.checkpoint_every_steps;
  po.resume = !o.force;
  po.config_hash = hash;
  po.seed = static_cast<uint64_t>(o.seed);
  po.log = [&o, &tag](const std::string& line) { o.log(absl::StrCat("[ptb/", tag, "] ", line)); };
  *temporaries = ProtocolFiles(base);
  ASSIGN_OR_RETURN(ProtocolResult pr,
                   RunPruningProtocol(model, *method, corpus.train, corpus.valid, po));

  json r;
  r["task"] = "ptb";
  r["config_hash"] = hash;
  r["parent_config_hash"] = dense.config_hash;
  if (pr.search.resumed) r["resumed_at_step"] = pr.search.resumed_at_global_step;
  if (pr.recovery.resumed) {
    r["resumed_at_step"] = phases.search_steps + pr.recovery.resumed_at_global_step;
  }
  if (pr.search_reused) r["search_read_back"] = true;
  r["method"] = name;
  r["method_description"] = method_info.description;
  r["structured"] = pr.structured;
  r["setting_kind"] = SettingKindName(method_info.setting);
  r["setting"] = setting.label;
  if (method_info.setting == SettingKind::kLambda || method_info.setting == SettingKind::kSparsity) {
    r["setting_value"] = setting.value;
  }
  if (method_info.setting == SettingKind::kLambda) {
    r["lambda_unit"] = kLambdaUnit;
    r["penalty_scale"] = penalty_scale;
  }
  if (!setting.sizes.empty()) r["target_sizes"] = setting.sizes;
  r["method_options"] = method->RecordedOptions();
  if (scratch) r["l0_mode"] = o.l0_mode;
  r["zero_threshold"] = o.zero_threshold;
  r["preset"] = preset.name;
  r["config_name"] = config_name;
  r["protocol"] = protocol;
  r["structure_fixed_at_start"] = method->StructureFixedAtStart();
  r["train_steps"] = phases.search_steps + phases.recovery_steps;
  r["search"] = TrainResultToJson(pr.search);
  r["recovery"] = TrainResultToJson(pr.recovery);
  r["parent_checkpoint"] = scratch ? std::string("(trained from scratch)") : dense.checkpoint;
  r["train_tokens"] = pr.search.tokens + pr.recovery.tokens;
  r["train_seconds"] = pr.search.train_seconds + pr.recovery.train_seconds;
  r["train_tokens_per_second"] =
      r["train_tokens"].get<double>() / std::max(r["train_seconds"].get<double>(), 1e-9);
  AddProvenance(o, info, &r);
  AddStructureFields(pr, dense.config.model, &r);
  if (!pr.collapsed.empty()) {
    // Too strong a penalty can close every neuron of a layer: no network is left. Record it
    // (it is a result about this setting) and go on with the others.
    o.log(absl::StrFormat("[ptb/%s] %s", tag, pr.collapsed));
    r["collapsed"] = pr.collapsed;
    r["wall_seconds"] = absl::ToDoubleSeconds(absl::Now() - start);
    return r;
  }
  LstmLm pruned = pr.model;
  std::shared_ptr<const SparseLstmLm> sparse;
  if (!pr.weight_masks.empty()) {
    ASSIGN_OR_RETURN(sparse, CsrOf(pr, tag, corpus.valid, sch.bptt, &r));
  }
  RETURN_IF_ERROR(EvaluateFinal(o, preset, pruned, corpus, sch.bptt, &r));

  // Export: the pruned model (compacted, or dense with exact zeros) and a JSON description.
  json meta = {{"method", name}, {"setting", setting.label}, {"structured", pr.structured},
               {"parent", r["parent_checkpoint"]}, {"sizes", r["sizes"]},
               {"num_parameters", r["num_parameters"]},
               {"multiply_adds_per_token", r["multiply_adds_per_token"]},
               {"inference_engine", kDefaultInferenceEngine}};
  if (r.contains("weight_sparsity")) meta["weight_sparsity"] = r["weight_sparsity"];
  RETURN_IF_ERROR(SaveLstmLm(pruned, base + ".pt", meta.dump()));
  RETURN_IF_ERROR(WriteFileAtomically(base + ".json", meta.dump(2) + "\n"));
  r["checkpoint"] = base + ".pt";
  r["export_json"] = base + ".json";

  RETURN_IF_ERROR(TimeAgainstParent(o, preset, dense, pruned, sparse, &r));
  r["wall_seconds"] = absl::ToDoubleSeconds(absl::Now() - start);
  o.log(absl::StrFormat(
      "[ptb/%s] sizes %s, %d parameters; valid ppl %.2f; speedup (LSTM, batch 1) %.2fx", tag,
      absl::StrJoin(pruned->config().hidden_sizes, "/"), r["num_parameters"].get<int64_t>(),
      r["valid_perplexity"].get<double>(), r["speedup"].value("lstm_b1", 0.0)));
  return r;
}

// Parses one setting of a method of kind `kind` ("1e-4", "0.9", "21:200:68").
absl::StatusOr<RunSetting> ParseSetting(const std::string& name, SettingKind kind,
                                        const std::string& text) {
  RunSetting s;
  s.label = text;
  if (kind == SettingKind::kTargetSizes) {
    for (absl::string_view part : absl::StrSplit(text, ':')) {
      int64_t n = 0;
      if (!absl::SimpleAtoi(part, &n)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "settings of ", name, ": target sizes must read E:H1:...:HL, got '", text, "'"));
      }
      s.sizes.push_back(n);
    }
  } else if (!absl::SimpleAtod(text, &s.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings of ", name, ": '", text, "' is not a number"));
  }
  return s;
}

// The settings of method `name` for this suite: --settings, else --l0_lambdas (l0, l0_speed),
// else the preset's, else (target sizes) the sizes the successful runs of the methods whose
// sizes are targets (L0) reached, else the registered defaults.
absl::StatusOr<std::vector<RunSetting>> ResolveSettings(const SuiteOptions& o,
                                                        const Preset& preset,
                                                        const std::string& name,
                                                        const PruningMethodInfo& info,
                                                        const std::string& config_name,
                                                        const std::vector<json>& done) {
  std::vector<std::string> texts;
  std::vector<RunSetting> out;
  // Numbers that come as doubles keep their exact value; the label is for display.
  auto add_values = [&](const std::vector<double>& values) {
    for (double v : values) out.push_back({v, {}, absl::StrFormat("%g", v)});
  };
  if (auto it = o.settings.find(name); it != o.settings.end()) {
    texts = it->second;
  } else if (IsL0Method(name) && !o.l0_lambdas.empty()) {
    add_values(o.l0_lambdas);
  } else if (auto p = preset.settings.find(name); p != preset.settings.end()) {
    texts = p->second;
  } else if (info.setting == SettingKind::kTargetSizes && !preset.target_sizes.empty()) {
    texts = preset.target_sizes;
  } else if (info.setting == SettingKind::kTargetSizes) {
    for (const json& r : done) {
      // Only this config's runs of methods whose sizes are targets (L0): a preset may train
      // several configs.
      absl::StatusOr<PruningMethodInfo> source = GetPruningMethodInfo(r.value("method", ""));
      if (!source.ok() || !source->sizes_are_targets || r.contains("collapsed") ||
          !r.contains("sizes") || r.value("config_name", "") != config_name) {
        continue;
      }
      // E:I2:..:IL:H1:..:HL, so that the inputs of the upper layers match too.
      const std::vector<int64_t> inputs = r["sizes"]["input_sizes"].get<std::vector<int64_t>>();
      std::vector<int64_t> sizes = inputs;
      for (int64_t h : r["sizes"]["hidden_sizes"].get<std::vector<int64_t>>()) sizes.push_back(h);
      const std::string text = absl::StrJoin(sizes, ":");
      if (std::find(texts.begin(), texts.end(), text) == texts.end()) texts.push_back(text);
    }
  } else if (info.setting != SettingKind::kNone) {
    add_values(info.default_settings);
  }
  if (info.setting == SettingKind::kNone) {
    if (!texts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("settings of ", name, ": the method takes no setting"));
    }
    out.push_back({0, {}, "-"});
    return out;
  }
  for (const std::string& t : texts) {
    ASSIGN_OR_RETURN(RunSetting s, ParseSetting(name, info.setting, t));
    out.push_back(std::move(s));
  }
  return out;
}

// The methods to run, in order: as listed, except that target-size methods come after the
// others (they take their sizes from the L0 runs). The dense parent is always trained; "dense"
// in the list adds the dense control: the parent fine-tuned with the same budget, no penalty.
std::vector<std::string> MethodOrder(const SuiteOptions& o, const Preset& preset) {
  std::vector<std::string> listed = !o.methods.empty()       ? o.methods
                                    : !preset.methods.empty() ? preset.methods
                                                              : RegisteredPruningMethods();
  std::vector<std::string> first, last;
  for (const std::string& m : listed) {
    absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
    (info.ok() && info->setting == SettingKind::kTargetSizes ? last : first).push_back(m);
  }
  first.insert(first.end(), last.begin(), last.end());
  return first;
}

}  // namespace

// The speed task's options from the suite's flags and the preset.
static SpeedOptions SpeedOptionsFor(const SuiteOptions& o, const Preset& preset) {
  SpeedOptions so;
  so.base_dir = o.source_dir;
  so.vars = {{"reports_dir", o.reports_dir}, {"preset", preset.name}};
  so.threads = preset.speed_threads;
  so.min_time = preset.speed_min_time;
  so.max_parameters = preset.speed_max_parameters;
  so.seed = static_cast<uint64_t>(o.seed);
  so.command = o.command;
  return so;
}

absl::Status ValidatePresetAndTasks(const SuiteOptions& o) {
  RETURN_IF_ERROR(GetPreset(o.preset).status());
  if (o.tasks.empty()) {
    return absl::InvalidArgumentError("--tasks is empty: list some of ptb, squad, speed");
  }
  for (size_t i = 0; i < o.tasks.size(); ++i) {
    const std::string& t = o.tasks[i];
    if (t != "ptb" && t != "speed" && t != "squad") {
      return absl::InvalidArgumentError(
          absl::StrCat("--tasks: unknown task '", t, "' (available: ptb, squad, speed)"));
    }
    if (std::find(o.tasks.begin(), o.tasks.begin() + i, t) != o.tasks.begin() + i) {
      return absl::InvalidArgumentError(absl::StrCat("--tasks: '", t, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSuiteOptions(const SuiteOptions& o) {
  RETURN_IF_ERROR(ValidatePresetAndTasks(o));
  if (o.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--threads=", o.threads, " must be >= 1"));
  }
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"squad_train", o.squad_train},
                                   {"glove", o.glove}}) {
    if (!path.empty() && path != "none" && access(path.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", path, ": no readable file there"));
    }
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
  for (size_t i = 0; i < o.methods.size(); ++i) {
    const std::string& m = o.methods[i];
    absl::Status known = GetPruningMethodInfo(m).status();
    if (!known.ok()) return absl::InvalidArgumentError(absl::StrCat("--methods: ", known.message()));
    if (std::find(o.methods.begin(), o.methods.begin() + i, m) != o.methods.begin() + i) {
      return absl::InvalidArgumentError(absl::StrCat("--methods: '", m, "' is listed twice"));
    }
  }
  {
    ASSIGN_OR_RETURN(Preset preset, GetPreset(o.preset));
    const std::vector<std::string> run = !o.methods.empty()       ? o.methods
                                         : !preset.methods.empty() ? preset.methods
                                                                   : RegisteredPruningMethods();
    const bool runs_l0 = std::any_of(run.begin(), run.end(), [](const std::string& m) {
      absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
      return info.ok() && info->sizes_are_targets;
    });
    for (const auto& [m, values] : o.settings) {
      if (std::find(run.begin(), run.end(), m) == run.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--settings: '", m, "' is not among the methods run (", absl::StrJoin(run, ","),
            "); add it to --methods"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (std::find(values.begin(), values.begin() + i, values[i]) != values.begin() + i) {
          return absl::InvalidArgumentError(
              absl::StrCat("--settings: ", m, "=", values[i], " is given twice"));
        }
      }
    }
    for (const std::string& m : run) {
      absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
      if (!info.ok() || info->setting != SettingKind::kTargetSizes) continue;
      if (o.settings.count(m) == 0 && preset.settings.count(m) == 0 &&
          preset.target_sizes.empty() && !runs_l0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--methods: '", m, "' takes target sizes, and there is no source for them: give "
            "--settings=", m, "=E:H1:H2 or run l0 too (its sizes are the default)"));
      }
    }
  }
  for (const auto& [m, values] : o.settings) {
    absl::Status known = GetPruningMethodInfo(m).status();
    if (!known.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--settings: ", known.message()));
    }
    if (values.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--settings: no value for '", m, "'"));
    }
    // Parse and range-check every value now, against every config of the preset, so that a
    // typo fails before hours of training.
    ASSIGN_OR_RETURN(Preset preset, GetPreset(o.preset));
    ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(m));
    if (info.setting == SettingKind::kNone) {
      return absl::InvalidArgumentError(
          absl::StrCat("--settings: method '", m, "' takes no setting"));
    }
    for (const std::string& v : values) {
      absl::StatusOr<RunSetting> setting = ParseSetting(m, info.setting, v);
      absl::Status ok = setting.status();
      for (const std::string& config_name : preset.configs) {
        if (!ok.ok()) break;
        ASSIGN_OR_RETURN(ZarembaConfig cfg, GetZarembaConfig(config_name));
        MethodOptions mo;
        mo.config = cfg.model;
        mo.lambda = mo.sparsity = setting->value;
        mo.target_sizes = setting->sizes;
        ok = CreatePruningMethod(m, mo).status();
        if (!ok.ok()) ok = absl::InvalidArgumentError(absl::StrCat(ok.message(), " (config ", config_name, ")"));
      }
      if (!ok.ok()) return absl::InvalidArgumentError(absl::StrCat("--settings: ", ok.message()));
    }
  }
  if (!(o.zero_threshold >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--zero_threshold=", o.zero_threshold, " must be >= 0"));
  }
  for (double l : o.l0_lambdas) {
    if (!(l >= 0 && std::isfinite(l))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--l0_lambdas: ", l, " must be finite and >= 0"));
    }
  }
  for (const auto& [flag, ratio] :
       {std::pair<const char*, double>{"l0_embedding_lambda_ratio", o.l0_embedding_lambda_ratio},
        {"l0_input_lambda_ratio", o.l0_input_lambda_ratio}}) {
    if (!(ratio >= 0 && std::isfinite(ratio))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", ratio, " must be finite and >= 0"));
    }
  }
  if (!(o.l0_gate_learning_rate > 0 && std::isfinite(o.l0_gate_learning_rate))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--l0_gate_learning_rate=", o.l0_gate_learning_rate, " must be finite and > 0"));
  }
  if (!(o.l0_init_keep > 0 && o.l0_init_keep < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--l0_init_keep=", o.l0_init_keep, " must be in (0, 1)"));
  }
  if (o.l0_mode != "finetune" && o.l0_mode != "scratch") {
    return absl::InvalidArgumentError(
        absl::StrCat("--l0_mode='", o.l0_mode, "' must be finetune or scratch"));
  }
  if (!o.dense_checkpoint.empty()) {
    ASSIGN_OR_RETURN(Preset preset, GetPreset(o.preset));
    if (preset.configs.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dense_checkpoint: preset ", o.preset, " trains ", preset.configs.size(),
          " configs; a single checkpoint can only stand for a one-config preset"));
    }
  }
  if (o.reports_dir.empty() || o.output_dir.empty()) {
    return absl::InvalidArgumentError("--reports_dir and --output_dir must not be empty");
  }
  if (o.checkpoint_every_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--checkpoint_every_steps=", o.checkpoint_every_steps, " must be >= 1"));
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
  // An unwritable or full output folder fails now, not after the first hours of training.
  for (const std::string& dir : {o.reports_dir + "/results", o.output_dir}) {
    const std::string probe = absl::StrCat(dir, "/.write_test");
    if (absl::Status s = WriteFileAtomically(probe, std::string(4096, ' ')); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("output folder ", dir,
                                                 " is not writable: ", s.message()));
    }
    std::remove(probe.c_str());
  }
  // Two suites writing the same folders would overwrite each other's checkpoints and results:
  // the second one stops here. The locks go with this process, even when it is killed.
  std::vector<FileLock> locks;
  for (const std::string& dir : {o.reports_dir + "/results", o.output_dir}) {
    // One folder named two ways ("runs" and "runs/", a symlink) is locked once.
    char* real = ::realpath(dir.c_str(), nullptr);
    const std::string canonical = real != nullptr ? real : dir;
    std::free(real);
    if (!locks.empty() && locks.front().path() == canonical + "/.lock") continue;
    ASSIGN_OR_RETURN(FileLock lock, LockFile(canonical + "/.lock", absl::StrCat("folder ", dir)));
    locks.push_back(std::move(lock));
  }
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
      const std::string corpus_sha256 = CorpusSha256(corpus);
      // Records of earlier invocations: kept in the file until re-run (MergeResults), and
      // re-used by config hash unless --force.
      std::vector<json> earlier;
      if (FileExists(results)) {
        ASSIGN_OR_RETURN(earlier, ReadJsonLines(results));
      }
      PreviousRuns previous;
      if (!o.force) {
        for (const json& r : earlier) {
          if (r.contains("config_hash") && r["config_hash"].is_string()) {
            previous[r["config_hash"].get<std::string>()] = r;
          }
        }
        if (!earlier.empty()) {
          o.log(absl::StrFormat("[ptb] %d finished runs in %s may be re-used (--force "
                                "recomputes them)",
                                previous.size(), results));
        }
      }
      for (const std::string& config : preset.configs) {
        ASSIGN_OR_RETURN(DenseRun dense,
                         RunPtbDense(o, preset, config, corpus, corpus_sha256, previous, info));
        ptb_runs.push_back(dense.record);
        // Written after every run, so a later failure loses nothing finished. A run's training
        // checkpoint goes only once its record is on disk: a kill in between resumes the run
        // from its last checkpoint (at its end) instead of training it again.
        RETURN_IF_ERROR(WriteJsonLines(results, MergeResults(ptb_runs, earlier)));
        if (!dense.training_checkpoint.empty()) std::remove(dense.training_checkpoint.c_str());
        for (const std::string& name : MethodOrder(o, preset)) {
          ASSIGN_OR_RETURN(PruningMethodInfo method_info, GetPruningMethodInfo(name));
          ASSIGN_OR_RETURN(std::vector<RunSetting> settings,
                           ResolveSettings(o, preset, name, method_info, config, ptb_runs));
          if (settings.empty()) {
            o.log(absl::StrFormat("[ptb/%s] %s: no target sizes (no successful l0 run to take "
                                  "them from, and none given with --settings=%s=E:H1:H2); skipped",
                                  preset.name, name, name));
          }
          for (const RunSetting& setting : settings) {
            std::vector<std::string> temporaries;
            ASSIGN_OR_RETURN(json r, RunPtbMethod(o, preset, dense, name, method_info, setting,
                                                  corpus, previous, info, &temporaries));
            ptb_runs.push_back(std::move(r));
            RETURN_IF_ERROR(WriteJsonLines(results, MergeResults(ptb_runs, earlier)));
            for (const std::string& f : temporaries) std::remove(f.c_str());
          }
        }
      }
      for (const json& r : ptb_runs) runs.push_back(r);
      RETURN_IF_ERROR(RenderPtbReportFiles(o.reports_dir));
      o.log(absl::StrCat("[ptb] wrote ", o.reports_dir, "/ptb.md"));
    } else if (task == "speed") {
      SpeedOptions so = SpeedOptionsFor(o, preset);
      so.run_info = info;
      o.log(absl::StrCat("[speed] Google Benchmark, shapes from ", so.shapes_path,
                         ", compacted runs from ", so.vars["reports_dir"], "/results/ptb_",
                         preset.name, ".jsonl"));
      ASSIGN_OR_RETURN(json doc, RunSpeedBenchmarks(so));
      // The benchmarks leave the last thread count they used: restore the run's.
      RETURN_IF_ERROR(SetInferenceThreads(o.threads));
      RETURN_IF_ERROR(WriteSpeedReportFiles(doc, preset.name, o.reports_dir));
      o.log(absl::StrCat("[speed] wrote ", o.reports_dir, "/speed.md"));
    } else if (task == "squad") {
      SquadTaskOptions so;
      so.preset = preset;
      so.data_dir = o.data_dir;
      so.verify_checksums = o.verify_checksums;
      so.train_path = o.squad_train;
      so.glove_path = o.glove;
      so.reports_dir = o.reports_dir;
      so.output_dir = o.output_dir;
      so.threads = o.threads;
      so.seed = o.seed;
      so.force = o.force;
      so.checkpoint_every_steps = o.checkpoint_every_steps;
      so.command = o.command;
      so.run_info = info;
      so.log = o.log;
      RETURN_IF_ERROR(SetInferenceThreads(o.threads));
      ASSIGN_OR_RETURN(json record, RunSquadTask(so));
      runs.push_back(std::move(record));
    }
  }
  return runs;
}

}  // namespace rnnprune
