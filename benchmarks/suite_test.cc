#include "benchmarks/suite.h"

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "benchmarks/preset_files.h"
#include "benchmarks/preset_json.h"
#include "benchmarks/ptb_task.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reporting/results.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

SuiteOptions Smoke(const std::string& name) {
  SuiteOptions o;
  o.preset = "smoke";
  o.tasks = {"ptb"};  // the speed task has its own tests (speed_suite_test) and CI's smoke run
  o.threads = 1;
  o.preset_overrides = {"seed=7"};  // as --seed=7 does
  const std::string tmp = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  o.reports_dir = tmp + "/reports";
  o.output_dir = tmp + "/runs";
  o.command = "suite_test";
  o.log = [](const std::string&) {};
  return o;
}

TEST(Suite, RejectsBadOptionsByName) {
  SuiteOptions o = Smoke("bad");
  o.preset = "huge";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--preset='huge'"));
  o = Smoke("bad");
  o.threads = 0;
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--threads=0"));
  o.threads = 100000;  // used to start that many threads and stall the machine
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--threads=100000 must be at most 4 x the machine's"));
  o.threads = MachineCores();
  EXPECT_TRUE(ValidateSuiteOptions(o).ok());
  o = Smoke("bad");
  o.tasks = {"ptb", "mnist"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("unknown task 'mnist'"));
  o.tasks = {"speed", "ptb", "speed"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("'speed' is listed twice"));
  o = Smoke("bad");
  o.device = "tpu";
  EXPECT_FALSE(ValidateSuiteOptions(o).ok());
  o.device = "cuda";  // Debian's LibTorch has no CUDA: a clear message, not a crash
  absl::Status s = ValidateSuiteOptions(o);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("--device=cuda"));
  o = Smoke("bad");
  o.method_flags["l0_lambdas"] = "1e-4,-1e-5";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--l0_lambdas: l0: lambda=-1e-05 must be finite and >= 0"));
  o = Smoke("bad");
  o.recovery_learning_rate = -0.1;
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--recovery_learning_rate=-0.1 must be finite and >= 0"));
  o.recovery_learning_rate = std::nan("");
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--recovery_learning_rate=nan"));
  o.recovery_learning_rate = 0.05;
  EXPECT_TRUE(ValidateSuiteOptions(o).ok());
  o = Smoke("bad");
  o.squad_fold_given = true;
  o.squad_split.fold = 5;
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--squad_fold=5 must be in [0, 5)"));
  o.squad_split.fold = 2;
  o.squad_split.eval_titles = {"Warsaw"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--squad_fold and --squad_eval_titles both choose"));
  o.squad_fold_given = false;
  o.squad_split.eval_titles = {"Warsaw", ""};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("a title is empty"));
  o.squad_split.eval_titles = {"Warsaw"};
  EXPECT_TRUE(ValidateSuiteOptions(o).ok());
  o.squad_word_vocabulary = "dev";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--squad_word_vocabulary='dev' must be 'train' or 'all'"));
  o = Smoke("bad");
  o.preset_overrides = {"squad_epochs=0"};  // refused before any data is read
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("squad_epochs=0 must be >= 1"));
  o.preset_overrides = {"search_step=3"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("'search_step' is not a preset field"));
  // A --set of a field wins over the older flag for it.
  o.recovery_learning_rate = 0.05;
  o.preset_overrides = {"search_steps=10", "recovery_learning_rate=0.01"};
  EXPECT_TRUE(ValidateSuiteOptions(o).ok());
  absl::StatusOr<Preset> resolved = ResolvePreset(o);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->search_steps, 10);
  EXPECT_DOUBLE_EQ(resolved->recovery_learning_rate, 0.01);
  o = Smoke("bad");
  o.method_flags["l0_init_keep"] = "1";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_init_keep=1"));
  o = Smoke("bad");
  o.method_flags["l0_mode"] = "later";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_mode='later'"));
  o = Smoke("bad");
  o.methods = {"l0", "prune_everything"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--methods: unknown pruning method 'prune_everything'"));
  o = Smoke("bad");
  o.settings["magnitude"] = {"0.9", "1.5"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("sparsity=1.5 must be in [0, 1)"));
  o = Smoke("bad");
  o.settings["iss"] = {"strong"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("'strong' is not a number"));
  o = Smoke("bad");
  o.settings["random"] = {"200:300:10"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("target size H1=300 must be in [1, 200]"));
  o = Smoke("bad");
  o.settings["dense"] = {"1"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("takes no setting"));
  o = Smoke("bad");
  o.methods = {"l0", "iss", "l0"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("'l0' is listed twice"));
  o = Smoke("bad");
  o.methods = {"l0"};
  o.settings["magnitude"] = {"0.5"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("'magnitude' is not among the methods run"));
  o = Smoke("bad");
  o.settings["magnitude"] = {"0.9", "0.9"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("0.9 is given twice"));
  o = Smoke("bad");
  o.preset = "default";  // no preset-wide sizes there
  o.methods = {"random"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("'random' takes target sizes, and there is no source for them"));
  o.methods = {"l0", "random"};
  EXPECT_TRUE(ValidateSuiteOptions(o).ok());
  o = Smoke("bad");
  o.method_flags["zero_threshold"] = "-1";  // declared by iss and lasso
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--zero_threshold=-1"));
  o = Smoke("bad");
  o.preset = "paper";
  o.dense_checkpoint = "x.pt";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--dense_checkpoint"));
  o = Smoke("bad");
  o.settings["iss"] = {"-1e-3"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("-0.001"));
  o = Smoke("bad");
  o.method_flags["l0_input_lambda_ratio"] = "-0.5";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--l0_input_lambda_ratio=-0.5"));
  o = Smoke("bad");
  o.method_flags["l0_embedding_lambda_ratio"] = "nan";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--l0_embedding_lambda_ratio=nan must be finite and in [0, inf)"));
  o = Smoke("bad");
  o.method_flags["no_such_option"] = "1";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--no_such_option: no registered pruning method declares this option"));
  o = Smoke("bad");
  o.method_flags["l0_gate_learning_rate"] = "0";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--l0_gate_learning_rate=0 must be finite and in (0, inf)"));
  o = Smoke("bad");
  o.methods = {"l0"};
  o.settings["l0"] = {"inf"};  // refused at start, not after minutes of training
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("lambda=inf must be finite"));
  o = Smoke("bad");
  o.method_flags["l0_init_keep"] = "0";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_init_keep=0"));
  o = Smoke("bad");
  o.checkpoint_every_steps = 0;
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("--checkpoint_every_steps=0 must be >= 1"));
  o = Smoke("bad");
  o.tasks = {"ptb", "mnist"};
  EXPECT_THAT(std::string(ValidatePresetAndTasks(o).message()), HasSubstr("unknown task 'mnist'"));
  o.tasks = {};
  EXPECT_THAT(std::string(ValidatePresetAndTasks(o).message()), HasSubstr("--tasks is empty"));
  EXPECT_TRUE(ValidateSuiteOptions(Smoke("ok")).ok());
}

// Two smoke runs on real PTB, one thread, same seed: identical perplexities for the dense
// parent and every method (a structured one, an unstructured one, one given target sizes).
TEST(Suite, APresetFileStandsForTheBuiltInPreset) {
  SuiteOptions o = Smoke("config");
  nlohmann::json j = PresetToJson(*GetPreset("smoke"));
  j["name"] = "mine";
  j["squad_epochs"] = 2;
  o.config_path = std::string(std::getenv("TEST_TMPDIR")) + "/mine.json";
  ASSERT_TRUE(WriteFileAtomically(o.config_path, j.dump()).ok());
  o.preset = "mine";  // what SuiteOptionsFromFlags sets from the file: no built-in of that name
  ASSERT_TRUE(ValidateSuiteOptions(o).ok()) << ValidateSuiteOptions(o);
  o.preset_overrides.push_back("squad_batch_size=4");
  absl::StatusOr<Preset> p = ResolvePreset(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "mine");
  EXPECT_EQ(p->squad_epochs, 2);
  EXPECT_EQ(p->squad_batch_size, 4);  // --set applies on top of the file
  o.config_path += ".missing";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("mine.json.missing"));
}

// A preset whose seed holds a list runs the squad task once per seed: one record file per point,
// each naming its point and carrying the resolved preset, all in one squad.md; a re-run re-uses
// both by config hash.
TEST(Suite, ASweepRunsEveryPointIntoOneReportAndReusesThem) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("sweep");
  o.data_dir = data;
  o.tasks = {"squad"};
  o.preset_overrides = {"seed=[7,8]", "squad_max_steps_per_epoch=2", "squad_max_eval_questions=30"};
  absl::StatusOr<nlohmann::json> resolved = ResolvePresetJson(o);  // what --print_config prints
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ((*resolved)["seed"], json({7, 8}));
  EXPECT_THAT(std::string(ResolvePreset(o).status().message()), HasSubstr("sweeps 2 points"));
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass);
    absl::StatusOr<std::vector<json>> runs = RunSuite(o);
    ASSERT_TRUE(runs.ok()) << runs.status();
    ASSERT_EQ(runs->size(), 2u);
    for (int i = 0; i < 2; ++i) {
      const json& r = (*runs)[i];
      EXPECT_EQ(r["sweep_point"], json({{"seed", 7 + i}}));
      EXPECT_EQ(r["seed"], 7 + i);
      EXPECT_EQ(r["preset_config"]["seed"], 7 + i);
      EXPECT_EQ(r["preset_config"]["squad_max_steps_per_epoch"], 2);
      EXPECT_EQ(r.value("reused", false), pass == 1);
    }
    EXPECT_NE((*runs)[0]["config_hash"], (*runs)[1]["config_hash"]);
  }
  absl::StatusOr<std::string> md = ReadFile(o.reports_dir + "/squad.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_THAT(*md, HasSubstr("smoke [seed=7]"));
  EXPECT_THAT(*md, HasSubstr("smoke [seed=8]"));
  // The speed task times one set of shapes per job: its fields do not sweep.
  o.preset_overrides = {"speed_threads=[[1],[2]]"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()),
              HasSubstr("'speed_threads' is swept"));
}

TEST(Suite, SmokeOnRealPtbIsDeterministic) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  double valid[2], test[2];
  std::vector<double> method_test[2];
  for (int i = 0; i < 2; ++i) {
    SuiteOptions o = Smoke(i == 0 ? "a" : "b");
    o.data_dir = data;
    o.methods = {"l0", "magnitude", "structured_magnitude"};
    o.settings["l0"] = {"0.5", "1"};
    // The default gate rate (0.5, for 400 search steps) closes every embedding gate within
    // the smoke preset's 15; this test needs L0 runs that keep a network.
    o.method_flags["l0_gate_learning_rate"] = "0.02";
    o.settings["magnitude"] = {"0.9"};
    o.settings["structured_magnitude"] = {"120:150:100"};
    auto runs = RunSuite(o);
    ASSERT_TRUE(runs.ok()) << runs.status();
    ASSERT_EQ(runs->size(), 5u);  // dense + l0 at two lambdas + magnitude + structured
    const auto& r = (*runs)[0];
    EXPECT_EQ(r["method"], "dense");
    valid[i] = r["valid_perplexity"].get<double>();
    test[i] = r["test_perplexity"].get<double>();
    EXPECT_EQ(r["seed"], 7);
    EXPECT_EQ(r["threads"], 1);
    EXPECT_EQ(r["epochs"][0]["steps"], 60);
    // 60 SGD steps move a 10k-way model well below uniform (10,000) but nowhere near converged.
    EXPECT_GT(valid[i], 200.0);
    EXPECT_LT(valid[i], 3000.0);
    const std::vector<std::string> want = {"dense", "l0", "l0", "magnitude",
                                           "structured_magnitude"};
    for (size_t k = 1; k < runs->size(); ++k) {
      const auto& m = (*runs)[k];
      EXPECT_EQ(m["method"], want[k]);
      // The same protocol and budget for every method: 15 search steps, then 5 of recovery on
      // the next windows.
      EXPECT_EQ(m["train_steps"], 20);
      EXPECT_EQ(m["protocol"]["search"]["steps"], 15);
      EXPECT_EQ(m["protocol"]["recovery"]["steps"], 5);
      EXPECT_EQ(m["protocol"]["recovery"]["first_window"], 15);
      EXPECT_EQ(m["search"]["epochs"][0]["steps"], 15);
      EXPECT_EQ(m["recovery"]["epochs"][0]["steps"], 5);
      if (m.contains("collapsed")) {
        method_test[i].push_back(-1);
        continue;
      }
      // The pruned model reproduces its reference (gates, or dense-with-zeros vs CSR), and it
      // was exported.
      const json& check = m["agreement_check"];
      EXPECT_NEAR(check["perplexity"].get<double>(), check["reference_perplexity"].get<double>(),
                  1e-3 * check["perplexity"].get<double>());
      EXPECT_TRUE(PathExists(m["checkpoint"].get<std::string>()));
      EXPECT_TRUE(PathExists(m["export_json"].get<std::string>()));
      method_test[i].push_back(m["test_perplexity"].get<double>());
    }
    // L0: the penalty's unit and scale, its options and its gate statistics (every 5 steps).
    const auto& l0 = (*runs)[1];
    EXPECT_THAT(l0["lambda_unit"].get<std::string>(), HasSubstr("per epoch of training tokens"));
    EXPECT_NEAR(l0["penalty_scale"].get<double>(), 35.0 / 929560, 1e-6 * 35.0 / 929560);
    EXPECT_EQ(l0["method_options"]["gate_optimizer"], "adam");
    EXPECT_EQ(l0["method_options"]["gate_cost"], "weights");
    ASSERT_EQ(l0["search"]["diagnostics"].size(), 4u);  // steps 0, 5, 10, 15
    EXPECT_EQ(l0["search"]["diagnostics"][3]["step"], 15);
    EXPECT_EQ(l0["search"]["diagnostics"][3]["gate_sets"][0]["set"], "E");
    const auto& mag = (*runs)[3];
    EXPECT_NEAR(mag["weight_sparsity"].get<double>(), 0.9, 1e-3);
    EXPECT_TRUE(mag.contains("csr_speedup"));
    EXPECT_EQ((*runs)[4]["sizes"]["hidden_sizes"], json({150, 100}));
    EXPECT_EQ((*runs)[4]["sizes"]["embedding_size"], 120);
    auto lines = ReadJsonLines(o.reports_dir + "/results/ptb_smoke.jsonl");
    ASSERT_TRUE(lines.ok()) << lines.status();
    EXPECT_EQ(lines->size(), 5u);
    auto md = ReadFile(o.reports_dir + "/ptb.md");
    ASSERT_TRUE(md.ok());
    EXPECT_THAT(*md, HasSubstr("| smoke | small |"));
    EXPECT_THAT(*md, HasSubstr("| smoke | magnitude | 0.9 |"));
    EXPECT_TRUE(PathExists(o.output_dir + "/ptb_smoke_small_dense.pt"));
    EXPECT_TRUE(PathExists(o.reports_dir + "/ptb_tradeoff_smoke.svg"));
    EXPECT_TRUE(PathExists(o.reports_dir + "/ptb_gates_smoke.svg"));
    EXPECT_THAT(*md, HasSubstr("### Who wins, preset `smoke`"));
    // The run's intermediate files are gone once its record is written.
    EXPECT_FALSE(PathExists(o.output_dir + "/ptb_smoke_small_l0_0.5.searched.pt"));
  }
  EXPECT_EQ(valid[0], valid[1]);
  EXPECT_EQ(test[0], test[1]);
  EXPECT_EQ(method_test[0], method_test[1]);
}

// An output folder that cannot be written fails at once, naming it (before any data is read).
TEST(Suite, UnwritableOutputFolderFailsAtStart) {
  SuiteOptions o = Smoke("unwritable");
  o.data_dir = "/nonexistent";               // never reached
  o.reports_dir = "/proc/rnnprune_reports";  // /proc takes no new folders, even for root
  absl::StatusOr<std::vector<json>> runs = RunSuite(o);
  ASSERT_FALSE(runs.ok());
  EXPECT_THAT(std::string(runs.status().message()), HasSubstr("/proc/rnnprune_reports"));
  // A file where a folder should be.
  o = Smoke("unwritable");
  o.data_dir = "/nonexistent";
  const std::string parent = std::string(std::getenv("TEST_TMPDIR")) + "/unwritable";
  ASSERT_TRUE(MakeDirs(parent).ok());
  ASSERT_TRUE(WriteFileAtomically(parent + "/runs_file", "x").ok());
  o.output_dir = parent + "/runs_file";
  runs = RunSuite(o);
  ASSERT_FALSE(runs.ok());
  EXPECT_THAT(std::string(runs.status().message()), HasSubstr("runs_file"));
  // A full folder (simulated with RLIMIT_FSIZE: writes fail with EFBIG as with ENOSPC) that
  // holds the temporary of an interrupted checkpoint write: the message names that file.
  o = Smoke("full");
  o.data_dir = "/nonexistent";
  ASSERT_TRUE(MakeDirs(o.reports_dir + "/results").ok());
  const std::string leftover = o.reports_dir + "/results/ptb_smoke.jsonl.tmp.99999";
  ASSERT_TRUE(WriteFileAtomically(leftover, "partial").ok());
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit low = old;
  low.rlim_cur = 1024;
  auto handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  runs = RunSuite(o);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, handler);
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(runs.status())) << runs.status();
  EXPECT_THAT(std::string(runs.status().message()), HasSubstr("is not writable"));
  EXPECT_THAT(std::string(runs.status().message()), HasSubstr(leftover));
}

TEST(Suite, MergeResultsKeepsEarlierRunsUntilReRun) {
  const json dense = {
      {"config_name", "small"}, {"method", "dense"}, {"seed", 1}, {"config_hash", "d1"}};
  const json l0 = {{"config_name", "small"},      {"method", "l0"},
                   {"setting", "1e-4"},           {"seed", 1},
                   {"parent_checkpoint", "x.pt"}, {"parent_config_hash", "d1"},
                   {"config_hash", "l1"}};
  const json iss = {{"config_name", "small"},
                    {"method", "iss"},
                    {"setting", "0.1"},
                    {"seed", 1},
                    {"parent_checkpoint", "x.pt"},
                    {"parent_config_hash", "d1"},
                    {"config_hash", "i1"}};
  const json control = {{"config_name", "small"},
                        {"method", "dense"},
                        {"setting", "-"},
                        {"seed", 1},
                        {"parent_checkpoint", "x.pt"},
                        {"parent_config_hash", "d1"},
                        {"config_hash", "c1"}};
  const std::vector<json> earlier = {dense, control, l0, iss};

  // Killed after re-using the dense model and re-running the l0 run under a changed l0 config:
  // the others stay, after this run's records; nothing appears twice.
  json l0_new = l0;
  l0_new["config_hash"] = "l2";
  json reused_dense = dense;
  reused_dense["reused"] = true;
  std::vector<json> merged = MergeResults({reused_dense, l0_new}, earlier);
  ASSERT_EQ(merged.size(), 4u);
  EXPECT_EQ(merged[0]["config_hash"], "d1");
  EXPECT_EQ(merged[1]["config_hash"], "l2");
  EXPECT_EQ(merged[2]["config_hash"], "c1");
  EXPECT_EQ(merged[3]["config_hash"], "i1");

  // Another seed is another run: both are kept.
  json other_seed = l0;
  other_seed["seed"] = 2;
  other_seed["config_hash"] = "l3";
  EXPECT_EQ(MergeResults({reused_dense, other_seed}, earlier).size(), 5u);
  // So is another point of a sweep (benchmarks/preset_sweep.h), and a re-run of the same point
  // replaces its earlier record.
  json point = l0;
  point["sweep_point"] = {{"search_learning_rate", 0.5}};
  point["config_hash"] = "l4";
  EXPECT_EQ(MergeResults({reused_dense, point}, earlier).size(), 5u);
  json point_again = point;
  point_again["config_hash"] = "l5";
  std::vector<json> with_point = earlier;
  with_point.push_back(point);
  merged = MergeResults({reused_dense, point_again}, with_point);
  ASSERT_EQ(merged.size(), 5u);
  EXPECT_EQ(merged[1]["config_hash"], "l5");

  // The dense model trained again under the same hash (its checkpoint was gone): the earlier
  // method runs came from another training of it and go.
  merged = MergeResults({dense, l0_new}, earlier);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0]["config_hash"], "d1");
  EXPECT_EQ(merged[1]["config_hash"], "l2");

  // The dense model re-trained differently: earlier runs fine-tuned from the old one go.
  json dense_new = dense;
  dense_new["config_hash"] = "d2";
  merged = MergeResults({dense_new}, earlier);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0]["config_hash"], "d2");
  EXPECT_EQ(MergeResults({}, earlier).size(), 4u);

  // Records written before parent hashes were recorded: kept while their config's dense model
  // is re-used, dropped once it is re-trained.
  json legacy = iss;
  legacy.erase("parent_config_hash");
  EXPECT_EQ(MergeResults({reused_dense}, {dense, legacy}).size(), 2u);
  EXPECT_EQ(MergeResults({dense_new}, {dense, legacy}).size(), 1u);
}

// A second suite on the folders of one that runs stops at once, naming the folder.
TEST(Suite, FoldersInUseByAnotherRunAreRefused) {
  SuiteOptions o = Smoke("locked");
  o.data_dir = "/nonexistent";  // never reached
  absl::StatusOr<FileLock> held = LockFile(o.output_dir + "/.lock", "the other run");
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<std::vector<json>> runs = RunSuite(o);
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(runs.status().code(), absl::StatusCode::kFailedPrecondition) << runs.status();
  EXPECT_THAT(std::string(runs.status().message()),
              HasSubstr("folder " + o.output_dir + " is in use by another run"));
}

// Finished runs are re-used by config hash; a run missing from the results file (as when the
// suite was killed while training it) is computed again; --force recomputes everything.
TEST(Suite, ReusesFinishedRunsAndContinuesAnInterruptedOne) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("reuse");
  o.data_dir = data;
  o.methods = {"magnitude", "structured_magnitude"};
  o.settings["magnitude"] = {"0.9"};
  o.settings["structured_magnitude"] = {"120:150:100"};
  auto first = RunSuite(o);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 3u);
  for (const json& r : *first) {
    EXPECT_FALSE(r.contains("reused")) << r["method"];
    ASSERT_TRUE(r.contains("config_hash"));
  }
  // The training checkpoints are gone once their runs are exported.
  EXPECT_FALSE(PathExists(o.output_dir + "/ptb_smoke_small_dense.train.ckpt"));

  auto second = RunSuite(o);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ((*second)[k]["reused"], true) << k;
    EXPECT_EQ((*second)[k]["test_perplexity"], (*first)[k]["test_perplexity"]) << k;
    EXPECT_EQ((*second)[k]["timestamp_utc"], (*first)[k]["timestamp_utc"]) << k;
  }

  // Interrupted while training the last run: its record never reached the file.
  const std::string results = o.reports_dir + "/results/ptb_smoke.jsonl";
  auto lines = ReadJsonLines(results);
  ASSERT_TRUE(lines.ok());
  lines->pop_back();
  ASSERT_TRUE(WriteJsonLines(results, *lines).ok());
  auto third = RunSuite(o);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(third->size(), 3u);
  EXPECT_EQ((*third)[0]["reused"], true);
  EXPECT_EQ((*third)[1]["reused"], true);
  EXPECT_FALSE((*third)[2].contains("reused"));
  EXPECT_EQ((*third)[2]["test_perplexity"], (*first)[2]["test_perplexity"]);  // 1 thread

  // The dense parent's exported model lost: it is trained again, and the method runs, made
  // from its earlier training, are computed again from the new one (1 thread: same numbers).
  ASSERT_TRUE(PathExists((*third)[0]["checkpoint"].get<std::string>()));
  ASSERT_EQ(std::remove((*third)[0]["checkpoint"].get<std::string>().c_str()), 0);
  auto fourth = RunSuite(o);
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  ASSERT_EQ(fourth->size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_FALSE((*fourth)[k].contains("reused")) << k;
    EXPECT_EQ((*fourth)[k]["test_perplexity"], (*first)[k]["test_perplexity"]) << k;
  }

  // --force recomputes every run, to the same numbers.
  o.force = true;
  auto forced = RunSuite(o);
  ASSERT_TRUE(forced.ok()) << forced.status();
  for (const json& r : *forced) EXPECT_FALSE(r.contains("reused")) << r["method"];
  EXPECT_EQ((*forced)[0]["test_perplexity"], (*first)[0]["test_perplexity"]);

  // An override enters the hashes of the runs it changes and no other: a squad field changes no
  // PTB run; the recovery phase's length changes the method runs, not their dense parent.
  o.force = false;
  o.preset_overrides.push_back("squad_epochs=2");
  auto squad_only = RunSuite(o);
  ASSERT_TRUE(squad_only.ok()) << squad_only.status();
  for (const json& r : *squad_only) EXPECT_EQ(r["reused"], true) << r["method"];
  o.preset_overrides.push_back("recovery_steps=6");
  auto longer = RunSuite(o);
  ASSERT_TRUE(longer.ok()) << longer.status();
  ASSERT_EQ(longer->size(), 3u);
  EXPECT_EQ((*longer)[0]["reused"], true);
  EXPECT_EQ((*longer)[0]["config_hash"], (*first)[0]["config_hash"]);
  EXPECT_EQ((*longer)[0]["preset_config"]["recovery_steps"], 5);  // the record that was re-used
  for (size_t k = 1; k < 3; ++k) {
    EXPECT_FALSE((*longer)[k].contains("reused")) << k;
    EXPECT_NE((*longer)[k]["config_hash"], (*first)[k]["config_hash"]) << k;
    EXPECT_EQ((*longer)[k]["train_steps"], 21) << k;  // 15 search + 6 recovery
    EXPECT_EQ((*longer)[k]["preset_config"]["recovery_steps"], 6) << k;
  }
}

// L0 gates trained from scratch (no dense checkpoint involved), one lambda.
TEST(Suite, L0FromScratchRunsOnRealPtb) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("scratch");
  o.data_dir = data;
  o.method_flags["l0_mode"] = "scratch";
  o.methods = {"l0"};
  o.method_flags["l0_lambdas"] = "0.1";
  o.method_flags["l0_input_lambda_ratio"] = "0.5";
  // the default (0.5) closes every gate in 60 steps
  o.method_flags["l0_gate_learning_rate"] = "0.02";
  auto runs = RunSuite(o);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);  // dense + l0
  const auto& r = (*runs)[1];
  ASSERT_FALSE(r.contains("collapsed")) << r["collapsed"];
  EXPECT_TRUE(r["from_scratch"].get<bool>());
  EXPECT_EQ(r["setting"], "0.1");
  EXPECT_DOUBLE_EQ(r["method_options"]["lambda_input"].get<double>(), 0.05);
  // The search phase is the dense run's schedule; the recovery reads the windows after it.
  EXPECT_EQ(r["search"]["epochs"][0]["steps"], 60);
  EXPECT_EQ(r["recovery"]["epochs"][0]["steps"], 5);
  EXPECT_EQ(r["protocol"]["recovery"]["first_window"], 60);
  EXPECT_NEAR(r["agreement_check"]["perplexity"].get<double>(),
              r["agreement_check"]["reference_perplexity"].get<double>(),
              1e-3 * r["test_perplexity"].get<double>());
}

// A method with a hyperparameter of its own, added in one file (the test-only
// baselines/testing/uniform_fraction.cc), runs through the main job's smoke preset with its option
// given as the command line gives it; its record holds the option's value.
TEST(Suite, TestOnlyBaselineWithItsOwnOptionRunsThroughTheSmokePreset) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("own_option");
  o.data_dir = data;
  o.methods = {"uniform_fraction"};
  o.method_flags["uniform_fraction_keep"] = "0.25";
  auto runs = RunSuite(o);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);  // dense parent + uniform_fraction
  const json& r = (*runs)[1];
  EXPECT_EQ(r["method"], "uniform_fraction");
  EXPECT_EQ(r["method_options"]["keep_fraction"], 0.25);
  EXPECT_EQ(r["sizes"]["embedding_size"], 50);  // ceil(0.25 * 200)
  EXPECT_EQ(r["sizes"]["hidden_sizes"], (std::vector<int64_t>{50, 50}));
  EXPECT_GT(r["test_perplexity"].get<double>(), 1.0);
  // Another value of the option is another run (config hash).
  o.method_flags["uniform_fraction_keep"] = "0.5";
  auto again = RunSuite(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE((*again)[1]["config_hash"], r["config_hash"]);
  EXPECT_EQ((*again)[1]["sizes"]["embedding_size"], 100);
}

// A run that fails at run time (the test-only baselines/testing/fails_at_run_time.cc) is
// recorded as failed, the job goes on with the next run, the job's status names it (issue 17.4),
// the report shows it, and a re-run retries it while re-using the runs that finished. The job
// prints "run k of N" as it goes (issue 17.6).
TEST(Suite, ARunFailingAtRunTimeIsRecordedAndTheJobGoesOn) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("run_failure");
  o.data_dir = data;
  o.methods = {"fails_at_run_time", "uniform_fraction"};
  std::vector<std::string> log;
  o.log = [&log](const std::string& line) { log.push_back(line); };
  auto runs = RunSuite(o);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 3u);  // dense parent, the failed run, uniform_fraction
  const json& failed = (*runs)[1];
  EXPECT_EQ(failed["method"], "fails_at_run_time");
  EXPECT_THAT(failed.value("failed", ""), HasSubstr("always fails here"));
  EXPECT_FALSE(failed.contains("test_perplexity"));
  EXPECT_EQ((*runs)[2]["method"], "uniform_fraction");
  EXPECT_GT((*runs)[2]["test_perplexity"].get<double>(), 1.0);
  const absl::Status status = FailedRunsStatus(*runs);
  EXPECT_TRUE(absl::IsAborted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("1 of 3 runs failed"));
  EXPECT_THAT(status.message(), HasSubstr("fails_at_run_time"));
  EXPECT_TRUE(FailedRunsStatus({(*runs)[0], (*runs)[2]}).ok());
  const std::string joined = absl::StrJoin(log, "\n");
  EXPECT_THAT(joined, HasSubstr("[job] run 1 of 3: ptb/smoke dense parent"));
  EXPECT_THAT(joined, HasSubstr("[job] run 3 of 3: ptb/smoke/uniform_fraction"));
  EXPECT_THAT(joined, HasSubstr("FAILED, recorded, the job goes on"));
  // The results file and the report hold it.
  auto results = ReadFile(o.reports_dir + "/results/ptb_smoke.jsonl");
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, HasSubstr("always fails here"));
  auto md = ReadFile(o.reports_dir + "/ptb.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_THAT(*md, HasSubstr("**failed**: "));
  // A re-run retries the failed run and re-uses the others.
  log.clear();
  auto again = RunSuite(o);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 3u);
  EXPECT_TRUE((*again)[1].contains("failed"));
  EXPECT_TRUE((*again)[2].value("reused", false));
  EXPECT_THAT(absl::StrJoin(log, "\n"), HasSubstr("FAILED, recorded, the job goes on"));
}

}  // namespace
}  // namespace rnnprune
