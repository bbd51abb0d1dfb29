// The BiDAF pruning runs of the squad task end to end on the real dev set at the smoke preset's
// sizes (skipped when the data is absent): every method from one parent, the fixed structures at
// L0's sizes, the unstructured ones, the records and the report, re-use by config hash, resume
// through a crash in the middle of a search phase, and methods that cannot prune BiDAF.
#include "benchmarks/squad_pruning.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/preset_files.h"
#include "benchmarks/squad_task.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "pruning/method.h"
#include "reporting/bidaf_pruning_report.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// The smoke preset with 4 steps per epoch: 12 search steps, enough for L0's gates to close.
TaskContext Smoke(const std::string& data_dir, const std::string& out,
                  std::vector<std::string> methods) {
  TaskContext c;
  c.preset = *GetPreset("smoke");
  c.preset.squad_max_steps_per_epoch = 4;
  c.preset.squad_max_eval_questions = 40;
  c.preset.squad_search_epochs = 3;
  c.preset.squad_methods = std::move(methods);
  c.preset.timing_repeats = 2;
  SuiteOptions& o = c.options;
  o.data_dir = data_dir;
  o.reports_dir = out + "/reports";
  o.output_dir = out + "/runs";
  o.threads = 1;
  o.seed = 3;
  o.command = "squad_pruning_test";
  o.log = [](const std::string&) {};
  return c;
}

std::map<std::string, BidafPruningRecord> ByMethod(const std::string& reports_dir) {
  absl::StatusOr<std::vector<BidafPruningRecord>> runs = ReadBidafPruningRecords(reports_dir);
  EXPECT_TRUE(runs.ok()) << runs.status();
  std::map<std::string, BidafPruningRecord> out;
  for (const BidafPruningRecord& r : runs.value_or(std::vector<BidafPruningRecord>{})) {
    out[r.method.value_or("?")] = r;
  }
  return out;
}

TEST(SquadPruning, EveryMethodFromOneParentThenReusedByHash) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  torch::set_num_threads(1);
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/every");
  TaskContext c = Smoke(
      data, out, {"dense", "l0", "iss", "structured_magnitude", "random", "lasso", "magnitude"});
  absl::StatusOr<SquadRecord> parent = RunSquadTask(c);
  ASSERT_TRUE(parent.ok()) << parent.status();
  std::map<std::string, BidafPruningRecord> runs = ByMethod(out + "/reports");
  ASSERT_EQ(runs.size(), 7u);
  for (const auto& [method, r] : runs) {
    SCOPED_TRACE(method);
    EXPECT_EQ(r.parent_config_hash, parent->config_hash);
    EXPECT_EQ(r.search_epochs, 3);
    ASSERT_FALSE(r.collapsed.value_or(true)) << r.error.value_or("");
    ASSERT_TRUE(r.f1 && r.exact_match && r.speedups && r.lstm_parameters);
    EXPECT_EQ(r.eval_questions, 40);
    for (const char* key : {"lstms_b1", "model_b1", "lstms_b32", "model_b32"}) {
      EXPECT_GT(r.speedups->value(key, 0.0), 0.0) << key;
    }
    // One validation score per epoch of both phases (fixed structures: one run of 3 + 1).
    ASSERT_TRUE(r.epoch_validation_f1);
    EXPECT_EQ(r.epoch_validation_f1->size(), 4u);
  }
  const BidafPruningRecord& dense = runs["dense"];
  EXPECT_EQ(dense.lstm_parameters, dense.parent_lstm_parameters);
  EXPECT_EQ(dense.kept_hidden, dense.parent_hidden);
  const BidafPruningRecord& l0 = runs["l0"];
  EXPECT_LT(*l0.lstm_parameters, *l0.parent_lstm_parameters);
  // The fixed structures run at exactly the sizes L0 kept.
  for (const char* m : {"structured_magnitude", "random"}) {
    SCOPED_TRACE(m);
    EXPECT_EQ(runs[m].setting, absl::StrCat("sizes of l0 ", *l0.setting));
    EXPECT_EQ(runs[m].kept_hidden, l0.kept_hidden);
    EXPECT_EQ(runs[m].kept_inputs, l0.kept_inputs);
    EXPECT_EQ(runs[m].lstm_parameters, l0.lstm_parameters);
    EXPECT_FALSE(runs[m].search_epoch_loss);  // no search phase
  }
  // The unstructured methods keep every neuron and zero LSTM weights: magnitude pruning exactly
  // its sparsity of every W_ih and W_hh (0.5 in the smoke preset), Lasso some.
  for (const char* m : {"lasso", "magnitude"}) {
    SCOPED_TRACE(m);
    const BidafPruningRecord& r = runs[m];
    EXPECT_EQ(r.kept_hidden, r.parent_hidden);
    EXPECT_EQ(r.lstm_parameters, r.parent_lstm_parameters);
    ASSERT_TRUE(r.lstm_nonzero_parameters && r.lstm_weight_sparsity);
    EXPECT_LT(*r.lstm_nonzero_parameters, *r.lstm_parameters);
    EXPECT_GT(*r.lstm_weight_sparsity, 0.0);
  }
  EXPECT_NEAR(*runs["magnitude"].lstm_weight_sparsity, 0.5, 1e-3);
  EXPECT_EQ(runs["magnitude"].sparsity, 0.5);
  absl::StatusOr<std::string> md = ReadFile(out + "/reports/squad.md");
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(absl::StrContains(*md, "## Pruning BiDAF: preset smoke (protocol `local`)"));
  EXPECT_TRUE(absl::StrContains(*md, "### At L0's sizes"));
  EXPECT_TRUE(absl::StrContains(*md, "| parent (squad record) |"));
  EXPECT_TRUE(absl::StrContains(*md, "% of the weights pruned)"));
  EXPECT_TRUE(PathExists(out + "/reports/squad_pruning_smoke.svg"));
  for (const char* ckpt : {".search.ckpt", ".recovery.ckpt"}) {
    EXPECT_FALSE(absl::StrContains(*md, ckpt));
  }

  // A second run re-uses the parent and every pruning run.
  std::vector<std::string> log;
  c.options.log = [&log](const std::string& line) { log.push_back(line); };
  ASSERT_TRUE(RunSquadTask(c).ok());
  int reused = 0;
  for (const std::string& line : log) reused += absl::StrContains(line, "re-using the finished");
  EXPECT_EQ(reused, 8);  // the parent and 7 runs
  std::map<std::string, BidafPruningRecord> again = ByMethod(out + "/reports");
  EXPECT_EQ(again["l0"].f1, l0.f1);
  // The job's ETA counts the parent's time and its pruning runs'.
  double seconds = *parent->wall_seconds;
  for (const auto& [method, r] : runs) seconds += *r.wall_seconds;
  const std::optional<double> earlier = EarlierSquadSeconds(c);
  ASSERT_TRUE(earlier.has_value());
  EXPECT_DOUBLE_EQ(*earlier, seconds);
}

// A crash in the middle of a search phase resumes bit-identically: L0 (its gates and their
// optimizer in the checkpoint) and gradual magnitude pruning (its step counter and nested masks,
// the hooks' own training state).
TEST(SquadPruning, ResumesACrashedSearchBitIdentically) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  torch::set_num_threads(1);
  for (const std::string method : {"l0", "magnitude"}) {
    SCOPED_TRACE(method);
    const std::string out_a = absl::StrCat(std::getenv("TEST_TMPDIR"), "/resume_a_", method);
    TaskContext a = Smoke(data, out_a, {method});
    a.options.checkpoint_every_steps = 1;
    ASSERT_TRUE(RunSquadTask(a).ok());

    const std::string out_b = absl::StrCat(std::getenv("TEST_TMPDIR"), "/resume_b_", method);
    TaskContext b = Smoke(data, out_b, {method});
    b.options.checkpoint_every_steps = 1;
    bool pruning = false;
    b.options.log = [&pruning, &method](const std::string& line) {
      pruning = pruning || absl::StrContains(line, "[squad pruning] " + method);
      if (pruning && absl::StrContains(line, "epoch 2/3 step 2/4")) {
        throw std::runtime_error("simulated crash");
      }
    };
    absl::StatusOr<SquadRecord> crashed = RunSquadTask(b);
    ASSERT_FALSE(crashed.ok());
    EXPECT_TRUE(absl::StrContains(crashed.status().message(), "simulated crash"));
    EXPECT_TRUE(ByMethod(out_b + "/reports").empty());

    std::vector<std::string> log;
    b.options.log = [&log](const std::string& line) { log.push_back(line); };
    ASSERT_TRUE(RunSquadTask(b).ok());
    bool resumed = false;
    for (const std::string& line : log) {
      resumed = resumed || (absl::StrContains(line, "resuming from") &&
                            absl::StrContains(line, ".search.ckpt"));
    }
    EXPECT_TRUE(resumed);
    const BidafPruningRecord ra = ByMethod(out_a + "/reports")[method];
    const BidafPruningRecord rb = ByMethod(out_b + "/reports")[method];
    EXPECT_EQ(rb.config_hash, ra.config_hash);
    ASSERT_TRUE(ra.search_epoch_loss);
    EXPECT_EQ(rb.search_epoch_loss, ra.search_epoch_loss);
    EXPECT_EQ(rb.recovery_epoch_loss, ra.recovery_epoch_loss);
    EXPECT_EQ(rb.kept_hidden, ra.kept_hidden);
    EXPECT_EQ(rb.kept_inputs, ra.kept_inputs);
    EXPECT_EQ(rb.lstm_nonzero_parameters, ra.lstm_nonzero_parameters);
    EXPECT_EQ(rb.exact_match, ra.exact_match);
    EXPECT_EQ(rb.f1, ra.f1);
  }
}

// A sweep choosing on the validation part (--noevaluate_test) prunes too, and never scores the
// evaluation articles.
TEST(SquadPruning, ChoosingOnValidationNeverScoresTheEvaluationArticles) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/validation");
  TaskContext c = Smoke(data, out, {"l0"});
  c.options.evaluate_test = false;
  ASSERT_TRUE(RunSquadTask(c).ok());
  std::map<std::string, BidafPruningRecord> runs = ByMethod(out + "/reports");
  ASSERT_EQ(runs.size(), 1u);
  const BidafPruningRecord& l0 = runs["l0"];
  EXPECT_FALSE(l0.f1 || l0.exact_match || l0.eval_questions);
  ASSERT_TRUE(l0.epoch_validation_f1 && l0.speedups);
  EXPECT_EQ(l0.epoch_validation_f1->size(), 4u);
}

// A method a user registers for the LSTM LM only (no create_for_any_model) is refused by name,
// before any run, as is an unknown one.
class LmOnlyForTest : public PruningMethod {
 public:
  absl::StatusOr<PruningStructure> Finish(LstmLm&) override { return PruningStructure{}; }
};
RNNPRUNE_REGISTER_PRUNING_METHOD(
    MethodInfo("lm_only_for_test", "a method with no model-agnostic form (test)",
               /*structured=*/false, SettingKind::kNone, {},
               [](const MethodOptions&) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
                 return std::unique_ptr<PruningMethod>(new LmOnlyForTest());
               }));

TEST(SquadPruning, MethodsThatCannotPruneBidafAreRefusedByName) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/lm_only");
  absl::StatusOr<SquadRecord> r = RunSquadTask(Smoke(data, out, {"dense", "lm_only_for_test"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(
      absl::StrContains(r.status().message(), "'lm_only_for_test' prunes the LSTM LM only"));
  EXPECT_TRUE(ByMethod(out + "/reports").empty());  // refused before any run
  absl::StatusOr<SquadRecord> unknown = RunSquadTask(Smoke(data, out, {"l1"}));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rnnprune
