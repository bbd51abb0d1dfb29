// The main job: `bazel run -c opt //benchmarks:all -- [--preset=default] [--threads=N] ...`.
// Trains and evaluates every run of the preset on real data and writes reports/ (see README.md).
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "benchmarks/presets.h"
#include "benchmarks/suite.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "reports/results.h"
#include "reports/speed_report.h"
#include "reports/squad_report.h"

ABSL_FLAG(std::string, preset, "default",
          "smoke | quick | default | small | paper (see README.md for budgets)");
ABSL_FLAG(std::vector<std::string>, tasks, std::vector<std::string>({"ptb", "squad", "speed"}),
          "comma-separated tasks, run in this order: ptb (train, prune, evaluate; reports/ptb.md), "
          "squad (BiDAF on SQuAD v1.1, official protocol with --squad_train, else the local one; "
          "reports/squad.md), speed (Google Benchmark of every inference engine on every shape of "
          "benchmarks/speed_shapes.json, incl. the compacted runs of ptb; reports/speed.md)");
ABSL_FLAG(std::string, squad_train, "",
          "train-v1.1.json: task squad then runs the official protocol (train on it, evaluate on "
          "dev); default: the local protocol (dev articles only, split by article)");
ABSL_FLAG(std::string, glove, "",
          "GloVe vectors (.txt or .txt.gz) for task squad, of the preset's word dimension; "
          "default: <data_dir>/glove/glove.6B.<dim>d.txt(.gz), else the shared 100-word sample; "
          "'none': random word embeddings");
ABSL_FLAG(std::string, data_dir, "",
          "data folder holding ptb/, squad/ and glove/ (default: $RNNPRUNE_DATA, else "
          "../shared/data)");
ABSL_FLAG(bool, verify_checksums, true,
          "require the canonical PTB files and SQuAD dev-v1.1.json (SHA-256)");
ABSL_FLAG(std::string, reports_dir, "", "where results/ and *.md go (default: <workspace>/reports)");
ABSL_FLAG(std::string, output_dir, "", "where checkpoints go (default: <workspace>/runs)");
ABSL_FLAG(std::string, dense_checkpoint, "",
          "prune this trained dense checkpoint (a .pt written by an earlier run; its config must "
          "be the preset's) instead of training the dense model first");
ABSL_FLAG(int, threads, 0, "intra-op threads for LibTorch and OpenBLAS (default: all cores)");
ABSL_FLAG(int, seed, 1, "seed of every random number (same seed + 1 thread = same numbers)");
ABSL_FLAG(bool, render_only, false,
          "only re-render the reports of --tasks from reports/results/ (ptb_*.jsonl, "
          "squad_*.json, speed_<preset>.json); train and measure nothing");
ABSL_FLAG(bool, force, false,
          "recompute every run; by default, finished runs whose config hash matches a record of "
          "the preset's results file are re-used, and an interrupted run resumes from its "
          "training checkpoint (<output_dir>/*.train.ckpt)");
ABSL_FLAG(int64_t, checkpoint_every_steps, 200,
          "training checkpoints every this many steps (and at each epoch end), > 0");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda (cuda needs a CUDA build of LibTorch)");
ABSL_FLAG(std::vector<std::string>, methods, {},
          "comma-separated pruning methods to run after the dense model (default: the preset's "
          "list, i.e. every registered method; see baselines/README.md): dense (the control: "
          "same budget, no pruning), l0, l0_speed, iss, lasso, magnitude, structured_magnitude, "
          "random, ...");
ABSL_FLAG(std::vector<std::string>, settings, {},
          "per-method settings, METHOD=V1/V2/..., comma-separated, e.g. "
          "iss=1000/3000,magnitude=0.9,random=40:200:100 (lambdas, sparsities in [0, 1), or "
          "target sizes E:H1:H2 or E:I2:H1:H2); default: the preset's, else each method's "
          "registered defaults; target-size methods default to the sizes the L0 runs reached. "
          "Every lambda (l0, l0_speed, iss, lasso) is per epoch of training tokens: lambda * R / "
          "N is added to the mean NLL per token (nats), N = the training tokens of one epoch "
          "(Louizos et al. 2018, Eq. 3), so a setting keeps its meaning across data and presets");
ABSL_FLAG(double, zero_threshold, 1e-4,
          "ISS group Lasso and L1 Lasso: weights with |w| below this are set to 0 after each "
          "step (Wen et al. 2018)");
ABSL_FLAG(std::vector<std::string>, l0_lambdas, {},
          "L0 neuron selection (l0, l0_speed): comma-separated lambdas of the hidden gates "
          "(default: the preset's list), per epoch of training tokens (see --settings)");
ABSL_FLAG(double, l0_embedding_lambda_ratio, 1.0,
          "lambda of the embedding gates (inputs of layer 1) = this * the hidden gates' lambda");
ABSL_FLAG(double, l0_input_lambda_ratio, 1.0,
          "lambda of the input gates of layers 2..L = this * the hidden gates' lambda");
ABSL_FLAG(double, l0_init_keep, 0.95,
          "initial keep probability of every gate, in (0, 1); 0.95 starts every gate open");
ABSL_FLAG(double, l0_gate_learning_rate, 0.5,
          "Adam's learning rate for the gates' log_alpha (Louizos et al. 2018; chosen on the "
          "valid split, README.md)");
ABSL_FLAG(bool, evaluate_test, true,
          "evaluate the test split; --noevaluate_test for sweeps that choose settings on the "
          "valid split (their records hold no test perplexity)");
ABSL_FLAG(std::string, l0_mode, "finetune",
          "finetune (from the dense checkpoint, gates open) | scratch (gates from step 1)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs rnnprune's main job: bazel run -c opt //benchmarks:all -- --preset=default");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    std::fprintf(stderr, "error: unexpected positional argument '%s'\n", args[1]);
    return 2;
  }
  rnnprune::SuiteOptions o;
  o.preset = absl::GetFlag(FLAGS_preset);
  o.tasks = absl::GetFlag(FLAGS_tasks);
  o.verify_checksums = absl::GetFlag(FLAGS_verify_checksums);
  const std::string root = rnnprune::WorkspaceRoot();
  o.reports_dir = rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_reports_dir));
  if (o.reports_dir.empty()) o.reports_dir = root + "/reports";
  o.output_dir = rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_output_dir));
  if (o.output_dir.empty()) o.output_dir = root + "/runs";
  o.dense_checkpoint = rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_dense_checkpoint));
  o.threads = absl::GetFlag(FLAGS_threads);
  if (o.threads == 0) o.threads = static_cast<int>(std::thread::hardware_concurrency());
  o.seed = absl::GetFlag(FLAGS_seed);
  o.device = absl::GetFlag(FLAGS_device);
  for (const std::string& v : absl::GetFlag(FLAGS_l0_lambdas)) {
    double d = 0;
    if (!absl::SimpleAtod(v, &d)) {
      std::fprintf(stderr, "error: --l0_lambdas: '%s' is not a number\n", v.c_str());
      return 2;
    }
    o.l0_lambdas.push_back(d);
  }
  o.methods = absl::GetFlag(FLAGS_methods);
  for (const std::string& entry : absl::GetFlag(FLAGS_settings)) {
    std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      std::fprintf(stderr, "error: --settings: '%s' must be METHOD=V1/V2/...\n", entry.c_str());
      return 2;
    }
    if (o.settings.count(kv[0]) > 0) {
      std::fprintf(stderr, "error: --settings: '%s' is given twice; list its values as %s=V1/V2\n",
                   kv[0].c_str(), kv[0].c_str());
      return 2;
    }
    o.settings[kv[0]] = absl::StrSplit(kv[1], '/');
  }
  o.zero_threshold = absl::GetFlag(FLAGS_zero_threshold);
  o.l0_embedding_lambda_ratio = absl::GetFlag(FLAGS_l0_embedding_lambda_ratio);
  o.l0_input_lambda_ratio = absl::GetFlag(FLAGS_l0_input_lambda_ratio);
  o.l0_init_keep = absl::GetFlag(FLAGS_l0_init_keep);
  o.l0_gate_learning_rate = absl::GetFlag(FLAGS_l0_gate_learning_rate);
  o.evaluate_test = absl::GetFlag(FLAGS_evaluate_test);
  o.l0_mode = absl::GetFlag(FLAGS_l0_mode);
  o.force = absl::GetFlag(FLAGS_force);
  o.checkpoint_every_steps = absl::GetFlag(FLAGS_checkpoint_every_steps);
  o.squad_train = rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_squad_train));
  o.glove = absl::GetFlag(FLAGS_glove);
  if (o.glove != "none") o.glove = rnnprune::ResolveUserPath(o.glove);
  o.source_dir = root;
  std::vector<std::string> given(argv + 1, argv + argc);
  o.command = absl::StrCat("bazel run -c opt //benchmarks:all",
                           given.empty() ? "" : " -- ", absl::StrJoin(given, " "));
  if (absl::GetFlag(FLAGS_render_only)) {
    if (absl::Status valid = rnnprune::ValidatePresetAndTasks(o); !valid.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(valid.message()).c_str());
      return 2;
    }
    // Not while a job writes the same results.
    absl::StatusOr<rnnprune::FileLock> lock = rnnprune::LockFile(
        o.reports_dir + "/results/.lock", absl::StrCat("folder ", o.reports_dir, "/results"));
    if (!lock.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(lock.status().message()).c_str());
      return 1;
    }
    const bool ptb = std::find(o.tasks.begin(), o.tasks.end(), "ptb") != o.tasks.end();
    const bool speed = std::find(o.tasks.begin(), o.tasks.end(), "speed") != o.tasks.end();
    const bool squad = std::find(o.tasks.begin(), o.tasks.end(), "squad") != o.tasks.end();
    if (squad) {
      absl::Status rendered = rnnprune::RenderSquadReportFiles(o.reports_dir);
      if (absl::IsNotFound(rendered)) {
        std::fprintf(stderr, "note: %s; squad.md not re-rendered\n",
                     std::string(rendered.message()).c_str());
      } else if (!rendered.ok()) {
        std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
        return 1;
      } else {
        std::fprintf(stderr, "rendered %s/squad.md from %s/results\n", o.reports_dir.c_str(),
                     o.reports_dir.c_str());
      }
    }
    if (ptb) {
      absl::Status rendered = rnnprune::RenderPtbReportFiles(o.reports_dir);
      if (!rendered.ok()) {
        std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
        return 1;
      }
      std::fprintf(stderr, "rendered %s/ptb.md from %s/results\n", o.reports_dir.c_str(),
                   o.reports_dir.c_str());
    }
    if (speed) {
      absl::Status rendered = rnnprune::RerenderSpeedReport(o.preset, o.reports_dir);
      if (absl::IsNotFound(rendered)) {
        std::fprintf(stderr, "note: %s; speed.md not re-rendered\n",
                     std::string(rendered.message()).c_str());
        return 0;
      }
      if (!rendered.ok()) {
        std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
        return 1;
      }
      std::fprintf(stderr, "rendered %s/speed.md from %s/results/speed_%s.json\n",
                   o.reports_dir.c_str(), o.reports_dir.c_str(), o.preset.c_str());
    }
    return 0;
  }
  // Validate every flag before touching data.
  absl::Status valid = rnnprune::ValidateSuiteOptions(o);
  if (!valid.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(valid.message()).c_str());
    return 2;
  }
  if (std::find(o.tasks.begin(), o.tasks.end(), "ptb") != o.tasks.end() ||
      std::find(o.tasks.begin(), o.tasks.end(), "squad") != o.tasks.end()) {
    auto data_dir =
        rnnprune::ResolveDataDir(rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_data_dir)));
    if (!data_dir.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(data_dir.status().message()).c_str());
      return 2;
    }
    o.data_dir = *data_dir;
  }
  auto runs = rnnprune::RunSuite(o);
  if (!runs.ok()) {
    std::fprintf(stderr, "error: %s\n", runs.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "done: %zu runs; reports in %s\n", runs->size(), o.reports_dir.c_str());
  return 0;
}
