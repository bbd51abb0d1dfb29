// The main job behind `bazel run //benchmarks:all`: trains and evaluates every run of a preset,
// writes one JSON line per run under <reports_dir>/results/ and renders the Markdown reports.
#ifndef RNNPRUNE_BENCHMARKS_SUITE_H_
#define RNNPRUNE_BENCHMARKS_SUITE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Options of RunSuite (filled from flags by benchmarks/all.cc).
struct SuiteOptions {
  std::string preset = "default";
  std::vector<std::string> tasks = {"ptb", "squad", "speed"};  // run in this order
  std::string data_dir;     // folder holding ptb/ and squad/
  // Task squad: train-v1.1.json (the official protocol; empty: the local protocol on the dev
  // set) and GloVe vectors (empty: random word embeddings).
  std::string squad_train;
  std::string glove;
  bool verify_checksums = true;
  std::string reports_dir;  // results/ and *.md are written here
  std::string output_dir;   // checkpoints of trained models
  // When set, the dense parent is loaded from this checkpoint instead of being trained (its
  // config must be the preset's); the pruning methods then fine-tune it.
  std::string dense_checkpoint;
  int threads = 0;          // > 0
  int seed = 1;
  std::string device = "cpu";  // "cpu" or "cuda"
  // Pruning methods to run (names in the registry of pruning/method.h; empty = the preset's
  // list, else every registered method) and per-method settings as given on the command line
  // (numbers for lambda/sparsity methods, "E:H1:...:HL" for target-size methods).
  std::vector<std::string> methods;
  std::map<std::string, std::vector<std::string>> settings;
  double zero_threshold = 1e-4;  // Lasso-type methods: |w| below it is set to 0 after each step
  // L0 neuron selection (l0, l0_speed). Empty l0_lambdas = the preset's list. Each lambda is
  // the hidden gates', per epoch of training tokens (pruning/method.h PenaltyScale); the
  // embedding gates get lambda * l0_embedding_lambda_ratio, the input gates of layers 2..L
  // lambda * l0_input_lambda_ratio. log_alpha is trained by Adam at l0_gate_learning_rate.
  std::vector<double> l0_lambdas;
  double l0_embedding_lambda_ratio = 1.0;
  double l0_input_lambda_ratio = 1.0;
  double l0_init_keep = 0.95;           // initial keep probability of every gate, in (0, 1)
  double l0_gate_learning_rate = 0.5;  // > 0
  std::string l0_mode = "finetune";     // "finetune" (from the dense checkpoint) or "scratch"
  // False: no test perplexity is computed or recorded (sweeps that choose settings on the
  // valid split never see the test split).
  bool evaluate_test = true;
  // Reuse and resume (see RunSuite): false re-uses finished runs whose config hash matches a
  // record of the results file and resumes interrupted ones from their training checkpoints;
  // true recomputes everything.
  bool force = false;
  int64_t checkpoint_every_steps = 200;  // training checkpoints (and at every epoch end), > 0
  std::string source_dir;   // git checkout recorded in the results
  std::string command;      // the command line, recorded in the results
  std::function<void(const std::string&)> log;  // progress lines (stderr when empty)
};

// Checks every option before any work starts. Errors: InvalidArgument naming the flag and the
// rule (unknown preset, task or method; a --squad_train or --glove file that does not exist; threads < 1; device not cpu/cuda; a --settings entry
// for an unknown method, with no value, unparsable, out of range for any config of the preset,
// or given to a method that takes none; negative lambda, ratio or zero threshold; keep
// probability outside (0, 1); unknown L0 mode; --dense_checkpoint with a multi-config preset;
// empty output folders); FailedPrecondition for --device=cuda on a LibTorch built without
// CUDA; Unimplemented for --device=cuda on a CUDA build (the fused layer is CPU-only).
absl::Status ValidateSuiteOptions(const SuiteOptions& options);

// The part of ValidateSuiteOptions that --render_only needs: a known preset, and a non-empty
// list of known tasks without repeats. Errors: InvalidArgument naming the flag and the rule.
absl::Status ValidatePresetAndTasks(const SuiteOptions& options);

// Runs the preset. For task "ptb", each Zaremba config of the preset is trained from scratch
// (seeded with options.seed) and saved to <output_dir>/ptb_<preset>_<config>_dense.pt, or
// loaded from options.dense_checkpoint, then evaluated on valid and test (batch 1, BPTT 35,
// state carried). Then every method (options.methods, else the preset's list, else every
// registered method; size-taking methods last), at each of its settings (--settings, else
// --l0_lambdas for l0 and l0_speed, else the preset's, else for size-taking methods the sizes
// this config's L0 runs reached, else the registered defaults), is run on that checkpoint with
// the pruning protocol (pruning/protocol.h: the preset's search and recovery phases, the same
// for every method). Structured results are compacted (checked against the gated model on the
// first 5,000 valid tokens before the recovery phase), unstructured ones also converted to CSR
// (checked likewise against the dense model with zeros); each is evaluated, exported to
// <output_dir>/ptb_<preset>_<config>_<method>_<setting>.pt and .json (':' in the setting
// becomes '-') and timed side by side with the dense parent. Writes
// <reports_dir>/results/ptb_<preset>.jsonl after every run (MergeResults: this invocation's
// records, then the earlier ones it has not re-run) and re-renders <reports_dir>/ptb.md from all result files. Returns the run records.
// Reuse and resume: every PTB record carries "config_hash" (common/config_hash.h) over what
// determines its numbers (preset, config, schedule, method, setting, flags that change training,
// seed, the data's SHA-256 and, for methods, the dense parent's hash). Unless options.force, a
// run whose hash matches a record of the preset's existing results file, and whose checkpoint
// is still there, is not recomputed: the record is re-used (marked "reused": true). Every
// training run writes a training checkpoint (<output_dir>/<run>.train.ckpt, the squad task's
// <output_dir>/squad_<preset>.train.ckpt, every checkpoint_every_steps steps and at each epoch
// end, atomically) and resumes from it, so a killed suite continues where it stopped; the
// checkpoint is removed once its run is exported (squad: once its record is written).
// The output and results folders are locked (<folder>/.lock, flock) while the suite runs.
// Errors: bad options, missing or corrupt data, training divergence, a pruned model that does
// not match its reference, unwritable outputs; FailedPrecondition when another run holds the
// folders.
absl::StatusOr<std::vector<nlohmann::json>> RunSuite(const SuiteOptions& options);

// The records a PTB results file holds after a run: `current` (this invocation's records, in
// order), then the records of `earlier` (the file as the invocation found it) that `current`
// does not supersede, so that a killed suite, or one run on part of a preset (--methods=...),
// loses no finished record. A record is superseded by one of `current` for the same run (Zaremba
// config, method, setting, seed; dense parent or not), whatever their config hashes; an earlier
// method record whose "parent_config_hash" names no dense record of the result is dropped (its
// parent was re-trained differently).
std::vector<nlohmann::json> MergeResults(const std::vector<nlohmann::json>& current,
                                         const std::vector<nlohmann::json>& earlier);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SUITE_H_
