// The suite's kill test (issue 7, item 1; issue 14): the main job //benchmarks:all on the smoke
// preset (real PTB, task ptb, the dense model and one L0 run, one thread) is run once without
// interruption (A) and once (B) killed three times with SIGKILL, each time as soon as a training
// checkpoint is on disk, mid-epoch:
//   B1: killed during the dense model's training;
//   B2: re-run; resumes the dense training from its checkpoint, finishes and records it, and is
//       killed during the L0 run's search phase;
//   B3: re-run; re-uses the finished dense run (config hash), resumes the L0 search, compacts,
//       and is killed during the recovery phase (pruning/protocol.h);
//   B4: re-run; reads the searched model back, resumes the recovery and ends.
// B's results must equal A's bit for bit: perplexities, per-phase training perplexities, gate
// statistics, kept sizes. The same for the squad task (BiDAF), killed once mid-epoch. Skipped
// when the data folder is absent.
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/data_dir.h"
#include "common/files.h"
#include "common/subprocess_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reporting/results.h"
#include "training/bidaf_training_checkpoint.h"
#include "training/lm_training_checkpoint.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int kDenseSteps = 60;    // the smoke preset's BPTT windows of dense training
constexpr int kSearchSteps = 15;   // and of each method's search phase
constexpr int kRecoverySteps = 5;  // and recovery phase
constexpr int kCheckpointEvery = 3;

std::string AllBinary() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/rnnprune/benchmarks/all";
}

std::vector<std::string> Args(const std::string& data_dir, const std::string& name) {
  return {AllBinary(), "--preset=smoke", "--tasks=ptb", "--methods=l0", "--settings=l0=1",
          // The default gate rate (0.5) closes every gate in the smoke preset's 15 steps.
          "--l0_gate_learning_rate=0.02", "--threads=1", "--seed=5",
          "--checkpoint_every_steps=" + std::to_string(kCheckpointEvery), "--data_dir=" + data_dir,
          "--reports_dir=" + TestTmpPath(name + "/reports"),
          "--output_dir=" + TestTmpPath(name + "/runs")};
}

std::string DenseCkpt(const std::string& name) {
  return TestTmpPath(name + "/runs/ptb_smoke_small_dense.train.ckpt");
}
std::string L0File(const std::string& name, const std::string& suffix) {
  return TestTmpPath(name + "/runs/ptb_smoke_small_l0_1" + suffix);
}

// The results file's records by method.
std::map<std::string, json> Records(const std::string& name) {
  absl::StatusOr<std::vector<json>> lines =
      ReadJsonLines(TestTmpPath(name + "/reports/results/ptb_smoke.jsonl"));
  EXPECT_TRUE(lines.ok()) << lines.status();
  std::map<std::string, json> by_method;
  for (const json& r : lines.value_or(std::vector<json>{})) {
    by_method[r["method"].get<std::string>()] = r;
  }
  return by_method;
}

// Starts B, kills it once `ckpt` exists, and checks that the checkpoint left is mid-epoch.
void KillWhenWritten(const std::string& data, const std::string& log, const std::string& ckpt,
                     int steps_in_epoch) {
  const pid_t pid = SpawnForTest(Args(data, "b"), TestTmpPath(log));
  ASSERT_GT(pid, 0);
  const KillOutcome outcome = WaitThenKill(
      pid, [&] { return PathExists(ckpt); }, std::chrono::seconds(600));
  ASSERT_EQ(outcome, KillOutcome::kKilled)
      << "not killed while a run was training: " << ReadFile(TestTmpPath(log)).value_or("");
  absl::StatusOr<LmTrainingCheckpoint> left = LoadLmTrainingCheckpoint(ckpt);
  ASSERT_TRUE(left.ok()) << left.status();
  std::cout << log << ": killed with " << ckpt << " at epoch " << left->progress.epoch << ", step "
            << left->progress.step << " on disk\n";
  EXPECT_GT(left->progress.step, 0);
  EXPECT_LT(left->progress.step, steps_in_epoch) << "the checkpoint left is not mid-epoch";
}

// The per-epoch training perplexities and steps of one phase of a record, or the dense run's.
std::vector<std::pair<double, int64_t>> Curve(const json& epochs) {
  std::vector<std::pair<double, int64_t>> out;
  for (const json& e : epochs) {
    out.emplace_back(e["train_perplexity"].get<double>(), e["steps"].get<int64_t>());
  }
  return out;
}

TEST(AllKill, SuiteKilledInEveryPhaseResumesToTheSameResults) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  ::setenv("OMP_NUM_THREADS", "1", 1);

  ASSERT_EQ(RunToEndForTest(Args(data, "a"), TestTmpPath("a.log")), 0)
      << ReadFile(TestTmpPath("a.log")).value_or("");
  const std::map<std::string, json> a = Records("a");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_FALSE(a.at("l0").contains("collapsed"));

  // B1: killed during the dense training; nothing is recorded yet.
  KillWhenWritten(data, "b1.log", DenseCkpt("b"), kDenseSteps);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(PathExists(TestTmpPath("b/reports/results/ptb_smoke.jsonl")));

  // B2: resumes the dense training, records it, is killed during the L0 search phase.
  KillWhenWritten(data, "b2.log", L0File("b", ".search.train.ckpt"), kSearchSteps);
  if (HasFatalFailure()) return;
  EXPECT_THAT(ReadFile(TestTmpPath("b2.log")).value_or(""), HasSubstr("resuming from"));
  EXPECT_FALSE(PathExists(DenseCkpt("b"))) << "the finished dense run's training checkpoint stays";
  const std::map<std::string, json> after_b2 = Records("b");
  ASSERT_EQ(after_b2.size(), 1u) << "B2 should have recorded the dense run only";
  EXPECT_TRUE(after_b2.at("dense").contains("resumed_at_step"));

  // B3: re-uses the dense run, resumes the search, is killed during the recovery phase.
  KillWhenWritten(data, "b3.log", L0File("b", ".recovery.train.ckpt"), kRecoverySteps);
  if (HasFatalFailure()) return;
  const std::string b3 = ReadFile(TestTmpPath("b3.log")).value_or("");
  EXPECT_THAT(b3, HasSubstr("re-using the finished run"));
  EXPECT_THAT(b3, HasSubstr("resuming from"));
  EXPECT_TRUE(PathExists(L0File("b", ".searched.pt")));
  EXPECT_FALSE(PathExists(L0File("b", ".search.train.ckpt")));

  // B4: reads the searched model back, resumes the recovery and ends.
  ASSERT_EQ(RunToEndForTest(Args(data, "b"), TestTmpPath("b4.log")), 0)
      << ReadFile(TestTmpPath("b4.log")).value_or("");
  const std::string b4 = ReadFile(TestTmpPath("b4.log")).value_or("");
  EXPECT_THAT(b4, HasSubstr("search phase: done before, read back from"));
  EXPECT_THAT(b4, HasSubstr("resuming from"));
  for (const char* left : {".searched.pt", ".recovery.train.ckpt", ".search.train.ckpt"}) {
    EXPECT_FALSE(PathExists(L0File("b", left))) << left;
  }

  const std::map<std::string, json> b = Records("b");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(b.at("dense").value("reused", false));
  EXPECT_FALSE(b.at("l0").value("reused", false));
  EXPECT_GT(b.at("dense")["resumed_at_step"].get<int64_t>(), 0);
  EXPECT_TRUE(b.at("l0")["search"]["resumed"].get<bool>());
  EXPECT_TRUE(b.at("l0")["recovery"]["resumed"].get<bool>());
  EXPECT_GT(b.at("l0")["resumed_at_step"].get<int64_t>(), kSearchSteps);
  EXPECT_FALSE(a.at("dense").contains("resumed_at_step"));
  EXPECT_FALSE(a.at("l0").contains("resumed_at_step"));
  for (const std::string method : {"dense", "l0"}) {
    SCOPED_TRACE(method);
    const json& ra = a.at(method);
    const json& rb = b.at(method);
    EXPECT_EQ(rb["config_hash"], ra["config_hash"]);
    // Bit-identical: exact double comparisons.
    EXPECT_EQ(rb["valid_perplexity"].get<double>(), ra["valid_perplexity"].get<double>());
    EXPECT_EQ(rb["test_perplexity"].get<double>(), ra["test_perplexity"].get<double>());
  }
  EXPECT_EQ(Curve(b.at("dense")["epochs"]), Curve(a.at("dense")["epochs"]));
  for (const char* phase : {"search", "recovery"}) {
    EXPECT_EQ(Curve(b.at("l0")[phase]["epochs"]), Curve(a.at("l0")[phase]["epochs"])) << phase;
  }
  EXPECT_EQ(b.at("l0")["search"]["diagnostics"], a.at("l0")["search"]["diagnostics"]);
  EXPECT_EQ(b.at("l0")["kept_input_sizes"], a.at("l0")["kept_input_sizes"]);
  EXPECT_EQ(b.at("l0")["kept_hidden_sizes"], a.at("l0")["kept_hidden_sizes"]);
  EXPECT_EQ(b.at("l0")["agreement_check"], a.at("l0")["agreement_check"]);
  std::cout << "dense valid perplexity " << a.at("dense")["valid_perplexity"] << ", l0 "
            << a.at("l0")["valid_perplexity"] << " (uninterrupted and killed three times)\n";
}

// The squad task (smoke preset: BiDAF d 10, one epoch of 10 batches; a checkpoint every 4) killed
// with SIGKILL mid-epoch and re-run: the same record numbers and the same predictions file.
std::vector<std::string> SquadArgs(const std::string& data_dir, const std::string& name) {
  return {AllBinary(),
          "--preset=smoke",
          "--tasks=squad",
          "--glove=none",
          "--threads=1",
          "--seed=5",
          "--checkpoint_every_steps=4",
          "--data_dir=" + data_dir,
          "--reports_dir=" + TestTmpPath(name + "/reports"),
          "--output_dir=" + TestTmpPath(name + "/runs")};
}

json SquadRecord(const std::string& name) {
  absl::StatusOr<std::string> text =
      ReadFile(TestTmpPath(name + "/reports/results/squad_smoke.json"));
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.value_or("{}"));
}

TEST(AllKill, SquadTaskKilledMidEpochResumesToTheSameResults) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev not found (set RNNPRUNE_DATA or ../shared/data)";
  ::setenv("OMP_NUM_THREADS", "1", 1);

  ASSERT_EQ(RunToEndForTest(SquadArgs(data, "sa"), TestTmpPath("sa.log")), 0)
      << ReadFile(TestTmpPath("sa.log")).value_or("");
  const json a = SquadRecord("sa");

  const std::string ckpt = TestTmpPath("sb/runs/squad_smoke.train.ckpt");
  const pid_t pid = SpawnForTest(SquadArgs(data, "sb"), TestTmpPath("sb1.log"));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(WaitThenKill(
                pid, [&] { return PathExists(ckpt); }, std::chrono::seconds(600)),
            KillOutcome::kKilled)
      << ReadFile(TestTmpPath("sb1.log")).value_or("");
  absl::StatusOr<BidafTrainingCheckpoint> left = LoadBidafTrainingCheckpoint(ckpt);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_GT(left->progress.step, 0);
  EXPECT_LT(left->progress.step, left->progress.steps_per_epoch) << "not mid-epoch";
  EXPECT_FALSE(PathExists(TestTmpPath("sb/reports/results/squad_smoke.json")));

  ASSERT_EQ(RunToEndForTest(SquadArgs(data, "sb"), TestTmpPath("sb2.log")), 0)
      << ReadFile(TestTmpPath("sb2.log")).value_or("");
  EXPECT_FALSE(PathExists(ckpt));
  const json b = SquadRecord("sb");
  EXPECT_EQ(b["resumed_at_step"].get<int64_t>(), left->progress.global_step);
  EXPECT_FALSE(a.contains("resumed_at_step"));
  EXPECT_EQ(b["config_hash"], a["config_hash"]);
  EXPECT_EQ(b["steps"], a["steps"]);
  EXPECT_EQ(b["epoch_loss"], a["epoch_loss"]);  // exact doubles
  EXPECT_EQ(b["exact_match"].get<double>(), a["exact_match"].get<double>());
  EXPECT_EQ(b["f1"].get<double>(), a["f1"].get<double>());
  EXPECT_EQ(ReadFile(TestTmpPath("sb/runs/squad_smoke_predictions.json")).value_or("b"),
            ReadFile(TestTmpPath("sa/runs/squad_smoke_predictions.json")).value_or("a"));
}

// --help exits 0 and lists what the registries hold: every registered method (a new baseline
// appears without editing the help), the options the methods declare, the presets and tasks,
// then the suite's flags. Method options reach the job from the command line: a bad value is
// refused at start, naming the flag (exit 2).
TEST(AllBinary, HelpListsTheRegistriesAndMethodOptionsAreChecked) {
  const std::string log = TestTmpPath("help.log");
  ASSERT_EQ(RunToEndForTest({AllBinary(), "--help"}, log), 0);
  const std::string help = ReadFile(log).value();
  for (const char* want : {"structured_magnitude", "l0_speed", "--l0_init_keep", "--l0_lambdas",
                           "smoke", "default", "ptb, squad, speed", "--threads", "--settings"}) {
    EXPECT_THAT(help, HasSubstr(want));
  }
  const std::string bad = TestTmpPath("bad_option.log");
  EXPECT_EQ(RunToEndForTest({AllBinary(), "--preset=smoke", "--l0_init_keep=1.5",
                             "--reports_dir=" + TestTmpPath("bad/reports"),
                             "--output_dir=" + TestTmpPath("bad/runs")},
                            bad),
            2);
  EXPECT_THAT(ReadFile(bad).value(), HasSubstr("--l0_init_keep=1.5 must be finite and in (0, 1)"));
}

}  // namespace
}  // namespace rnnprune
