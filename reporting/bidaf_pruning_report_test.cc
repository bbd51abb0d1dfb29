#include "reporting/bidaf_pruning_report.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

using json = nlohmann::json;

BidafPruningRecord Record(const std::string& method, const std::string& setting, double f1,
                          int64_t kept) {
  BidafPruningRecord r;
  r.preset = "p";
  r.protocol = "local";
  r.parent_config_hash = "abcdef0123456789";
  r.method = method;
  r.setting = setting;
  r.search_epochs = 1;
  r.recovery_epochs = 1;
  r.parent_hidden = json{{"contextual.bw", 50}, {"contextual.fw", 50}};
  r.parent_inputs = json{{"contextual.bw", 150}, {"contextual.fw", 150}};
  r.kept_hidden = json{{"contextual.bw", kept}, {"contextual.fw", kept + 1}};
  r.kept_inputs = json{{"contextual.bw", 140}, {"contextual.fw", 141}};
  r.lstm_parameters = kept * 100;
  r.f1 = f1;
  r.exact_match = f1 - 10;
  r.speedups =
      json{{"lstms_b1", 50.0 / kept}, {"model_b1", 1.1}, {"lstms_b32", 2.0}, {"model_b32", 1.2}};
  r.epoch_validation_f1 = std::vector<double>{f1 - 5, f1 - 1};
  return r;
}

TEST(BidafPruningReport, TablesEveryRunInMethodOrderAndTheFixedStructuresAtL0Sizes) {
  BidafPruningRecord collapsed = Record("l0", "9", 0, 1);
  collapsed.collapsed = true;
  collapsed.error = "LSTM 'contextual.fw': every hidden neuron is closed";
  collapsed.lambda = 9;
  BidafPruningRecord l0 = Record("l0", "0.5", 40, 20);
  l0.lambda = 0.5;
  const std::vector<BidafPruningRecord> runs = {
      Record("random", "sizes of l0 0.5", 30, 20), collapsed, l0, Record("dense", "", 45, 50),
      Record("structured_magnitude", "sizes of l0 0.5", 35, 20)};
  SquadRecord parent;
  parent.config_hash = "abcdef0123456789";
  parent.f1 = 44.5;
  parent.exact_match = 33.0;
  const std::string md = RenderBidafPruningSection(runs, {parent}, "p", "plot.svg");
  EXPECT_TRUE(absl::StrContains(md, "## Pruning BiDAF: preset p (protocol `local`)"));
  EXPECT_TRUE(absl::StrContains(
      md, "| parent (squad record) | - | contextual 50/50 | 150/150 | ? | ? | 33.00 | 44.50 |"));
  EXPECT_TRUE(absl::StrContains(
      md, "| l0 | 0.5 | contextual 21/20 | 141/140 | 2,000 | ? | 30.00 | 40.00 | 39.00 | 2.50x |"));
  EXPECT_TRUE(absl::StrContains(md, "| l0 | 9 | collapsed: LSTM 'contextual.fw'"));
  // dense, l0 0.5, l0 9, structured magnitude, random.
  const size_t d = md.find("| dense (control) |"), a = md.find("| l0 | 0.5 |"),
               b = md.find("| l0 | 9 |"), s = md.find("| structured_magnitude | sizes"),
               r = md.find("| random | sizes");
  ASSERT_NE(r, std::string::npos);
  EXPECT_TRUE(d < a && a < b && b < s && s < r);
  EXPECT_TRUE(absl::StrContains(md, "### At L0's sizes"));
  EXPECT_TRUE(absl::StrContains(md, "| l0 0.5 | structured_magnitude | 2,000 | 25.00 | 35.00 |"));
  EXPECT_TRUE(absl::StrContains(md, "| l0 0.5 | random | 2,000 | 20.00 | 30.00 |"));
  EXPECT_FALSE(absl::StrContains(md, "| l0 9 |"));  // no run at a collapsed structure's sizes
  EXPECT_TRUE(absl::StrContains(md, "](plot.svg)"));
  EXPECT_TRUE(absl::StrContains(md, "| BiDAF pruned by ISS group Lasso | 2.69M |"));
  EXPECT_EQ(RenderBidafPruningSection(runs, {parent}, "other", ""), "");
  EXPECT_FALSE(absl::StrContains(md, "Unstructured methods"));
}

// An unstructured run keeps every neuron: its LSTM parameter cell adds the non-zero entries and
// the fraction of the weights pruned, it comes after the structured methods (sparsities in
// order), and the header says how such a network is timed.
TEST(BidafPruningReport, UnstructuredRunsShowTheirNonZerosAfterTheStructuredOnes) {
  BidafPruningRecord high = Record("magnitude", "0.9", 20, 50),
                     low = Record("magnitude", "0.5", 30, 50);
  high.sparsity = 0.9;
  low.sparsity = 0.5;
  high.lstm_nonzero_parameters = 600;
  high.lstm_weight_sparsity = 0.9;
  low.lstm_nonzero_parameters = 2600;
  low.lstm_weight_sparsity = 0.5;
  const std::vector<BidafPruningRecord> runs = {high, Record("random", "sizes of l0 0.5", 30, 20),
                                                low, Record("dense", "", 45, 50)};
  const std::string md = RenderBidafPruningSection(runs, {}, "p", "");
  EXPECT_TRUE(absl::StrContains(md, "Unstructured methods (L1 Lasso, gradual magnitude pruning)"));
  EXPECT_TRUE(absl::StrContains(
      md,
      "| magnitude | 0.5 | contextual 51/50 | 141/140 | 5,000 (2,600 non-zero; 50.0% of the "
      "weights pruned) |"));
  const size_t r = md.find("| random |"), a = md.find("| magnitude | 0.5 |"),
               b = md.find("| magnitude | 0.9 |");
  ASSERT_NE(b, std::string::npos);
  EXPECT_TRUE(r < a && a < b);
}

TEST(BidafPruningReport, ReadsEveryRecordFileAndNamesABadOne) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/reports");
  ASSERT_TRUE(MakeDirs(dir + "/results").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/bidaf_pruning_p_l0_a.json",
                                  Record("l0", "1", 1, 1).ToJson().dump())
                  .ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/squad_p.json", "{}").ok());  // not read here
  absl::StatusOr<std::vector<BidafPruningRecord>> runs = ReadBidafPruningRecords(dir);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].method, "l0");
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/results/bidaf_pruning_p_l0_b.json", "{\"f1\": \"high\"}").ok());
  runs = ReadBidafPruningRecords(dir);
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(absl::StrContains(runs.status().message(), "bidaf_pruning_p_l0_b.json"));
  EXPECT_TRUE(absl::StrContains(runs.status().message(), "\"f1\""));
}

}  // namespace
}  // namespace rnnprune
