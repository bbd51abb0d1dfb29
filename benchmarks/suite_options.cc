#include "benchmarks/suite_options.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmarks/preset_files.h"
#include "benchmarks/preset_json.h"
#include "benchmarks/ptb_settings.h"
#include "common/status_macros.h"
#include "models/zaremba.h"
#include "pruning/method.h"
#include "torch/cuda.h"

namespace rnnprune {
namespace {

// The index of the first repeat in `list` (list.size() when none).
size_t FirstRepeat(const std::vector<std::string>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (std::find(list.begin(), list.begin() + i, list[i]) != list.begin() + i) return i;
  }
  return list.size();
}

// Threads, input files, device.
absl::Status ValidateMachine(const SuiteOptions& o) {
  if (o.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--threads=", o.threads, " must be >= 1"));
  }
  // More threads than cores only slows the job down; far more stalls the machine.
  const int cores = MachineCores();
  if (o.threads > kMaxThreadsPerCore * cores) {
    return absl::InvalidArgumentError(absl::StrCat("--threads=", o.threads, " must be at most ",
                                                   kMaxThreadsPerCore, " x the machine's ", cores,
                                                   " cores"));
  }
  for (const auto& [flag, path] :
       {std::pair<const char*, const std::string&>{"squad_train", o.squad_train},
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
  return absl::OkStatus();
}

// --methods names registered methods once each; --settings names methods that run; every
// target-size method has a source of sizes.
absl::Status ValidateMethodList(const SuiteOptions& o, const Preset& preset) {
  for (const std::string& m : o.methods) {
    absl::Status known = GetPruningMethodInfo(m).status();
    if (!known.ok())
      return absl::InvalidArgumentError(absl::StrCat("--methods: ", known.message()));
  }
  if (size_t i = FirstRepeat(o.methods); i < o.methods.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--methods: '", o.methods[i], "' is listed twice"));
  }
  const std::vector<std::string> run = MethodsToRun(o, preset);
  // Methods whose kept sizes are the size-taking methods' default targets (L0), and whether
  // one of them runs.
  std::vector<std::string> sources;
  for (const std::string& m : RegisteredPruningMethods()) {
    absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
    if (info.ok() && info->sizes_are_targets) sources.push_back(m);
  }
  const bool runs_source = std::any_of(run.begin(), run.end(), [&](const std::string& m) {
    return std::find(sources.begin(), sources.end(), m) != sources.end();
  });
  for (const auto& [m, values] : o.settings) {
    if (std::find(run.begin(), run.end(), m) == run.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--settings: '", m, "' is not among the methods run (",
                       absl::StrJoin(run, ","), "); add it to --methods"));
    }
    if (size_t i = FirstRepeat(values); i < values.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--settings: ", m, "=", values[i], " is given twice"));
    }
  }
  for (const std::string& m : run) {
    absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
    if (!info.ok() || info->setting != SettingKind::kTargetSizes) continue;
    if (CommandLineSettings(o, m, *info).empty() && preset.settings.count(m) == 0 &&
        preset.target_sizes.empty() && !runs_source) {
      return absl::InvalidArgumentError(
          absl::StrCat("--methods: '", m,
                       "' takes target sizes, and there is no source for them: give "
                       "--settings=",
                       m, "=E:H1:H2 or run one of ", absl::StrJoin(sources, ", "),
                       " too (their sizes are the default)"));
    }
  }
  return absl::OkStatus();
}

// Parses `values` (settings of method `m`, from `flag`) and range-checks them against every
// config of the preset, so that a typo fails before hours of training.
absl::Status ValidateSettingValues(const SuiteOptions& o, const Preset& preset,
                                   const std::string& flag, const std::string& m,
                                   const std::vector<std::string>& values) {
  ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(m));
  if (info.setting == SettingKind::kNone) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": method '", m, "' takes no setting"));
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
      mo.given_options = o.method_flags;
      ok = CreatePruningMethod(m, mo).status();
      if (!ok.ok()) {
        ok = absl::InvalidArgumentError(absl::StrCat(ok.message(), " (config ", config_name, ")"));
      }
    }
    if (!ok.ok()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", ok.message()));
  }
  return absl::OkStatus();
}

absl::Status ValidateSettings(const SuiteOptions& o, const Preset& preset) {
  for (const auto& [m, values] : o.settings) {
    absl::Status known = GetPruningMethodInfo(m).status();
    if (!known.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--settings: ", known.message()));
    }
    if (values.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--settings: no value for '", m, "'"));
    }
    RETURN_IF_ERROR(ValidateSettingValues(o, preset, "settings", m, values));
  }
  return absl::OkStatus();
}

// Every method flag is declared by a registered method, and its value passes the declaring
// method's rule; a settings flag's values are valid settings of every method it serves.
absl::Status ValidateMethodFlags(const SuiteOptions& o, const Preset& preset) {
  std::set<std::string> settings_flags;
  for (const std::string& f : RegisteredSettingsFlags()) settings_flags.insert(f);
  std::map<std::string, MethodOptionSpec> specs;
  for (MethodOptionSpec& s : RegisteredMethodOptions()) specs.emplace(s.flag, std::move(s));
  for (const auto& [flag, text] : o.method_flags) {
    if (auto it = specs.find(flag); it != specs.end()) {
      RETURN_IF_ERROR(it->second.parse(text).status());
      continue;
    }
    if (settings_flags.count(flag) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": no registered pruning method declares this option"));
    }
    for (const std::string& m : RegisteredPruningMethods()) {
      ASSIGN_OR_RETURN(PruningMethodInfo info, GetPruningMethodInfo(m));
      if (info.settings_flag != flag) continue;
      if (o.settings.count(m) > 0) continue;  // --settings wins
      RETURN_IF_ERROR(ValidateSettingValues(o, preset, flag, m, CommandLineSettings(o, m, info)));
    }
  }
  return absl::OkStatus();
}

// The split flags that can be judged before the data is read (titles are checked against it).
absl::Status ValidateSquadSplitFlags(const SuiteOptions& o) {
  const SquadSplitSpec& s = o.squad_split;
  if (o.squad_fold_given && (s.fold < 0 || s.fold >= kSquadLocalFolds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--squad_fold=", s.fold, " must be in [0, ", kSquadLocalFolds, ")"));
  }
  if (o.squad_fold_given && !s.eval_titles.empty()) {
    return absl::InvalidArgumentError(
        "--squad_fold and --squad_eval_titles both choose the evaluation articles: give one");
  }
  if (!o.squad_train.empty() && (o.squad_fold_given || !s.eval_titles.empty())) {
    return absl::InvalidArgumentError(
        "--squad_fold and --squad_eval_titles choose the local protocol's evaluation articles; "
        "with --squad_train the official protocol evaluates on the whole dev set");
  }
  if (!o.squad_word_vocabulary.empty() && o.squad_word_vocabulary != "train" &&
      o.squad_word_vocabulary != "all") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--squad_word_vocabulary='", o.squad_word_vocabulary, "' must be 'train' or 'all'"));
  }
  for (const std::vector<std::string>* list : {&s.eval_titles, &s.validation_titles}) {
    for (const std::string& t : *list) {
      if (t.empty()) {
        return absl::InvalidArgumentError(
            "--squad_eval_titles / --squad_validation_titles: a title is empty (a stray comma?)");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

int MachineCores() { return std::max(1u, std::thread::hardware_concurrency()); }

const std::vector<std::string>& SuiteTaskNames() {
  static const auto* names = new std::vector<std::string>{"ptb", "squad", "speed"};
  return *names;
}

absl::Status ValidatePresetAndTasks(const SuiteOptions& o) {
  if (o.config_path.empty()) RETURN_IF_ERROR(GetPresetJson(o.preset).status());
  const std::vector<std::string>& known = SuiteTaskNames();
  const std::string available = absl::StrJoin(known, ", ");
  if (o.tasks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--tasks is empty: list some of ", available));
  }
  for (const std::string& t : o.tasks) {
    if (std::find(known.begin(), known.end(), t) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tasks: unknown task '", t, "' (available: ", available, ")"));
    }
  }
  if (size_t i = FirstRepeat(o.tasks); i < o.tasks.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--tasks: '", o.tasks[i], "' is listed twice"));
  }
  return absl::OkStatus();
}

namespace {

// The flags that depend on the preset, checked against one point of it.
absl::Status ValidatePresetPoint(const SuiteOptions& o, const Preset& preset) {
  RETURN_IF_ERROR(ValidateMethodList(o, preset));
  RETURN_IF_ERROR(ValidateSettings(o, preset));
  RETURN_IF_ERROR(ValidateMethodFlags(o, preset));
  if (!o.dense_checkpoint.empty() && preset.configs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dense_checkpoint: preset ", o.preset, " trains ", preset.configs.size(),
                     " configs; a single checkpoint can only stand for a one-config preset"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::json> ResolvePresetJson(const SuiteOptions& o) {
  ASSIGN_OR_RETURN(nlohmann::json j,
                   o.config_path.empty() ? GetPresetJson(o.preset) : LoadPresetJson(o.config_path));
  // The older single-field flags first, so that a --set of the same field wins.
  std::vector<std::string> overrides;
  if (o.recovery_learning_rate > 0) {
    overrides.push_back(absl::StrCat("recovery_learning_rate=", o.recovery_learning_rate));
  }
  if (!o.squad_word_vocabulary.empty()) {
    overrides.push_back(absl::StrCat("squad_word_vocabulary=", o.squad_word_vocabulary));
  }
  overrides.insert(overrides.end(), o.preset_overrides.begin(), o.preset_overrides.end());
  RETURN_IF_ERROR(ApplyPresetOverridesToJson(overrides, &j));
  return j;
}

absl::StatusOr<std::vector<PresetPoint>> ResolvePresetPoints(const SuiteOptions& o) {
  ASSIGN_OR_RETURN(const nlohmann::json j, ResolvePresetJson(o));
  absl::StatusOr<std::vector<PresetPoint>> points = ExpandPresetSweeps(j);
  if (!points.ok()) {
    const std::string source =
        o.config_path.empty() ? absl::StrCat("preset ", o.preset) : o.config_path;
    const std::string sets =
        o.preset_overrides.empty()
            ? ""
            : absl::StrCat(" with --set ", absl::StrJoin(o.preset_overrides, " --set "));
    return absl::InvalidArgumentError(absl::StrCat(source, sets, ": ", points.status().message()));
  }
  return points;
}

absl::StatusOr<Preset> ResolvePreset(const SuiteOptions& o) {
  ASSIGN_OR_RETURN(std::vector<PresetPoint> points, ResolvePresetPoints(o));
  if (points.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("the preset sweeps ", points.size(), " points (",
                                                   SweepLabel(points.front().swept),
                                                   ", ...): one preset was expected here"));
  }
  return std::move(points.front().preset);
}

absl::Status ValidateSuiteOptions(const SuiteOptions& o) {
  RETURN_IF_ERROR(ValidatePresetAndTasks(o));
  RETURN_IF_ERROR(ValidateMachine(o));
  RETURN_IF_ERROR(ValidateSquadSplitFlags(o));  // names the flags before the preset does
  ASSIGN_OR_RETURN(const std::vector<PresetPoint> points, ResolvePresetPoints(o));
  for (const PresetPoint& point : points) {
    for (const auto& [field, value] : point.swept.items()) {
      if (field.rfind("speed_", 0) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "preset field '", field,
            "' is swept: the speed task times one set of shapes per "
            "job (once, at a sweep's first point); run one preset per speed setting instead"));
      }
    }
    absl::Status s = ValidatePresetPoint(o, point.preset);
    if (!s.ok() && !point.swept.empty()) {
      return absl::Status(s.code(),
                          absl::StrCat("sweep point ", SweepLabel(point.swept), ": ", s.message()));
    }
    RETURN_IF_ERROR(s);
  }
  if (o.reports_dir.empty() || o.output_dir.empty()) {
    return absl::InvalidArgumentError("--reports_dir and --output_dir must not be empty");
  }
  if (!std::isfinite(o.recovery_learning_rate) || o.recovery_learning_rate < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--recovery_learning_rate=", o.recovery_learning_rate,
                     " must be finite and >= 0 (0: the preset's)"));
  }
  if (o.checkpoint_every_steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--checkpoint_every_steps=", o.checkpoint_every_steps, " must be >= 1"));
  }
  return absl::OkStatus();
}

}  // namespace rnnprune
