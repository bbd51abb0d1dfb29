#include "benchmarks/ptb_task.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/inference_timing.h"
#include "benchmarks/job_progress.h"
#include "benchmarks/presets.h"
#include "benchmarks/ptb_settings.h"
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
#include "models/torch_export.h"
#include "models/zaremba.h"
#include "pruning/agreement.h"
#include "pruning/method.h"
#include "pruning/protocol.h"
#include "reporting/ptb_record.h"
#include "reporting/record_fields.h"
#include "reporting/record_provenance.h"
#include "reporting/results.h"
#include "torch/torch.h"
#include "training/lm_trainer.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// A nested part of the record from the JSON a lower layer describes it with (training/,
// pruning/ and the timing know nothing of reporting/): their fields are the record type's.
template <class T>
absl::StatusOr<T> Typed(const json& j) {
  return RecordFromJson<T>(j);
}

PtbScheduleRecord ScheduleRecord(const ZarembaSchedule& s) {
  PtbScheduleRecord r;
  r.learning_rate = s.learning_rate;
  r.lr_decay = s.lr_decay;
  r.decay_after_epochs = s.decay_after_epochs;
  r.epochs = s.epochs;
  r.max_grad_norm = s.max_grad_norm;
  r.batch_size = s.batch_size;
  r.bptt = s.bptt;
  return r;
}

json ScheduleToJson(const ZarembaSchedule& s) { return RecordToJson(ScheduleRecord(s)); }

// The progress lines of a batch-1 evaluation (EvaluatePerplexity), as "[ptb/<what>] ...".
std::function<void(const std::string&)> EvalLog(const SuiteOptions& o, const std::string& what) {
  return [&o, what](const std::string& line) { o.log(absl::StrCat("[ptb/", what, "] ", line)); };
}

// Fields every record carries: provenance of the run, with the resolved preset and the sweep
// point that made it.
RecordProvenance Provenance(const TaskContext& ctx) {
  const SuiteOptions& o = ctx.options;
  RecordProvenance p = RecordProvenance::Of(ctx.run_info, o.threads, o.seed, o.command);
  p.device = o.device;
  p.preset_config = ctx.preset_config;
  if (!ctx.sweep_point.empty()) p.sweep_point = ctx.sweep_point;
  return p;
}

PtbSizesRecord SizesOf(const LstmLmConfig& c) {
  PtbSizesRecord r;
  r.embedding_size = c.embedding_size;
  r.input_sizes.emplace();
  for (size_t l = 0; l < c.hidden_sizes.size(); ++l) r.input_sizes->push_back(c.InputSize(l));
  r.hidden_sizes = c.hidden_sizes;
  r.parameters = c.NumParameters();
  r.multiply_adds_per_token = c.MultiplyAddsPerToken();
  return r;
}

struct DenseRun {
  PtbRecord record;
  std::string checkpoint;
  std::string torch_export;  // its PyTorch export when this run trained it ("" otherwise)
  // The run's training checkpoint, to be removed once the record is written ("" when none).
  std::string training_checkpoint;
  InferenceTiming timing;
  ZarembaConfig config;
  std::string config_hash;
};

// Records of the preset's results file by config hash (empty with --force or no file).
using PreviousRuns = std::map<std::string, PtbRecord>;

bool FileExists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// The folder of a model's PyTorch export (models/torch_export.h ExportTorchModel) next to its
// checkpoint <base>.pt.
std::string TorchExportDir(const std::string& base) { return base + "_torch"; }

constexpr char kTestNotEvaluated[] = "--noevaluate_test (a sweep choosing settings on valid)";

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
std::optional<PtbRecord> Reusable(const PreviousRuns& previous, const std::string& hash) {
  auto it = previous.find(hash);
  if (it == previous.end()) return std::nullopt;
  const PtbRecord& r = it->second;
  if (!r.collapsed && (!r.checkpoint || !FileExists(*r.checkpoint))) return std::nullopt;
  PtbRecord reused = r;
  reused.reused = true;
  return reused;
}

// Part of every PTB config hash: bumped when a code change alters the numbers a run gives for
// the same configuration, so that records of older code are not re-used as if they matched.
// 2: LoadLstmLm stopped drawing from torch's generator (the method runs' dropout draws moved).
constexpr int kPtbNumericsVersion = 2;

// What makes two records the same run, whatever their config hash: a newer record of the same
// run supersedes an older one in the results file. The points of a sweep are runs of their own.
std::string RunIdentity(const json& r) {
  return absl::StrCat(r.value("config_name", ""), "|", r.value("method", ""), "|",
                      r.contains("setting") ? r["setting"].dump() : "", "|",
                      r.contains("seed") ? r["seed"].dump() : "", "|",
                      r.contains("parent_checkpoint") ? "child" : "parent", "|",
                      r.contains("sweep_point") ? r["sweep_point"].dump() : "");
}

}  // namespace

std::vector<json> MergeResults(const std::vector<json>& current, const std::vector<json>& earlier) {
  std::vector<json> merged = current;
  std::set<std::string> identities, dense_hashes;
  for (const json& r : current) {
    identities.insert(RunIdentity(r));
    if (!r.contains("parent_checkpoint")) dense_hashes.insert(r.value("config_hash", ""));
  }
  // Zaremba configs, and config hashes, of the dense models this invocation trained (not
  // re-used).
  std::set<std::string> retrained, retrained_hashes;
  for (const json& r : current) {
    if (!r.contains("parent_checkpoint") && !r.value("reused", false)) {
      retrained.insert(r.value("config_name", ""));
      retrained_hashes.insert(r.value("config_hash", ""));
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
      // A method run whose dense parent was re-trained differently is stale, and so is one
      // whose parent this invocation trained again under the same hash (its checkpoint was
      // gone): the run came from an earlier training of it, which another machine or thread
      // count need not reproduce bit for bit. Records written before parent hashes were
      // recorded are stale once their config's parent is re-trained.
      const std::string parent = r->value("parent_config_hash", "");
      const bool stale = r->contains("parent_config_hash")
                             ? dense_hashes.count(parent) == 0 || retrained_hashes.count(parent) > 0
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
void AddTrainingCheckpoint(const SuiteOptions& o, const std::string& path, const std::string& hash,
                           TrainOptions* to) {
  to->checkpoint_path = path;
  to->checkpoint_every_steps = o.checkpoint_every_steps;
  to->resume = !o.force;
  to->config_hash = hash;
}

// The Zaremba config `config_name` as the preset trains it on this corpus.
absl::StatusOr<ZarembaConfig> PresetZarembaConfig(const Preset& preset,
                                                  const std::string& config_name,
                                                  const PtbCorpus& corpus) {
  ASSIGN_OR_RETURN(ZarembaConfig cfg, GetZarembaConfig(config_name));
  if (preset.epochs > 0) cfg.schedule.epochs = preset.epochs;
  if (preset.decay_after_epochs > 0) cfg.schedule.decay_after_epochs = preset.decay_after_epochs;
  cfg.model.vocab_size = corpus.vocab.size();
  return cfg;
}

// The config hash of the dense run: what determines its numbers.
std::string DenseConfigHash(const SuiteOptions& o, const Preset& preset, const ZarembaConfig& cfg,
                            const std::string& corpus_sha256) {
  json identity = {{"task", "ptb"},
                   {"run", "dense"},
                   {"preset", preset.name},
                   {"config_name", cfg.name},
                   {"model", json::parse(cfg.model.ToJson())},
                   {"schedule", ScheduleToJson(cfg.schedule)},
                   {"max_steps_per_epoch", preset.max_steps_per_epoch},
                   {"seed", o.seed},
                   {"data_sha256", corpus_sha256},
                   {"max_eval_tokens", preset.max_eval_tokens},
                   {"dense_checkpoint", o.dense_checkpoint},
                   {"numerics_version", kPtbNumericsVersion}};
  // A --noevaluate_test record holds no test perplexity: its hash differs. (The default adds
  // nothing, so that records written before the flag existed keep their hash.)
  if (!o.evaluate_test) identity["evaluate_test"] = false;
  return ConfigHash(identity);
}

// The dense parent, trained (resuming from its training checkpoint) and saved, or loaded from
// --dense_checkpoint. Sets run->checkpoint and run->training_checkpoint.
absl::Status TrainOrLoadDense(const SuiteOptions& o, const Preset& preset, const PtbCorpus& corpus,
                              LstmLm& model, TrainResult* tr, DenseRun* run) {
  const ZarembaConfig& cfg = run->config;
  if (!o.dense_checkpoint.empty()) {
    // A dense parent trained before: load it instead of training (its config must be the one
    // this preset trains).
    run->checkpoint = o.dense_checkpoint;
    ASSIGN_OR_RETURN(LstmLmCheckpoint loaded, LoadLstmLm(run->checkpoint));
    if (loaded.model->config().ToJson() != cfg.model.ToJson()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dense_checkpoint=", run->checkpoint, " holds a model with config ",
                       loaded.model->config().ToJson(), ", but preset ", preset.name, " trains ",
                       cfg.name, " = ", cfg.model.ToJson()));
    }
    model = loaded.model;
    o.log(absl::StrFormat("[ptb/%s] dense %s: loaded %s (not trained in this run)", preset.name,
                          cfg.name, run->checkpoint));
    return absl::OkStatus();
  }
  TrainOptions to;
  to.schedule = cfg.schedule;
  to.max_steps_per_epoch = preset.max_steps_per_epoch;
  to.log = o.log;
  // One pattern for every checkpoint: <output_dir>/<task>_<preset>_<run>.pt for the model, and
  // .train.ckpt (.search/.recovery.train.ckpt for the protocol's phases) while it trains.
  const std::string base =
      absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", cfg.name, "_dense");
  run->checkpoint = base + ".pt";
  const std::string training_ckpt = base + ".train.ckpt";
  AddTrainingCheckpoint(o, training_ckpt, run->config_hash, &to);
  ASSIGN_OR_RETURN(*tr, Train(model, corpus.train, corpus.valid, to));
  json meta = {{"preset", preset.name}, {"config_name", cfg.name}, {"seed", o.seed}};
  RETURN_IF_ERROR(SaveLstmLm(model, run->checkpoint, meta.dump()));
  run->torch_export = TorchExportDir(base);
  RETURN_IF_ERROR(ExportTorchModel(*model, model->config().ToJson(), run->torch_export));
  run->training_checkpoint = training_ckpt;  // removed once the record is written
  return absl::OkStatus();
}

// The dense parent's evaluation (valid, test unless --noevaluate_test, and the first tokens of
// test when the preset evaluates pruned models on those only) into its record.
absl::Status EvaluateDense(const SuiteOptions& o, const Preset& preset,
                           const std::string& config_name, LstmLm& model, const PtbCorpus& corpus,
                           int64_t bptt, PtbRecord* r) {
  ASSIGN_OR_RETURN(EvalResult valid,
                   EvaluatePerplexity(model, corpus.valid, 1, bptt, 0, nullptr,
                                      EvalLog(o, absl::StrCat(preset.name, " dense valid"))));
  EvalResult test;  // not evaluated with --noevaluate_test (sweeps)
  if (o.evaluate_test) {
    ASSIGN_OR_RETURN(test,
                     EvaluatePerplexity(model, corpus.test, 1, bptt, 0, nullptr,
                                        EvalLog(o, absl::StrCat(preset.name, " dense test"))));
  }
  // Smoke presets evaluate pruned models on the first tokens of each split only: score the
  // parent on the same tokens too, so that the comparison uses one token set.
  EvalResult test_subset;
  if (preset.max_eval_tokens > 0 && o.evaluate_test) {
    ASSIGN_OR_RETURN(test_subset,
                     EvaluatePerplexity(model, corpus.test, 1, bptt, preset.max_eval_tokens));
  }
  o.log(absl::StrFormat(
      "[ptb/%s] dense %s: valid ppl %.2f, test ppl %s (batch 1, %.1f s)", preset.name, config_name,
      valid.perplexity,
      o.evaluate_test ? absl::StrFormat("%.2f", test.perplexity) : std::string("not evaluated"),
      valid.seconds + test.seconds));
  r->valid_perplexity = valid.perplexity;
  r->valid_nll_nats_per_token = valid.mean_nll_nats;
  r->eval_tokens.emplace().valid = valid.tokens;
  if (o.evaluate_test) {
    r->test_perplexity = test.perplexity;
    r->test_nll_nats_per_token = test.mean_nll_nats;
    r->eval_tokens->test = test.tokens;
  } else {
    r->test_not_evaluated = kTestNotEvaluated;
  }
  if (preset.max_eval_tokens > 0 && o.evaluate_test) {
    PtbFirstTokensRecord& f = r->test_perplexity_first_tokens.emplace();
    f.tokens = test_subset.tokens;
    f.perplexity = test_subset.perplexity;
  }
  r->eval_protocol = "batch 1, BPTT 35, state carried over the whole split";
  return absl::OkStatus();
}

// The dense parent of Zaremba config `config_name`: re-used from `previous` by config hash, or
// trained (or loaded), evaluated and timed.
absl::StatusOr<DenseRun> RunPtbDense(const TaskContext& ctx, const std::string& config_name,
                                     const PtbCorpus& corpus, const std::string& corpus_sha256,
                                     const PreviousRuns& previous) {
  const SuiteOptions& o = ctx.options;
  const Preset& preset = ctx.preset;
  DenseRun run;
  ASSIGN_OR_RETURN(run.config, PresetZarembaConfig(preset, config_name, corpus));
  const ZarembaConfig& cfg = run.config;
  run.config_hash = DenseConfigHash(o, preset, cfg, corpus_sha256);
  const std::string& hash = run.config_hash;
  if (std::optional<PtbRecord> reused = Reusable(previous, hash)) {
    o.log(absl::StrFormat(
        "[ptb/%s] dense %s: re-using the finished run of %s (config hash %s; "
        "--force recomputes)",
        preset.name, config_name, json(reused->provenance.timestamp_utc.value_or("")).dump(),
        hash.substr(0, 12)));
    run.record = *reused;
    run.checkpoint = reused->checkpoint.value_or("");
    return run;
  }
  const absl::Time start = absl::Now();
  o.log(absl::StrFormat("[ptb/%s] dense %s: %d epochs, %d threads, seed %d", preset.name,
                        config_name, cfg.schedule.epochs, o.threads, o.seed));
  torch::manual_seed(o.seed);
  LstmLm model(cfg.model);
  TrainResult tr;
  RETURN_IF_ERROR(TrainOrLoadDense(o, preset, corpus, model, &tr, &run));
  PtbRecord& r = run.record;
  RETURN_IF_ERROR(EvaluateDense(o, preset, config_name, model, corpus, cfg.schedule.bptt, &r));
  ASSIGN_OR_RETURN(run.timing, TimeInference(model, preset.timing_repeats));
  r.task = "ptb";
  r.config_hash = hash;
  if (tr.resumed) r.resumed_at_step = tr.resumed_at_global_step;
  r.method = "dense";
  r.preset = preset.name;
  r.config_name = config_name;
  r.model = json::parse(cfg.model.ToJson());
  r.num_parameters = cfg.model.NumParameters();
  r.sizes = SizesOf(cfg.model);
  r.schedule = ScheduleRecord(cfg.schedule);
  r.max_steps_per_epoch = preset.max_steps_per_epoch;
  r.provenance = Provenance(ctx);
  r.checkpoint = run.checkpoint;
  if (!o.dense_checkpoint.empty()) r.loaded_from = run.checkpoint;
  if (!run.torch_export.empty()) r.torch_export = run.torch_export;
  ASSIGN_OR_RETURN(r.inference_ms_per_token, Typed<PtbInferenceTimesRecord>(run.timing.ToJson()));
  r.train_tokens = tr.tokens;
  r.train_seconds = tr.train_seconds;
  r.train_tokens_per_second = tr.tokens_per_second;
  ASSIGN_OR_RETURN(const PtbPhaseRecord trained, Typed<PtbPhaseRecord>(TrainResultToJson(tr)));
  r.epochs = trained.epochs;
  r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return run;
}

// Tokens of the valid split on which the structure's reference forward (gates or CSR) and the
// pruned model actually timed and evaluated must give the same perplexity.
constexpr int64_t kAgreementTokens = 5000;

// The unit every lambda is given in (records, --help, README).
constexpr char kLambdaUnit[] =
    "per epoch of training tokens: lambda * R / N is added to the mean NLL per token (nats), "
    "N = the training tokens of one epoch (Louizos et al. 2018, Eq. 3)";

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

// The protocol's two phases for `preset` on this corpus, with their lengths in steps.
struct Phases {
  PhaseOptions search, recovery;
  int64_t search_steps = 0, recovery_steps = 0;
};

absl::StatusOr<Phases> PresetPhases(const Preset& preset, const ZarembaConfig& dense, bool scratch,
                                    const PtbCorpus& corpus) {
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
    const int64_t per_epoch =
        preset.max_steps_per_epoch > 0 ? std::min(windows, preset.max_steps_per_epoch) : windows;
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

PtbPhaseProtocolRecord PhaseProtocol(const PhaseOptions& p, int64_t steps) {
  PtbPhaseProtocolRecord r;
  r.steps = steps;
  r.schedule = ScheduleRecord(p.schedule);
  r.first_window = p.first_window;
  r.max_steps_per_epoch = p.max_steps_per_epoch;
  return r;
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
  mo.given_options = o.method_flags;
  return mo;
}

// The record's fields of the final structure (sizes, parameters, multiply-adds, agreement).
absl::Status SetStructureFields(const ProtocolResult& pr, const LstmLmConfig& dense, PtbRecord* r) {
  if (pr.structured) {
    r->kept_input_sizes = pr.kept_input_sizes;
    r->kept_hidden_sizes = pr.kept_hidden_sizes;
    // A collapsed structure (no network left) was never checked.
    if (!pr.agreement.is_null()) {
      ASSIGN_OR_RETURN(r->agreement_check, Typed<PtbAgreementRecord>(pr.agreement));
    }
  }
  if (!pr.model.is_empty()) {
    const LstmLmConfig& c = pr.model->config();
    r->sizes = SizesOf(c);
    r->model = json::parse(c.ToJson());
    r->num_parameters = pr.structured ? c.NumParameters() : CountNonZeroParameters(pr.model);
    r->multiply_adds_per_token = c.MultiplyAddsPerToken();
  }
  r->dense_sizes = SizesOf(dense);
  return absl::OkStatus();
}

// Unstructured results: the CSR form of the LSTM matrices, checked against the dense model with
// zeros, with its sizes in the record.
absl::StatusOr<std::shared_ptr<const SparseLstmLm>> CsrOf(const ProtocolResult& pr,
                                                          const std::string& tag,
                                                          const torch::Tensor& valid, int64_t bptt,
                                                          PtbRecord* r) {
  LstmLm model = pr.model;
  ASSIGN_OR_RETURN(SparseLstmLm csr, SparseLstmLm::FromDense(model));
  auto sparse = std::make_shared<const SparseLstmLm>(std::move(csr));
  CsrForward csr_forward(sparse);
  ASSIGN_OR_RETURN(const json agreement,
                   CheckAgreement(tag, "dense model with zeros (CSR path checked)", model, nullptr,
                                  model, &csr_forward, valid, bptt));
  ASSIGN_OR_RETURN(r->agreement_check, Typed<PtbAgreementRecord>(agreement));
  PruningStructure s;
  s.weight_masks = pr.weight_masks;
  r->weight_sparsity = WeightSparsity(s);
  r->lstm_nonzeros = sparse->LstmNonZeros();
  r->lstm_csr_bytes = sparse->LstmCsrBytes();
  r->lstm_dense_bytes = sparse->LstmDenseBytes();
  // Only the non-zeros of the LSTM matrices need a multiply-add; the decoder is dense.
  const LstmLmConfig& c = model->config();
  r->multiply_adds_per_token = sparse->LstmNonZeros() + c.vocab_size * c.hidden_sizes.back();
  return std::shared_ptr<const SparseLstmLm>(sparse);
}

// A speedup measurement whose headline (LSTM, batch 1) has an interquartile range wider than
// this fraction of its median is too noisy to call: it is re-measured, at most
// kMaxTimingAttempts times in all, and the narrowest attempt is kept (marked uncertain when it
// is still too wide).
constexpr double kMaxRelativeSpread = 0.25;
constexpr int kMaxTimingAttempts = 3;

// Times the dense parent, the pruned model and its CSR form (when given) side by side, with the
// spread of every speedup, re-measuring a noisy measurement (above).
absl::Status TimeAgainstParent(const SuiteOptions& o, const Preset& preset, const DenseRun& dense,
                               LstmLm& pruned, std::shared_ptr<const SparseLstmLm> sparse,
                               PtbRecord* r) {
  ASSIGN_OR_RETURN(LstmLmCheckpoint parent, LoadLstmLm(dense.checkpoint));
  ASSIGN_OR_RETURN(InferenceRunner parent_runner,
                   EngineRunner(kDefaultInferenceEngine, parent.model));
  ASSIGN_OR_RETURN(InferenceRunner pruned_runner, EngineRunner(kDefaultInferenceEngine, pruned));
  std::vector<InferenceRunner> runners = {parent_runner, pruned_runner};
  if (sparse) runners.push_back(CsrRunner(sparse));
  // The 1-minute load average still counts this job's own training threads: only what is left
  // beyond them (more than half a core) says that other processes compete for the machine.
  const double load = LoadAverage1Min();
  const int own = std::min(o.threads, MachineCores());
  if (load - own > 0.5) {
    o.log(absl::StrFormat(
        "warning: load average %.2f before timing is %.2f above this job's own %d threads: other "
        "processes are running and the speedups will be noisy (run the job alone)",
        load, load - own, own));
  }
  std::vector<InferenceTiming> t;
  double spread = 0;
  int attempts = 0;
  while (attempts < kMaxTimingAttempts) {
    std::vector<InferenceTiming> attempt = TimeRunnersSideBySide(runners, preset.timing_repeats);
    const double attempt_spread = RelativeLstmB1Spread(attempt[0], attempt[1]);
    ++attempts;
    if (t.empty() || attempt_spread < spread) {
      t = std::move(attempt);
      spread = attempt_spread;
    }
    if (spread <= kMaxRelativeSpread) break;
  }
  ASSIGN_OR_RETURN(r->dense_inference_ms_per_token, Typed<PtbInferenceTimesRecord>(t[0].ToJson()));
  ASSIGN_OR_RETURN(r->inference_ms_per_token, Typed<PtbInferenceTimesRecord>(t[1].ToJson()));
  ASSIGN_OR_RETURN(r->speedup, Typed<PtbSpeedupsRecord<double>>(Speedups(t[0], t[1])));
  ASSIGN_OR_RETURN(r->speedup_iqr,
                   Typed<PtbSpeedupsRecord<std::vector<double>>>(SpeedupSpread(t[0], t[1])));
  if (sparse) {
    ASSIGN_OR_RETURN(r->csr_inference_ms_per_token, Typed<PtbInferenceTimesRecord>(t[2].ToJson()));
    ASSIGN_OR_RETURN(r->csr_speedup, Typed<PtbSpeedupsRecord<double>>(Speedups(t[0], t[2])));
    ASSIGN_OR_RETURN(r->csr_speedup_iqr,
                     Typed<PtbSpeedupsRecord<std::vector<double>>>(SpeedupSpread(t[0], t[2])));
  }
  r->timing_attempts = attempts;
  if (spread > kMaxRelativeSpread) r->speedup_uncertain = true;
  if (load >= 0) r->load_average_before_timing = load;
  r->timing_protocol = absl::StrCat("median of ", preset.timing_repeats,
                                    " calls of 35 tokens each, the dense parent and the "
                                    "pruned model",
                                    sparse ? " (dense with zeros, and CSR through Eigen)" : "",
                                    " interleaved call by call in one process, inference engine '",
                                    kDefaultInferenceEngine, "' (reports/speed.md), ", o.threads,
                                    " threads; spread: the interquartile range of the "
                                    "per-call ratios; re-measured (at most ",
                                    kMaxTimingAttempts,
                                    " times) while the LSTM "
                                    "batch-1 range is wider than ",
                                    kMaxRelativeSpread * 100, "% of its median");
  r->inference_engine = kDefaultInferenceEngine;
  return absl::OkStatus();
}

// Valid (and, unless --noevaluate_test, test) perplexity of the final model.
absl::Status EvaluateFinal(const SuiteOptions& o, const Preset& preset, const std::string& tag,
                           LstmLm& model, const PtbCorpus& corpus, int64_t bptt, PtbRecord* r) {
  const int64_t max_tokens = preset.max_eval_tokens;
  ASSIGN_OR_RETURN(EvalResult valid,
                   EvaluatePerplexity(model, corpus.valid, 1, bptt, max_tokens, nullptr,
                                      EvalLog(o, absl::StrCat(tag, " valid"))));
  r->valid_perplexity = valid.perplexity;
  r->eval_tokens.emplace().valid = valid.tokens;
  if (o.evaluate_test) {
    ASSIGN_OR_RETURN(EvalResult test,
                     EvaluatePerplexity(model, corpus.test, 1, bptt, max_tokens, nullptr,
                                        EvalLog(o, absl::StrCat(tag, " test"))));
    r->test_perplexity = test.perplexity;
    r->eval_tokens->test = test.tokens;
  } else {
    r->test_not_evaluated = kTestNotEvaluated;
  }
  r->eval_protocol = max_tokens > 0 ? absl::StrCat("batch 1, BPTT 35, state carried, first ",
                                                   max_tokens, " tokens of each split only (smoke)")
                                    : "batch 1, BPTT 35, state carried over the whole split";
  return absl::OkStatus();
}

// What a method run is before it runs: the method built, its phases and its config hash.
struct MethodRunPlan {
  std::string name;
  PruningMethodInfo info;
  RunSetting setting;
  std::string tag;       // "<preset>/<method> <setting>", for logs
  bool scratch = false;  // trains the dense architecture from scratch (the method's options)
  Phases phases;
  double penalty_scale = 0;
  std::unique_ptr<PruningMethod> method;
  PtbProtocolRecord protocol;
  std::string hash;
};

absl::StatusOr<MethodRunPlan> PlanMethodRun(const TaskContext& ctx, const DenseRun& dense,
                                            const std::string& name, const PruningMethodInfo& info,
                                            const RunSetting& setting, const PtbCorpus& corpus) {
  const SuiteOptions& o = ctx.options;
  const Preset& preset = ctx.preset;
  MethodRunPlan plan;
  plan.name = name;
  plan.info = info;
  plan.setting = setting;
  plan.tag = absl::StrCat(preset.name, "/", name, " ", setting.label);
  ASSIGN_OR_RETURN(plan.scratch, TrainsFromScratch(name, o.method_flags));
  ASSIGN_OR_RETURN(plan.phases, PresetPhases(preset, dense.config, plan.scratch, corpus));
  const ZarembaSchedule& sch = dense.config.schedule;
  plan.penalty_scale = PenaltyScale(corpus.train.size(0), sch.batch_size, sch.bptt);
  ASSIGN_OR_RETURN(
      plan.method,
      CreatePruningMethod(name, SuiteMethodOptions(o, dense.config.model, setting,
                                                   plan.phases.search_steps, plan.penalty_scale)));
  plan.protocol.search = PhaseProtocol(plan.phases.search, plan.phases.search_steps);
  plan.protocol.recovery = PhaseProtocol(plan.phases.recovery, plan.phases.recovery_steps);
  plan.protocol.diagnostics_every_steps = preset.diagnostics_every_steps;
  json identity = {{"task", "ptb"},
                   {"run", "method"},
                   {"parent_config_hash", dense.config_hash},
                   {"method", name},
                   {"setting", setting.label},
                   {"setting_value", setting.value},
                   {"target_sizes", setting.sizes},
                   {"method_options", plan.method->RecordedOptions()},
                   {"protocol", RecordToJson(plan.protocol)},
                   {"seed", o.seed},
                   {"max_eval_tokens", preset.max_eval_tokens},
                   {"evaluate_test", o.evaluate_test},
                   {"numerics_version", kPtbNumericsVersion}};
  if (plan.scratch) identity["from_scratch"] = true;
  plan.hash = ConfigHash(identity);
  return plan;
}

// The record's fields that describe the run (method, setting, protocol, training, provenance,
// structure), before evaluation.
absl::StatusOr<PtbRecord> MethodRecord(const TaskContext& ctx, const DenseRun& dense,
                                       const MethodRunPlan& plan, const ProtocolResult& pr) {
  PtbRecord r;
  r.task = "ptb";
  r.config_hash = plan.hash;
  r.parent_config_hash = dense.config_hash;
  if (pr.search.resumed) r.resumed_at_step = pr.search.resumed_at_global_step;
  if (pr.recovery.resumed) {
    r.resumed_at_step = plan.phases.search_steps + pr.recovery.resumed_at_global_step;
  }
  if (pr.search_reused) r.search_read_back = true;
  r.method = plan.name;
  r.method_description = plan.info.description;
  r.structured = pr.structured;
  r.setting_kind = SettingKindName(plan.info.setting);
  r.setting = plan.setting.label;
  if (plan.info.setting == SettingKind::kLambda || plan.info.setting == SettingKind::kSparsity) {
    r.setting_value = plan.setting.value;
  }
  if (plan.info.setting == SettingKind::kLambda) {
    r.lambda_unit = kLambdaUnit;
    r.penalty_scale = plan.penalty_scale;
  }
  if (!plan.setting.sizes.empty()) r.target_sizes = plan.setting.sizes;
  r.method_options = plan.method->RecordedOptions();
  if (plan.scratch) r.from_scratch = true;
  r.preset = ctx.preset.name;
  r.config_name = dense.config.name;
  r.protocol = plan.protocol;
  r.structure_fixed_at_start = plan.method->StructureFixedAtStart();
  r.train_steps = plan.phases.search_steps + plan.phases.recovery_steps;
  ASSIGN_OR_RETURN(r.search, Typed<PtbPhaseRecord>(TrainResultToJson(pr.search)));
  ASSIGN_OR_RETURN(r.recovery, Typed<PtbPhaseRecord>(TrainResultToJson(pr.recovery)));
  r.parent_checkpoint = plan.scratch ? std::string("(trained from scratch)") : dense.checkpoint;
  r.train_tokens = pr.search.tokens + pr.recovery.tokens;
  r.train_seconds = pr.search.train_seconds + pr.recovery.train_seconds;
  r.train_tokens_per_second =
      static_cast<double>(*r.train_tokens) / std::max(*r.train_seconds, 1e-9);
  r.provenance = Provenance(ctx);
  RETURN_IF_ERROR(SetStructureFields(pr, dense.config.model, &r));
  return r;
}

// Saves the pruned model (compacted, or dense with exact zeros) to <base>.pt with a JSON
// description at <base>.json, and names both in the record.
absl::Status ExportPruned(const MethodRunPlan& plan, const ProtocolResult& pr, LstmLm& pruned,
                          const std::string& base, PtbRecord* r) {
  const json record = r->ToJson();
  json meta = {{"method", plan.name},
               {"setting", plan.setting.label},
               {"structured", pr.structured},
               {"parent", record.value("parent_checkpoint", json())},
               {"sizes", record.value("sizes", json())},
               {"num_parameters", record.value("num_parameters", json())},
               {"multiply_adds_per_token", record.value("multiply_adds_per_token", json())},
               {"inference_engine", kDefaultInferenceEngine}};
  if (r->weight_sparsity) meta["weight_sparsity"] = *r->weight_sparsity;
  RETURN_IF_ERROR(SaveLstmLm(pruned, base + ".pt", meta.dump()));
  RETURN_IF_ERROR(WriteFileAtomically(base + ".json", meta.dump(2) + "\n"));
  RETURN_IF_ERROR(ExportTorchModel(*pruned, pruned->config().ToJson(), TorchExportDir(base)));
  r->checkpoint = base + ".pt";
  r->export_json = base + ".json";
  r->torch_export = TorchExportDir(base);
  return absl::OkStatus();
}

// Runs method `name` at one setting on the dense checkpoint (or from scratch, when its options
// say so) with the pruning protocol (pruning/protocol.h); then evaluates, exports and times the
// result against the dense parent. `temporaries` receives the run's intermediate files, to
// remove once the record is written.
absl::StatusOr<PtbRecord> RunPtbMethod(const TaskContext& ctx, const DenseRun& dense,
                                       const std::string& name,
                                       const PruningMethodInfo& method_info,
                                       const RunSetting& setting, const PtbCorpus& corpus,
                                       const PreviousRuns& previous,
                                       std::vector<std::string>* temporaries) {
  const SuiteOptions& o = ctx.options;
  const Preset& preset = ctx.preset;
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(MethodRunPlan plan,
                   PlanMethodRun(ctx, dense, name, method_info, setting, corpus));
  const std::string& tag = plan.tag;
  // A finished run is re-used only on the parent it was made from: not when this invocation
  // trained the parent again (MergeResults drops such runs too).
  const bool parent_reused = dense.record.reused.value_or(false);
  if (std::optional<PtbRecord> reused =
          parent_reused ? Reusable(previous, plan.hash) : std::optional<PtbRecord>()) {
    o.log(absl::StrFormat(
        "[ptb/%s] re-using the finished run of %s (config hash %s; --force "
        "recomputes)",
        tag, json(reused->provenance.timestamp_utc.value_or("")).dump(), plan.hash.substr(0, 12)));
    return *reused;
  }
  const std::string base =
      absl::StrCat(o.output_dir, "/ptb_", preset.name, "_", dense.config.name, "_", name, "_",
                   setting.label == "-" ? std::string("control")
                                        : absl::StrReplaceAll(setting.label, {{":", "-"}}));
  torch::manual_seed(o.seed);
  LstmLm model{nullptr};
  if (plan.scratch) {
    model = LstmLm(dense.config.model);
  } else {
    ASSIGN_OR_RETURN(LstmLmCheckpoint ckpt, LoadLstmLm(dense.checkpoint));
    model = ckpt.model;
  }
  o.log(absl::StrFormat("[ptb/%s] %s: search %d steps, recovery %d steps (%s)", tag,
                        method_info.description, plan.phases.search_steps,
                        plan.phases.recovery_steps,
                        plan.scratch ? "from scratch" : "from the dense checkpoint"));
  ProtocolOptions po;
  po.search = plan.phases.search;
  po.recovery = plan.phases.recovery;
  po.diagnostics_every_steps = preset.diagnostics_every_steps;
  po.agreement_tokens = kAgreementTokens;
  po.checkpoint_base = base;
  po.checkpoint_every_steps = o.checkpoint_every_steps;
  po.resume = !o.force;
  po.config_hash = plan.hash;
  po.seed = static_cast<uint64_t>(o.seed);
  po.log = [&o, &tag](const std::string& line) { o.log(absl::StrCat("[ptb/", tag, "] ", line)); };
  *temporaries = ProtocolFiles(base);
  ASSIGN_OR_RETURN(ProtocolResult pr,
                   RunPruningProtocol(model, *plan.method, corpus.train, corpus.valid, po));

  ASSIGN_OR_RETURN(PtbRecord r, MethodRecord(ctx, dense, plan, pr));
  if (!pr.collapsed.empty()) {
    // Too strong a penalty can close every neuron of a layer: no network is left. Record it
    // (it is a result about this setting) and go on with the others.
    o.log(absl::StrFormat("[ptb/%s] %s", tag, pr.collapsed));
    r.collapsed = pr.collapsed;
    r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return r;
  }
  LstmLm pruned = pr.model;
  const int64_t bptt = dense.config.schedule.bptt;
  std::shared_ptr<const SparseLstmLm> sparse;
  if (!pr.weight_masks.empty()) {
    ASSIGN_OR_RETURN(sparse, CsrOf(pr, tag, corpus.valid, bptt, &r));
  }
  RETURN_IF_ERROR(EvaluateFinal(o, preset, tag, pruned, corpus, bptt, &r));
  RETURN_IF_ERROR(ExportPruned(plan, pr, pruned, base, &r));
  RETURN_IF_ERROR(TimeAgainstParent(o, preset, dense, pruned, sparse, &r));
  r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  o.log(absl::StrFormat(
      "[ptb/%s] sizes %s, %d parameters; valid ppl %.2f; speedup (LSTM, batch 1) %.2fx", tag,
      absl::StrJoin(pruned->config().hidden_sizes, "/"), r.num_parameters.value_or(0),
      r.valid_perplexity.value_or(0.0), r.speedup ? r.speedup->lstm_b1.value_or(0.0) : 0.0));
  return r;
}

// The record of a method run that failed with `error`: enough to name it in the report and to
// supersede an older record of the same run (RunIdentity); never re-used (no checkpoint).
PtbRecord FailedMethodRecord(const TaskContext& ctx, const DenseRun& dense, const std::string& name,
                             const RunSetting& setting, const absl::Status& error) {
  PtbRecord r;
  r.task = "ptb";
  r.method = name;
  r.setting = setting.label;
  r.preset = ctx.preset.name;
  r.config_name = dense.config.name;
  r.parent_config_hash = dense.config_hash;
  r.parent_checkpoint = dense.checkpoint;
  r.failed = error.ToString();
  r.provenance = Provenance(ctx);
  return r;
}

// Adds the task's runs to ctx.progress (when set), with their training steps as work: per
// config, the dense parent and every setting of every method. A method whose target sizes come
// from other runs is planned once per setting of the methods whose sizes are targets (an
// estimate until those ran: JobProgress::DropUnstarted removes what does not run).
absl::Status PlanPtbRuns(const TaskContext& ctx, const PtbCorpus& corpus) {
  if (ctx.progress == nullptr) return absl::OkStatus();
  const SuiteOptions& o = ctx.options;
  for (const std::string& config : ctx.preset.configs) {
    ASSIGN_OR_RETURN(ZarembaConfig cfg, PresetZarembaConfig(ctx.preset, config, corpus));
    ASSIGN_OR_RETURN(Phases dense_phases, PresetPhases(ctx.preset, cfg, true, corpus));
    ctx.progress->Plan(absl::StrCat("ptb/", config, "/dense"), "ptb",
                       o.dense_checkpoint.empty() ? dense_phases.search_steps : 0);
    int64_t target_runs = 0;
    for (const std::string& name : MethodOrder(o, ctx.preset)) {
      ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(name));
      ASSIGN_OR_RETURN(std::vector<RunSetting> settings,
                       ResolveSettings(o, ctx.preset, name, info, config, {}));
      int64_t runs = static_cast<int64_t>(settings.size());
      if (info.sizes_are_targets) target_runs += runs;
      if (info.setting == SettingKind::kTargetSizes && runs == 0) runs = target_runs;
      ASSIGN_OR_RETURN(bool scratch, TrainsFromScratch(name, o.method_flags));
      ASSIGN_OR_RETURN(Phases phases, PresetPhases(ctx.preset, cfg, scratch, corpus));
      for (int64_t i = 0; i < runs; ++i) {
        ctx.progress->Plan(absl::StrCat("ptb/", config, "/", name), "ptb",
                           phases.search_steps + phases.recovery_steps);
      }
    }
  }
  return absl::OkStatus();
}

// The records of the preset's results file (empty when there is none).
absl::StatusOr<std::vector<json>> EarlierRecords(const std::string& results) {
  if (!FileExists(results)) return std::vector<json>();
  return ReadJsonLines(results);
}

// The records of `earlier` by config hash, re-usable unless --force. Errors: a record with a
// field of the wrong type (naming the file, the line and the field).
absl::StatusOr<PreviousRuns> ReusableRuns(const SuiteOptions& o, const std::vector<json>& earlier,
                                          const std::string& results) {
  PreviousRuns previous;
  if (o.force) return previous;
  ASSIGN_OR_RETURN(std::vector<PtbRecord> records, PtbRecordsFromJson(earlier, results));
  for (PtbRecord& r : records) {
    if (r.config_hash) previous[*r.config_hash] = std::move(r);
  }
  if (!earlier.empty()) {
    o.log(absl::StrFormat("[ptb] %d finished runs in %s may be re-used (--force recomputes them)",
                          previous.size(), results));
  }
  return previous;
}

// Every method run of one Zaremba config on its dense parent, appended to `ptb_runs`; the
// results file is rewritten after each.
absl::Status RunPtbMethods(const TaskContext& ctx, const DenseRun& dense, const PtbCorpus& corpus,
                           const PreviousRuns& previous, const std::string& results,
                           const std::vector<json>& earlier, std::vector<json>* ptb_runs) {
  const SuiteOptions& o = ctx.options;
  for (const std::string& name : MethodOrder(o, ctx.preset)) {
    ASSIGN_OR_RETURN(PruningMethodInfo method_info, GetPruningMethodInfo(name));
    ASSIGN_OR_RETURN(
        std::vector<RunSetting> settings,
        ResolveSettings(o, ctx.preset, name, method_info, dense.config.name, *ptb_runs));
    if (settings.empty()) {
      o.log(
          absl::StrFormat("[ptb/%s] %s: no target sizes (no successful run of a method "
                          "whose sizes are targets to take them from, and none given with "
                          "--settings=%s=E:H1:H2); skipped",
                          ctx.preset.name, name, name));
    }
    const std::string key = absl::StrCat("ptb/", dense.config.name, "/", name);
    for (const RunSetting& setting : settings) {
      std::vector<std::string> temporaries;
      if (ctx.progress != nullptr) {
        ctx.progress->Start(
            key, absl::StrCat("ptb/", ctx.preset.name, "/", name, setting.label == "-" ? "" : " ",
                              setting.label == "-" ? "" : setting.label));
      }
      absl::StatusOr<PtbRecord> r = CatchTorch(absl::StrCat("run ", name, " ", setting.label), [&] {
        return RunPtbMethod(ctx, dense, name, method_info, setting, corpus, previous, &temporaries);
      });
      if (ctx.progress != nullptr) ctx.progress->Finished(r.ok() && r->reused.value_or(false));
      if (!r.ok()) {
        // One run's failure (a diverging loss, a method's error) is a result about that run:
        // recorded, and the job goes on with the others (its exit status says so). Its
        // training checkpoints stay, so that a re-run resumes it after a fix.
        o.log(absl::StrFormat("[ptb/%s/%s %s] FAILED, recorded, the job goes on: %s",
                              ctx.preset.name, name, setting.label, r.status().ToString()));
        r = FailedMethodRecord(ctx, dense, name, setting, r.status());
        temporaries.clear();
      }
      ptb_runs->push_back(r->ToJson());
      RETURN_IF_ERROR(WriteJsonLines(results, MergeResults(*ptb_runs, earlier)));
      for (const std::string& f : temporaries) std::remove(f.c_str());
    }
    if (ctx.progress != nullptr) ctx.progress->DropUnstarted(key);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<json>> RunPtbTask(const TaskContext& ctx) {
  const SuiteOptions& o = ctx.options;
  const Preset& preset = ctx.preset;
  PtbLoadOptions lo;
  lo.verify_checksums = o.verify_checksums;
  ASSIGN_OR_RETURN(PtbCorpus corpus, LoadPtb(o.data_dir + "/ptb", lo));
  o.log(absl::StrFormat("[ptb] loaded %s: %d / %d / %d tokens, vocabulary %d", corpus.dir,
                        corpus.train.size(0), corpus.valid.size(0), corpus.test.size(0),
                        corpus.vocab.size()));
  const std::string results = absl::StrCat(o.reports_dir, "/results/ptb_", preset.name, ".jsonl");
  const std::string corpus_sha256 = CorpusSha256(corpus);
  // Records of earlier invocations: kept in the file until re-run (MergeResults), and re-used
  // by config hash unless --force.
  ASSIGN_OR_RETURN(std::vector<json> earlier, EarlierRecords(results));
  ASSIGN_OR_RETURN(const PreviousRuns previous, ReusableRuns(o, earlier, results));
  std::vector<json> ptb_runs;
  RETURN_IF_ERROR(PlanPtbRuns(ctx, corpus));
  for (const std::string& config : preset.configs) {
    if (ctx.progress != nullptr) {
      ctx.progress->Start(absl::StrCat("ptb/", config, "/dense"),
                          absl::StrCat("ptb/", preset.name, " dense parent ", config));
    }
    ASSIGN_OR_RETURN(DenseRun dense, RunPtbDense(ctx, config, corpus, corpus_sha256, previous));
    if (ctx.progress != nullptr) ctx.progress->Finished(dense.record.reused.value_or(false));
    ptb_runs.push_back(dense.record.ToJson());
    // Written after every run, so a later failure loses nothing finished. A run's training
    // checkpoint goes only once its record is on disk: a kill in between resumes the run from
    // its last checkpoint (at its end) instead of training it again.
    RETURN_IF_ERROR(WriteJsonLines(results, MergeResults(ptb_runs, earlier)));
    if (!dense.training_checkpoint.empty()) std::remove(dense.training_checkpoint.c_str());
    RETURN_IF_ERROR(RunPtbMethods(ctx, dense, corpus, previous, results, earlier, &ptb_runs));
  }
  RETURN_IF_ERROR(RenderPtbReportFiles(o.reports_dir));
  o.log(absl::StrCat("[ptb] wrote ", o.reports_dir, "/ptb.md"));
  return ptb_runs;
}

}  // namespace rnnprune
