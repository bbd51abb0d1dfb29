// The main job's options (benchmarks/all.cc fills them from the command line), their validation,
// and what every task receives (TaskContext). The pruning methods' own options are not declared
// here: each method declares them in its own file (pruning/method_option.h) and they arrive,
// unnamed by this code, in SuiteOptions::method_flags.
#ifndef RNNPRUNE_BENCHMARKS_SUITE_OPTIONS_H_
#define RNNPRUNE_BENCHMARKS_SUITE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmarks/preset_sweep.h"
#include "benchmarks/presets.h"
#include "common/run_info.h"
#include "datasets/squad_split.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Options of RunSuite (benchmarks/suite.h).
struct SuiteOptions {
  // The preset's name: a built-in preset (benchmarks/presets/NAME.json), or with config_path the
  // name the file gives (it names the results files).
  std::string preset = "default";
  // --config: a preset file (benchmarks/preset_json.h LoadPresetFile) instead of a built-in.
  std::string config_path;
  std::vector<std::string> tasks = {"ptb", "squad", "speed"};  // run in this order
  std::string data_dir;                                        // folder holding ptb/ and squad/
  // Task squad: train-v1.1.json (the official protocol; empty: the local protocol on the dev
  // set) and GloVe vectors (empty: the first of <data_dir>/glove/glove.6B.<dim>d.txt.gz, .txt,
  // .first100.txt.gz that exists; "none": random word embeddings).
  std::string squad_train;
  // Task squad: how the articles are split into training, validation and evaluation ones
  // (--squad_eval_titles or --squad_fold, --squad_validation_titles; datasets/squad_split.h).
  SquadSplitSpec squad_split;
  bool squad_fold_given = false;  // --squad_fold was set (it cannot go with --squad_eval_titles)
  // Non-empty: the preset's squad_word_vocabulary is replaced ("train" or "all"; an experiment
  // choosing it on the validation part).
  std::string squad_word_vocabulary;
  std::string glove;
  bool verify_checksums = true;
  std::string reports_dir;  // results/ and *.md are written here
  std::string output_dir;   // checkpoints of trained models
  // When set, the dense parent is loaded from this checkpoint instead of being trained (its
  // config must be the preset's); the pruning methods then fine-tune it.
  std::string dense_checkpoint;
  int threads = 0;  // > 0
  // The seed of the runs: RunSuite sets it to each sweep point's preset seed (`--seed=N` is
  // `--set seed=N`); the tasks read it from here.
  int seed = 1;
  std::string device = "cpu";  // "cpu" or "cuda"
  // Pruning methods to run (names in the registry of pruning/method.h; empty = the preset's
  // list, else every registered method) and per-method settings as given on the command line
  // (numbers for lambda/sparsity methods, "E:H1:...:HL" for target-size methods).
  std::vector<std::string> methods;
  std::map<std::string, std::vector<std::string>> settings;
  // --FLAG=VALUE, as text, for every flag a registered method declares: its own options
  // (PruningMethodInfo::options, e.g. l0_init_keep) and settings flags (settings_flag, e.g.
  // l0_lambdas: comma-separated settings used when --settings gives none).
  std::map<std::string, std::string> method_flags;
  // False: no test perplexity, and no exact match or F1 of the SQuAD evaluation articles, is
  // computed or recorded (sweeps that choose settings on the valid split or the validation part
  // never see the test split or the evaluation articles).
  bool evaluate_test = true;
  // > 0: the recovery phase's learning rate instead of the preset's (a sweep choosing it on the
  // valid split; it enters every method run's config hash through its protocol). 0: the preset's.
  double recovery_learning_rate = 0;
  // --set FIELD=VALUE overrides of the preset's fields, in order (benchmarks/preset_json.h).
  // They enter the config hashes through the fields they change, so a re-run recomputes only
  // the runs an override affects.
  std::vector<std::string> preset_overrides;
  // Reuse and resume (see RunSuite): false re-uses finished runs whose config hash matches a
  // record of the results file and resumes interrupted ones from their training checkpoints;
  // true recomputes everything.
  bool force = false;
  int64_t checkpoint_every_steps = 200;  // training checkpoints (and at every epoch end), > 0
  std::string source_dir;                // git checkout recorded in the results
  std::string command;                   // the command line, recorded in the results
  std::function<void(const std::string&)> log;  // progress lines (stderr when empty)
};

class JobProgress;  // benchmarks/job_progress.h

// What every task of the suite receives: the validated options, the preset they name and the
// run's provenance (git commit, CPU, time).
struct TaskContext {
  SuiteOptions options;  // options.seed is the preset's seed; options.output_dir the point's
  Preset preset;
  // The resolved preset (benchmarks/preset_json.h PresetToJson of `preset`), written into every
  // record, and the swept fields' values at this point of a sweep (benchmarks/preset_sweep.h;
  // an empty object when nothing is swept), which records carry as `sweep_point`.
  nlohmann::json preset_config = nlohmann::json::object();
  nlohmann::json sweep_point = nlohmann::json::object();
  RunInfo run_info;
  JobProgress* progress = nullptr;  // "run k of N" and the ETA; not owned, may be null
};

// Logical cores of this machine (std::thread::hardware_concurrency, at least 1). --threads may be
// at most kMaxThreadsPerCore times that; above 1 times, the suite warns.
int MachineCores();
inline constexpr int kMaxThreadsPerCore = 4;

// The tasks of the suite, in the default order: "ptb", "squad", "speed".
const std::vector<std::string>& SuiteTaskNames();

// Checks every option before any work starts. Errors: InvalidArgument naming the flag and the
// rule (unknown preset, task or method; a --squad_train or --glove file that does not exist;
// --squad_fold outside [0, kSquadLocalFolds) or given with --squad_eval_titles, or either with
// --squad_train;
// threads < 1 or above kMaxThreadsPerCore x MachineCores(); device not cpu/cuda; a --settings entry
// for an unknown method, with no value, unparsable, out of range for any config of the preset, or
// given to a method that takes none; a method flag no registered method
// declares, or a value its declaring method's rule refuses; --dense_checkpoint with a multi-config
// preset; empty output folders); FailedPrecondition for --device=cuda on a LibTorch built without
// CUDA; Unimplemented for --device=cuda on a CUDA build (the fused layer is CPU-only).
absl::Status ValidateSuiteOptions(const SuiteOptions& options);

// The preset the options name as JSON (the file of config_path when set, else the built-in
// preset's file, benchmarks/preset_files.h), with their overrides applied in this order:
// --recovery_learning_rate, --squad_word_vocabulary, then every --set (benchmarks/preset_json.h).
// Swept fields still hold their lists: this is what --print_config prints and --config reads.
// Errors: InvalidArgument for an unknown preset or a malformed override; LoadPresetJson's.
absl::StatusOr<nlohmann::json> ResolvePresetJson(const SuiteOptions& options);

// ResolvePresetJson's preset expanded into its sweep points (benchmarks/preset_sweep.h; one
// point when nothing is swept), each a valid Preset. Errors: those of ResolvePresetJson and
// ExpandPresetSweeps, naming the preset (or file) and the --set overrides.
absl::StatusOr<std::vector<PresetPoint>> ResolvePresetPoints(const SuiteOptions& options);

// The one preset the options name (ResolvePresetPoints' only point). Errors: those of
// ResolvePresetPoints; InvalidArgument when the preset sweeps more than one point.
absl::StatusOr<Preset> ResolvePreset(const SuiteOptions& options);

// The part of ValidateSuiteOptions that --render_only needs: a known preset, and a non-empty
// list of known tasks without repeats. Errors: InvalidArgument naming the flag and the rule.
absl::Status ValidatePresetAndTasks(const SuiteOptions& options);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SUITE_OPTIONS_H_
