#include "benchmarks/squad_pruning.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/bidaf_pruning.h"
#include "benchmarks/bidaf_timing.h"
#include "common/config_hash.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "pruning/gate_targets.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "reporting/record_provenance.h"
#include "torch/torch.h"
#include "training/squad_batch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// Questions timed: this many batches of one and of 32, cycled over the rounds.
constexpr int64_t kTimedSingles = 16;
constexpr int64_t kTimedBatches32 = 4;

// One run of the preset: a method and its setting.
struct PruningRun {
  std::string method;
  // "" (dense), the lambda or sparsity as listed, or "sizes of <method> <lambda>".
  std::string setting;
  std::optional<double> lambda, sparsity;
  GateTargets targets;  // the methods taking sizes
};

// The setting-free, kLambda and kSparsity runs of the preset, in squad_methods order; `sized`
// gets the methods taking sizes. Errors: NotFound (unknown method), Unimplemented (no
// model-agnostic form), InvalidArgument (a lambda or sparsity that is not a number).
absl::StatusOr<std::vector<PruningRun>> PresetRuns(const Preset& p,
                                                   std::vector<std::string>* sized) {
  std::vector<PruningRun> runs;
  const std::vector<std::string> agnostic = RegisteredModelMethods();
  for (const std::string& name : p.squad_methods) {
    ASSIGN_OR_RETURN(const PruningMethodInfo info, GetPruningMethodInfo(name));
    if (std::find(agnostic.begin(), agnostic.end(), name) == agnostic.end()) {
      return absl::UnimplementedError(
          absl::StrCat("squad_methods: '", name,
                       "' prunes the LSTM LM only (no model-agnostic form, "
                       "pruning/model_method.h); the methods that prune BiDAF: ",
                       absl::StrJoin(agnostic, ", ")));
    }
    if (info.setting == SettingKind::kTargetSizes) {
      sized->push_back(name);
      continue;
    }
    if (info.setting != SettingKind::kLambda && info.setting != SettingKind::kSparsity) {
      runs.push_back({name, "", std::nullopt, std::nullopt, {}});
      continue;
    }
    const bool lambda = info.setting == SettingKind::kLambda;
    std::vector<std::string> texts;
    auto it = p.squad_settings.find(name);
    if (it != p.squad_settings.end()) {
      texts = it->second;
    } else {
      for (double v : info.default_settings) texts.push_back(absl::StrFormat("%g", v));
    }
    for (const std::string& t : texts) {
      double value = 0;
      if (!absl::SimpleAtod(t, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "squad_settings.", name, ": '", t, "' is not a ", lambda ? "lambda" : "sparsity"));
      }
      PruningRun run{name, t, std::nullopt, std::nullopt, {}};
      (lambda ? run.lambda : run.sparsity) = value;
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

// The runs of each size-taking method at the kept sizes of every finished L0 run in `done`.
std::vector<PruningRun> SizedRuns(const std::vector<std::string>& sized,
                                  const std::vector<BidafPruningRecord>& done) {
  std::vector<PruningRun> runs;
  for (const std::string& name : sized) {
    for (const BidafPruningRecord& r : done) {
      absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(r.method.value_or(""));
      if (!info.ok() || !info->sizes_are_targets || r.collapsed.value_or(false) || !r.kept_hidden ||
          !r.kept_inputs) {
        continue;
      }
      PruningRun run{name,
                     absl::StrCat("sizes of ", *r.method, " ", r.setting.value_or("")),
                     std::nullopt,
                     std::nullopt,
                     {}};
      for (const auto& [lstm, n] : r.kept_hidden->items()) run.targets.hidden[lstm] = n;
      for (const auto& [lstm, n] : r.kept_inputs->items()) run.targets.input[lstm] = n;
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

int64_t StepsPerEpoch(const SquadPruningInputs& in) {
  const int64_t n = static_cast<int64_t>(in.train->size());
  const int64_t b = in.training.batch_size;
  const int64_t steps = (n + b - 1) / b;
  const int64_t cap = in.training.max_steps_per_epoch;
  return cap > 0 && cap < steps ? cap : steps;
}

// The model-agnostic form of the run's method, with the command's method flags
// (SuiteOptions::method_flags, as the PTB task passes them).
absl::StatusOr<std::unique_ptr<ModelMethod>> MethodOf(const TaskContext& context,
                                                      const SquadPruningInputs& in,
                                                      const PruningRun& run) {
  ModelMethodOptions mo;
  Bidaf parent = in.parent;  // a holder of the same module: View() is not const
  mo.model = parent->View();
  mo.lambda = run.lambda.value_or(0.0);
  mo.penalty_scale = 1.0 / static_cast<double>(in.train->size());  // lambda per epoch
  mo.sparsity = run.sparsity.value_or(0.0);
  mo.targets = run.targets;
  mo.total_steps = std::max<int64_t>(1, context.preset.squad_search_epochs * StepsPerEpoch(in));
  mo.seed = static_cast<uint64_t>(context.options.seed);
  mo.given_options = context.options.method_flags;
  return CreateModelMethod(run.method, mo);
}

// The config hash of a run: the parent's, the method, its setting, targets and own options
// (ModelMethod::RecordedOptions), the budget and everything else that determines its numbers.
std::string RunHash(const TaskContext& context, const SquadPruningInputs& in, const PruningRun& run,
                    const json& method_options) {
  const Preset& p = context.preset;
  json targets = {{"hidden", run.targets.hidden}, {"input", run.targets.input}};
  // Version 2: timed on the lean no-grad LSTM path (models/lstm_layer.h) instead of ATen ops
  // per step. Version 3: the method's own options are part of the hash (a changed default or
  // flag runs again). Records of earlier versions stay as they were and are not re-used.
  return ConfigHash(json{{"task", "bidaf_pruning"},
                         {"version", 3},
                         {"parent", in.parent_hash},
                         {"method", run.method},
                         {"setting", run.setting},
                         {"targets", targets},
                         {"method_options", method_options},
                         {"search_epochs", p.squad_search_epochs},
                         {"recovery_epochs", p.squad_recovery_epochs},
                         {"eval_questions", in.eval->size()},
                         {"validation_questions", in.validation->size()},
                         {"timing_repeats", p.timing_repeats},
                         {"seed", context.options.seed}});
}

json SizesJson(const std::map<std::string, int64_t>& sizes) { return json(sizes); }

// The parent's hidden and input sizes per LSTM direction, from its layout.
void SetParentSizes(const Bidaf& parent, BidafPruningRecord* r) {
  const LstmPruningLayout layout = parent->PruningLayout();
  const std::map<std::string, torch::Tensor> params = ParameterMap(parent->named_parameters());
  std::map<std::string, int64_t> hidden, inputs;
  for (const PrunableLstm& l : layout.lstms) {
    hidden[l.name] = layout.SpaceSize(l.name, params);
    inputs[l.name] = layout.RunsSize(l.input, params);
  }
  r->parent_hidden = SizesJson(hidden);
  r->parent_inputs = SizesJson(inputs);
  r->parent_lstm_parameters = BidafLstmParameters(parent);
  r->parent_parameters = CountParameters(parent->parameters());
}

// Batches of the first evaluation questions for the timing: singles and batches of 32.
absl::Status TimingBatches(const std::vector<SquadExample>& eval, std::vector<BidafBatch>* single,
                           std::vector<BidafBatch>* batches_32) {
  const int64_t n = static_cast<int64_t>(eval.size());
  for (int64_t i = 0; i < std::min(n, kTimedSingles); ++i) {
    ASSIGN_OR_RETURN(BidafBatch b, MakeBidafBatch(eval, {i}));
    single->push_back(std::move(b));
  }
  for (int64_t k = 0; k < kTimedBatches32 && k * 32 < n; ++k) {
    std::vector<int64_t> indices;
    for (int64_t i = k * 32; i < std::min(n, (k + 1) * 32); ++i) indices.push_back(i);
    ASSIGN_OR_RETURN(BidafBatch b, MakeBidafBatch(eval, indices));
    batches_32->push_back(std::move(b));
  }
  if (single->empty()) return absl::InvalidArgumentError("no evaluation question to time");
  return absl::OkStatus();
}

// The deployed model's questions/s against the parent's, timed side by side.
absl::Status TimeAgainstParent(const SquadPruningInputs& in, const Bidaf& pruned, int repeats,
                               BidafPruningRecord* r) {
  std::vector<BidafBatch> single, batches_32;
  RETURN_IF_ERROR(
      TimingBatches(in.eval->empty() ? *in.validation : *in.eval, &single, &batches_32));
  std::vector<Bidaf> models = {in.parent, pruned};
  for (Bidaf& m : models) m->eval();
  std::vector<BidafTiming> t;
  RETURN_IF_ERROR(CatchTorch("timing BiDAF", [&] {
    t = TimeBidafsSideBySide(models, single, batches_32, repeats);
    return absl::OkStatus();
  }));
  r->speedups = BidafSpeedups(t[0], t[1]);
  r->timing = json{{"parent", t[0].ToJson()}, {"pruned", t[1].ToJson()}};
  r->timing_repeats = repeats;
  return absl::OkStatus();
}

// The training fields of the record: losses and validation scores of both phases.
void SetTrainingFields(const BidafPruningOutcome& out, BidafPruningRecord* r) {
  std::vector<double> em, f1, recovery_loss;
  auto add_validation = [&](const BidafTrainResult& t) {
    for (const BidafEpochStats& e : t.epochs) {
      if (!e.validated) continue;
      em.push_back(e.validation_exact_match);
      f1.push_back(e.validation_f1);
    }
  };
  if (out.search) {
    std::vector<double> loss;
    for (const BidafEpochStats& e : out.search->epochs) loss.push_back(e.mean_loss_nats);
    r->search_epoch_loss = loss;
    r->search_steps = out.search->steps;
    r->search_seconds = out.search->seconds;
    if (!out.search->diagnostics.is_null()) r->search_diagnostics = out.search->diagnostics;
    add_validation(*out.search);
  }
  for (const BidafEpochStats& e : out.recovery.epochs) recovery_loss.push_back(e.mean_loss_nats);
  r->recovery_epoch_loss = recovery_loss;
  r->recovery_steps = out.recovery.steps;
  r->recovery_seconds = out.recovery.seconds;
  add_validation(out.recovery);
  if (!f1.empty()) {
    r->epoch_validation_exact_match = em;
    r->epoch_validation_f1 = f1;
  }
}

// The plan of a run: the preset's phases, resumable from the run's checkpoints.
BidafPruningPlan MakePlan(const TaskContext& context, const SquadPruningInputs& in,
                          const std::string& ckpt_prefix, const std::string& hash) {
  BidafPruningPlan plan;
  plan.search = in.training;
  plan.search.epochs = context.preset.squad_search_epochs;
  plan.recovery = in.training;
  plan.recovery.epochs = context.preset.squad_recovery_epochs;
  for (auto [phase, o] : {std::pair<const char*, BidafTrainOptions*>{"search", &plan.search},
                          {"recovery", &plan.recovery}}) {
    o->validation = nullptr;  // set by RunBidafPruning
    o->hooks = nullptr;
    o->checkpoint_path = absl::StrCat(ckpt_prefix, ".", phase, ".ckpt");
    o->checkpoint_every_steps = context.options.checkpoint_every_steps;
    o->resume = !context.options.force;
    o->config_hash = absl::StrCat(hash, "/", phase);
  }
  plan.eval_batch_size = in.eval_batch_size;
  plan.max_answer_tokens = in.parent->config().max_answer_tokens;
  return plan;
}

// Runs one method and setting from the parent into a record (collapsed structures included).
absl::StatusOr<BidafPruningRecord> RunOne(const TaskContext& context, const SquadPruningInputs& in,
                                          const PruningRun& run, ModelMethod& method,
                                          const std::string& hash) {
  const absl::Time start = absl::Now();
  const Preset& p = context.preset;
  BidafPruningRecord r;
  r.task = "bidaf_pruning";
  r.config_hash = hash;
  r.parent_config_hash = in.parent_hash;
  r.preset = p.name;
  r.protocol = in.protocol;
  r.method = run.method;
  r.setting = run.setting;
  if (run.lambda) r.lambda = *run.lambda;
  if (run.sparsity) r.sparsity = *run.sparsity;
  if (!run.targets.hidden.empty()) r.target_hidden = SizesJson(run.targets.hidden);
  r.search_epochs = p.squad_search_epochs;
  r.recovery_epochs = p.squad_recovery_epochs;
  r.optimizer = in.training.optimizer;
  r.learning_rate = in.training.EffectiveLearningRate();
  r.batch_size = in.training.batch_size;
  SetParentSizes(in.parent, &r);

  r.method_options = method.RecordedOptions();
  const std::string prefix = absl::StrCat(context.options.output_dir, "/bidaf_pruning_", p.name,
                                          "_", run.method, "_", hash.substr(0, 12));
  BidafPruningPlan plan = MakePlan(context, in, prefix, hash);
  plan.method = &method;
  absl::StatusOr<BidafPruningOutcome> out =
      RunBidafPruning(in.parent, *in.train, *in.validation, *in.eval, plan);
  if (!out.ok() && out.status().code() == absl::StatusCode::kInvalidArgument &&
      absl::StrContains(out.status().message(), "nothing to compact")) {
    r.collapsed = true;
    r.error = std::string(out.status().message());
  } else if (!out.ok()) {
    return out.status();
  } else {
    r.collapsed = false;
    r.kept_hidden = SizesJson(out->kept_hidden);
    r.kept_inputs = SizesJson(out->kept_inputs);
    if (out->gates.hidden.empty()) {  // the dense control: nothing removed
      r.kept_hidden = r.parent_hidden;
      r.kept_inputs = r.parent_inputs;
    }
    r.lstm_parameters = out->lstm_parameters;
    if (!out->weight_masks.empty()) {
      r.lstm_nonzero_parameters = out->lstm_nonzero_parameters;
      r.lstm_weight_sparsity = out->lstm_weight_sparsity;
    }
    r.parameters = out->parameters;
    SetTrainingFields(*out, &r);
    if (!in.eval->empty()) {
      r.eval_questions = out->eval.questions;
      r.exact_match = out->eval.exact_match;
      r.f1 = out->eval.f1;
    }
    RETURN_IF_ERROR(TimeAgainstParent(in, out->model, p.timing_repeats, &r));
  }
  r.provenance = RecordProvenance::Of(context.run_info, context.options.threads,
                                      context.options.seed, context.options.command);
  r.provenance.preset_config = context.preset_config;
  if (!context.sweep_point.empty()) r.provenance.sweep_point = context.sweep_point;
  r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const char* phase : {"search", "recovery"}) {
    std::remove(absl::StrCat(prefix, ".", phase, ".ckpt").c_str());
  }
  return r;
}

// The line the log gets for a finished run.
std::string Summary(const BidafPruningRecord& r) {
  if (r.collapsed.value_or(false)) {
    return absl::StrCat("collapsed: ", r.error.value_or("?"));
  }
  const double speedup = r.speedups ? r.speedups->value("lstms_b1", 0.0) : 0.0;
  const std::string scores =
      r.f1 ? absl::StrFormat("EM %.2f, F1 %.2f", r.exact_match.value_or(0), *r.f1)
           : std::string("evaluation not scored");
  const double validation_f1 =
      r.epoch_validation_f1 && !r.epoch_validation_f1->empty() ? r.epoch_validation_f1->back() : 0;
  const std::string nonzero = r.lstm_nonzero_parameters
                                  ? absl::StrFormat(" (%d non-zero)", *r.lstm_nonzero_parameters)
                                  : std::string();
  return absl::StrFormat(
      "%s (validation F1 %.2f); %d%s of %d LSTM parameters; LSTMs %.2fx faster at batch 1", scores,
      validation_f1, r.lstm_parameters.value_or(0), nonzero, r.parent_lstm_parameters.value_or(0),
      speedup);
}

}  // namespace

std::string BidafPruningRecordPath(const TaskContext& context, const std::string& method,
                                   const std::string& hash) {
  return absl::StrCat(context.options.reports_dir, "/results/bidaf_pruning_", context.preset.name,
                      "_", method, "_", hash.substr(0, 12), ".json");
}

absl::StatusOr<std::vector<BidafPruningRecord>> RunSquadPruning(const TaskContext& context,
                                                                const SquadPruningInputs& in) {
  const SuiteOptions& o = context.options;
  std::vector<std::string> sized;
  ASSIGN_OR_RETURN(std::vector<PruningRun> runs, PresetRuns(context.preset, &sized));
  std::vector<BidafPruningRecord> done;
  RETURN_IF_ERROR(MakeDirs(o.reports_dir + "/results"));
  RETURN_IF_ERROR(MakeDirs(o.output_dir));
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) runs = SizedRuns(sized, done);
    for (const PruningRun& run : runs) {
      ASSIGN_OR_RETURN(std::unique_ptr<ModelMethod> method, MethodOf(context, in, run));
      const std::string hash = RunHash(context, in, run, method->RecordedOptions());
      const std::string path = BidafPruningRecordPath(context, run.method, hash);
      const std::string name =
          absl::StrCat(run.method, run.setting.empty() ? "" : " ", run.setting);
      if (!o.force) {
        absl::StatusOr<BidafPruningRecord> earlier = ReadBidafPruningRecord(path);
        if (earlier.ok() && earlier->config_hash == hash) {
          o.log(absl::StrCat("[squad pruning] ", name, ": re-using the finished run (config hash ",
                             hash.substr(0, 12), "; --force recomputes)"));
          earlier->reused = true;
          done.push_back(*std::move(earlier));
          continue;
        }
      }
      o.log(absl::StrCat("[squad pruning] ", name, ": search ", context.preset.squad_search_epochs,
                         " epochs, recovery ", context.preset.squad_recovery_epochs, " epochs"));
      ASSIGN_OR_RETURN(BidafPruningRecord r, RunOne(context, in, run, *method, hash));
      RETURN_IF_ERROR(WriteFileAtomically(path, r.ToJson().dump(2) + "\n"));
      o.log(absl::StrCat("[squad pruning] ", name, ": ", Summary(r)));
      done.push_back(std::move(r));
    }
  }
  return done;
}

}  // namespace rnnprune
