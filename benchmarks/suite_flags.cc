#include "benchmarks/suite_flags.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "benchmarks/preset_json.h"
#include "common/data_dir.h"
#include "common/status_macros.h"

namespace {
// Every flag's default is the SuiteOptions field's: declared once, in suite_options.h.
const rnnprune::SuiteOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, preset, kDefaults.preset,
          "the preset (listed above; README.md gives budgets)");
ABSL_FLAG(std::string, config, "",
          "a preset file (JSON with every field of a preset, comments allowed; see "
          "--print_config) instead of --preset; its \"name\" names the results files");
ABSL_FLAG(bool, print_config, false,
          "print the resolved preset (--preset or --config, then --set) as JSON and exit: a "
          "starting point for a file of your own");
ABSL_FLAG(std::vector<std::string>, tasks, kDefaults.tasks,
          "comma-separated tasks, run in this order: ptb (train, prune, evaluate; reports/ptb.md), "
          "squad (BiDAF on SQuAD v1.1, official protocol with --squad_train, else the local one; "
          "reports/squad.md), speed (Google Benchmark of every inference engine on every shape of "
          "benchmarks/speed_shapes.json, incl. the compacted runs of ptb; reports/speed.md)");
ABSL_FLAG(std::string, squad_train, "",
          "train-v1.1.json: task squad then runs the official protocol (train on it, evaluate on "
          "dev); default: the local protocol (dev articles only, split by article)");
ABSL_FLAG(std::vector<std::string>, squad_eval_titles, {},
          "local protocol: comma-separated titles of the dev articles to evaluate on (the others "
          "are trained on); default: those of --squad_fold");
ABSL_FLAG(int, squad_fold, -1,
          "local protocol: evaluate on the dev articles at file positions i with i % 5 == FOLD "
          "(0..4); default 4, every fifth article from the fifth");
ABSL_FLAG(std::vector<std::string>, squad_validation_titles, {},
          "comma-separated titles of the training articles held out for validation (the "
          "per-epoch curve and every choice made on it); default: the last training article and "
          "every 8th before it");
ABSL_FLAG(std::string, squad_word_vocabulary, "",
          "train | all: BiDAF's words are those of the training articles (others are <unk>) or "
          "of every split (each its own row; rows of words absent from training are never "
          "updated); default: the preset's");
ABSL_FLAG(std::string, glove, "",
          "GloVe vectors (.txt or .txt.gz) for task squad, of the preset's word dimension; "
          "default: <data_dir>/glove/glove.6B.<dim>d.txt(.gz), else the shared 100-word sample; "
          "'none': random word embeddings");
ABSL_FLAG(std::string, data_dir, "",
          "data folder holding ptb/, squad/ and glove/ (default: $RNNPRUNE_DATA, else "
          "../shared/data)");
ABSL_FLAG(bool, verify_checksums, kDefaults.verify_checksums,
          "require the canonical PTB files and SQuAD dev-v1.1.json (SHA-256)");
ABSL_FLAG(std::string, reports_dir, "",
          "where results/ and *.md go (default: <workspace>/reports)");
ABSL_FLAG(std::string, output_dir, "", "where checkpoints go (default: <workspace>/runs)");
ABSL_FLAG(std::string, dense_checkpoint, "",
          "prune this trained dense checkpoint (a .pt written by an earlier run; its config must "
          "be the preset's) instead of training the dense model first");
ABSL_FLAG(int, threads, kDefaults.threads,
          "intra-op threads for LibTorch and OpenBLAS (default: all cores)");
ABSL_FLAG(int, seed, kDefaults.seed,
          "seed of every random number (same seed + 1 thread = same numbers); given, it is "
          "--set seed=N (the preset's seed field, 1 in the built-in presets)");
ABSL_FLAG(bool, render_only, false,
          "only re-render the reports of --tasks from reports/results/ (ptb_*.jsonl, "
          "squad_*.json, speed_<preset>.json); train and measure nothing");
ABSL_FLAG(bool, force, kDefaults.force,
          "recompute every run; by default, finished runs whose config hash matches a record of "
          "the preset's results file are re-used, and an interrupted run resumes from its "
          "training checkpoint (<output_dir>/*.train.ckpt)");
ABSL_FLAG(int64_t, checkpoint_every_steps, kDefaults.checkpoint_every_steps,
          "training checkpoints every this many steps (and at each epoch end), > 0");
ABSL_FLAG(std::string, device, kDefaults.device,
          "cpu | cuda (cuda needs a CUDA build of LibTorch)");
ABSL_FLAG(std::vector<std::string>, methods, {},
          "comma-separated pruning methods to run after the dense model (default: the preset's "
          "list, i.e. every registered method; see baselines/README.md): dense (the control: "
          "same budget, no pruning) and the others listed above");
ABSL_FLAG(std::vector<std::string>, settings, {},
          "per-method settings, METHOD=V1/V2/..., comma-separated, e.g. "
          "iss=1000/3000,magnitude=0.9,random=40:200:100 (lambdas, sparsities in [0, 1), or "
          "target sizes E:H1:H2 or E:I2:H1:H2); default: the preset's, else each method's "
          "registered defaults; target-size methods default to the sizes the L0 runs reached. "
          "Every lambda is per epoch of training tokens: lambda * R / "
          "N is added to the mean NLL per token (nats), N = the training tokens of one epoch "
          "(Louizos et al. 2018, Eq. 3), so a setting keeps its meaning across data and presets");
ABSL_FLAG(bool, evaluate_test, kDefaults.evaluate_test,
          "evaluate the test split (ptb) and the evaluation articles (squad); --noevaluate_test "
          "for sweeps that choose settings on the valid split or the validation part (their "
          "records hold no test perplexity, no exact match or F1 of the evaluation articles)");
ABSL_FLAG(double, recovery_learning_rate, 0,
          "> 0: the recovery phase's constant learning rate instead of the preset's (for a "
          "sweep that chooses it on the valid split, with --noevaluate_test); 0: the preset's");
namespace rnnprune {
namespace {

// --settings=METHOD=V1/V2,... as a map from method to its values.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseSettingsFlag(
    const std::vector<std::string>& entries) {
  std::map<std::string, std::vector<std::string>> settings;
  for (const std::string& entry : entries) {
    std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--settings: '", entry, "' must be METHOD=V1/V2/..."));
    }
    if (settings.count(kv[0]) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--settings: '", kv[0], "' is given twice; list its values as ", kv[0], "=V1/V2"));
    }
    settings[kv[0]] = absl::StrSplit(kv[1], '/');
  }
  return settings;
}

// Whether the command line `given` sets --NAME (as --NAME=V, --NAME V, -NAME=V or -NAME V).
bool FlagGiven(const std::vector<std::string>& given, const std::string& name) {
  for (const std::string& arg : given) {
    if (arg == "--") return false;
    for (const std::string& prefix : {"--" + name, "-" + name}) {
      if (arg == prefix || absl::StartsWith(arg, prefix + "=")) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<SuiteOptions> SuiteOptionsFromFlags(std::map<std::string, std::string> method_flags,
                                                   const std::vector<std::string>& given) {
  SuiteOptions o;
  o.preset = absl::GetFlag(FLAGS_preset);
  o.config_path = ResolveUserPath(absl::GetFlag(FLAGS_config));
  if (!o.config_path.empty()) {  // the file's name stands for the preset's in file names
    ASSIGN_OR_RETURN(const nlohmann::json from_file, LoadPresetJson(o.config_path));
    if (!from_file.is_object() || !from_file.contains("name") || !from_file["name"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--config=", o.config_path,
          ": the file must hold an object with \"name\": \"...\" (it names the results files)"));
    }
    o.preset = from_file["name"].get<std::string>();
  }
  o.tasks = absl::GetFlag(FLAGS_tasks);
  o.verify_checksums = absl::GetFlag(FLAGS_verify_checksums);
  const std::string root = WorkspaceRoot();
  o.reports_dir = ResolveUserPath(absl::GetFlag(FLAGS_reports_dir));
  if (o.reports_dir.empty()) o.reports_dir = root + "/reports";
  o.output_dir = ResolveUserPath(absl::GetFlag(FLAGS_output_dir));
  if (o.output_dir.empty()) o.output_dir = root + "/runs";
  o.dense_checkpoint = ResolveUserPath(absl::GetFlag(FLAGS_dense_checkpoint));
  o.threads = absl::GetFlag(FLAGS_threads);
  if (o.threads == 0) o.threads = MachineCores();
  o.seed = absl::GetFlag(FLAGS_seed);
  // --seed=N is --set seed=N (before every --set, which may override it again).
  if (FlagGiven(given, "seed")) {
    o.preset_overrides.push_back(absl::StrCat("seed=", o.seed));
  }
  o.device = absl::GetFlag(FLAGS_device);
  o.method_flags = std::move(method_flags);
  o.methods = absl::GetFlag(FLAGS_methods);
  ASSIGN_OR_RETURN(o.settings, ParseSettingsFlag(absl::GetFlag(FLAGS_settings)));
  o.evaluate_test = absl::GetFlag(FLAGS_evaluate_test);
  o.recovery_learning_rate = absl::GetFlag(FLAGS_recovery_learning_rate);
  o.force = absl::GetFlag(FLAGS_force);
  o.checkpoint_every_steps = absl::GetFlag(FLAGS_checkpoint_every_steps);
  o.squad_train = ResolveUserPath(absl::GetFlag(FLAGS_squad_train));
  o.squad_split.eval_titles = absl::GetFlag(FLAGS_squad_eval_titles);
  o.squad_split.validation_titles = absl::GetFlag(FLAGS_squad_validation_titles);
  o.squad_word_vocabulary = absl::GetFlag(FLAGS_squad_word_vocabulary);
  const int fold = absl::GetFlag(FLAGS_squad_fold);
  o.squad_fold_given = fold != -1;
  if (o.squad_fold_given) o.squad_split.fold = fold;
  o.glove = absl::GetFlag(FLAGS_glove);
  if (o.glove != "none") o.glove = ResolveUserPath(o.glove);
  o.source_dir = root;
  o.command = absl::StrCat("bazel run -c opt //benchmarks:all", given.empty() ? "" : " -- ",
                           absl::StrJoin(given, " "));
  return o;
}

bool RenderOnlyRequested() { return absl::GetFlag(FLAGS_render_only); }

bool PrintConfigRequested() { return absl::GetFlag(FLAGS_print_config); }

std::string DataDirFlag() { return ResolveUserPath(absl::GetFlag(FLAGS_data_dir)); }

}  // namespace rnnprune
