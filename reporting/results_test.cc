#include "reporting/results.h"

#include <cstdlib>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/ptb_plots.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// The typed records of JSON ones, as a results file holds them (reporting/ptb_record.h).
std::vector<PtbRecord> Typed(const std::vector<json>& runs) {
  absl::StatusOr<std::vector<PtbRecord>> r = PtbRecordsFromJson(runs, "test");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<PtbRecord>();
}

// The functions under test, on records written as JSON.
std::string RenderPtbReport(const std::vector<json>& runs) {
  return rnnprune::RenderPtbReport(Typed(runs));
}
absl::Status PlotPtbTradeoff(const std::vector<json>& runs, const std::string& preset,
                             const std::string& svg_path) {
  return rnnprune::PlotPtbTradeoff(Typed(runs), preset, svg_path);
}
absl::Status PlotGateStatistics(const std::vector<json>& runs, const std::string& preset,
                                const std::string& svg_path) {
  return rnnprune::PlotGateStatistics(Typed(runs), preset, svg_path);
}

json MakeRun(const std::string& preset, double valid, double test) {
  json r;
  r["task"] = "ptb";
  r["method"] = "dense";
  r["preset"] = preset;
  r["config_name"] = "small";
  r["model"] = {{"embedding_size", 200}, {"hidden_sizes", {200, 200}}};
  r["valid_perplexity"] = valid;
  r["test_perplexity"] = test;
  r["train_tokens_per_second"] = 7123.4;
  r["wall_seconds"] = 725.0;
  r["threads"] = 2;
  r["seed"] = 1;
  r["command"] = "bazel run -c opt //benchmarks:all -- --preset=" + preset;
  r["epochs"] = json::array({{{"epoch", 1},
                              {"learning_rate", 1.0},
                              {"train_perplexity", 250.0},
                              {"valid_perplexity", 180.5},
                              {"tokens_per_second", 7000.0},
                              {"train_seconds", 130.0}}});
  return r;
}

TEST(Results, JsonLinesRoundTripAndErrors) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  ASSERT_TRUE(
      WriteJsonLines(dir + "/r.jsonl", {MakeRun("smoke", 1, 2), MakeRun("default", 3, 4)}).ok());
  auto back = ReadJsonLines(dir + "/r.jsonl");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1]["preset"], "default");
  ASSERT_TRUE(WriteFileAtomically(dir + "/bad.jsonl", "{\"a\": 1}\n\n[1, 2]\n").ok());
  auto bad = ReadJsonLines(dir + "/bad.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad.jsonl:3"));
}

TEST(Results, PtbReportHasOurRowsAndLabelledPublishedFigures) {
  const std::string md =
      RenderPtbReport({MakeRun("smoke", 900.1, 880.25), MakeRun("default", 130.4, 125.6)});
  // Ours, with the preset order default before smoke.
  EXPECT_THAT(md, HasSubstr("| default | small | E=200, H=200/200 | dense | 1 | 130.40 | 125.60 | "
                            "7123 | 12.1 min | 2 | 1 |"));
  EXPECT_LT(md.find("| default |"), md.find("| smoke |"));
  // Published, in their own labelled table.
  EXPECT_THAT(md, HasSubstr("## Published (not ours)"));
  EXPECT_THAT(md,
              HasSubstr("| small | 2x200 LSTM, no dropout | 120.7 | 114.5 | Zaremba et al. 2014"));
  EXPECT_THAT(md, HasSubstr("| large | 2x1500 LSTM, dropout 0.65 | 82.2 | 78.4 |"));
  // Provenance and the per-epoch curve.
  EXPECT_THAT(md, HasSubstr("command: `bazel run -c opt //benchmarks:all -- --preset=default`"));
  EXPECT_THAT(md, HasSubstr("| 1 | 1 | 250.00 | 180.50 | 7000 | 2.2 min |"));
}

json MakeMethodRun(const std::string& method, const std::string& setting, double speedup,
                   double test) {
  json r = MakeRun("default", 130.0, test);
  r["method"] = method;
  r["setting"] = setting;
  r["parent_checkpoint"] = "runs/ptb_default_small_dense.pt";
  r["sizes"] = {{"input_sizes", {150, 120}},
                {"hidden_sizes", {140, 90}},
                {"parameters", 2000000},
                {"multiply_adds_per_token", 1500000}};
  r["num_parameters"] = 2000000;
  r["multiply_adds_per_token"] = 1500000;
  r["speedup"] = {{"lstm_b1", 2.5}, {"model_b1", speedup}, {"lstm_b20", 2.0}, {"model_b20", 1.5}};
  return r;
}

// The spread of a speedup (issue 17) is shown beside the LSTM batch-1 speedup, and a
// measurement still too noisy after re-measuring is marked; older records render as before.
TEST(Results, SpeedupsShowTheirSpreadAndNoisyOnesAreMarked) {
  json plain = MakeMethodRun("l0", "1", 1.4, 120.0);
  json spread = MakeMethodRun("iss", "1000", 1.4, 121.0);
  spread["speedup_iqr"] = {{"lstm_b1", {2.31, 2.62}}, {"model_b1", {1.3, 1.5}}};
  json noisy = MakeMethodRun("lasso", "30", 1.0, 122.0);
  noisy["speedup_iqr"] = {{"lstm_b1", {0.4, 1.9}}};
  noisy["speedup_uncertain"] = true;
  const std::string md = RenderPtbReport({MakeRun("default", 130.0, 125.0), plain, spread, noisy});
  EXPECT_THAT(md, HasSubstr("| 2.50x | 1.40x |"));  // no spread recorded: as before
  EXPECT_THAT(md, HasSubstr("| 2.50x [2.31, 2.62] | 1.40x |"));
  EXPECT_THAT(md, HasSubstr("| 2.50x [0.40, 1.90] noisy | 1.00x |"));
}

TEST(Results, ALoadedParentAndASkippedTestSplitAreSaidSo) {
  json r = MakeRun("default", 121.08, 0);
  r.erase("test_perplexity");
  r["loaded_from"] = "runs/ptb_default_small_dense.pt";
  r["test_not_evaluated"] = "--noevaluate_test";
  r["train_tokens_per_second"] = 0.0;
  const std::string md = RenderPtbReport({r});
  EXPECT_THAT(md, HasSubstr("| default | small | E=200, H=200/200 | dense | loaded | 121.08 | - | "
                            "- | 12.1 min | 2 | 1 |"));
}

TEST(Results, MethodRowsSideBySideAndPublishedPruningFigures) {
  json magnitude = MakeMethodRun("magnitude", "0.9", 0.98, 135.5);
  magnitude["weight_sparsity"] = 0.9;
  magnitude["csr_speedup"] = {
      {"lstm_b1", 1.4}, {"model_b1", 0.7}, {"lstm_b20", 0.5}, {"model_b20", 0.4}};
  json collapsed = MakeMethodRun("iss", "0.1", 1, 1);
  collapsed["collapsed"] = "layer 2: every hidden neuron is closed";
  const std::string md =
      RenderPtbReport({MakeRun("default", 130.4, 125.6), MakeMethodRun("l0", "0.0001", 1.8, 127.25),
                       magnitude, collapsed, MakeMethodRun("dense", "-", 1.0, 120.0)});
  EXPECT_THAT(md,
              HasSubstr("| default | l0 | 0.0001 | 150 / 120 / 140 / 90 | - | 2000000 | "
                        "1500000 | 130.00 | 127.25 | ? | 2.50x | 1.80x | 2.00x | 1.50x | - | - | "
                        "- |"));
  EXPECT_THAT(md, HasSubstr("| default | magnitude | 0.9 | 150 / 120 / 140 / 90 | 0.900 | "));
  EXPECT_THAT(md, HasSubstr("| 0.98x | 2.00x | 1.50x | 1.40x | 0.70x | 0.50x |"));
  EXPECT_THAT(md, HasSubstr("| default | iss | 0.1 | collapsed: layer 2: every hidden neuron"));
  EXPECT_THAT(md, HasSubstr("- collapsed: layer 2: every hidden neuron is closed (no model"));
  EXPECT_THAT(md, HasSubstr("| default | dense (control) | - |"));
  EXPECT_THAT(md, HasSubstr("## Run: preset `default`, dense (control) small"));
  EXPECT_THAT(md, HasSubstr("nearly 20x practical inference speedup"));
  EXPECT_THAT(md, HasSubstr("10.59x"));
  EXPECT_THAT(md, HasSubstr("373 / 315"));
  // The table of dense parents does not list the fine-tuned runs.
  EXPECT_EQ(md.find("| default | small | E=200, H=200/200 | l0 |"), std::string::npos);
  EXPECT_EQ(md.find("| default | small | E=200, H=200/200 | dense | 1 | 130.00 | 120.00"),
            std::string::npos);
}

TEST(Results, MethodRunsShowTheProtocolPhasesAndGates) {
  json l0 = MakeMethodRun("l0", "1", 1.8, 127.25);
  const json schedule = {
      {"learning_rate", 0.25}, {"batch_size", 20}, {"bptt", 35}, {"max_grad_norm", 5.0}};
  l0["protocol"] = {{"search", {{"steps", 400}, {"first_window", 0}, {"schedule", schedule}}},
                    {"recovery", {{"steps", 200}, {"first_window", 400}, {"schedule", schedule}}},
                    {"diagnostics_every_steps", 100}};
  const json sets = json::array({{{"set", "E"},
                                  {"size", 200},
                                  {"closed", 120},
                                  {"partial", 5},
                                  {"open", 75},
                                  {"mean_log_alpha", -1.5}}});
  l0["search"] = {
      {"epochs",
       {{{"steps", 400}, {"tokens", 280000}, {"learning_rate", 0.25}, {"train_perplexity", 95.0}}}},
      {"tokens_per_second", 9000.0},
      {"train_seconds", 31.0},
      {"resumed", true},
      {"resumed_at_global_step", 200},
      {"diagnostics", {{{"step", 400}, {"gate_sets", sets}}}}};
  l0["recovery"] = {
      {"epochs",
       {{{"steps", 200}, {"tokens", 140000}, {"learning_rate", 0.25}, {"train_perplexity", 80.0}}}},
      {"tokens_per_second", 11000.0},
      {"train_seconds", 13.0},
      {"resumed", false}};
  l0.erase("epochs");
  const std::string md = RenderPtbReport({MakeRun("default", 130.4, 125.6), l0});
  EXPECT_THAT(md, HasSubstr("- `default`: search phase S = 400 steps at lr 0.25, recovery phase "
                            "M = 200 steps at lr 0.25"));
  EXPECT_THAT(md, HasSubstr("| search | 400 | 0.25 | 95.00 | 9000 | 31 s | 200 |"));
  EXPECT_THAT(md, HasSubstr("| recovery | 200 | 0.25 | 80.00 | 11000 | 13 s | - |"));
  EXPECT_THAT(md, HasSubstr("- protocol: search phase 400 steps"));
  EXPECT_THAT(md, HasSubstr("E 120/5/75 (mean log_alpha -1.50)"));
  EXPECT_THAT(md, HasSubstr("### Who wins, preset `default`"));
  EXPECT_THAT(md, HasSubstr("| l0 1 | 150 / 120 / 140 / 90 | 2.50x |"));
}

TEST(Results, TradeoffPlotHasOneSeriesPerMethodWithItsFront) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  json magnitude = MakeMethodRun("magnitude", "0.9", 0.98, 135.5);
  magnitude["csr_speedup"] = {{"lstm_b1", 0.7}};
  ASSERT_TRUE(
      PlotPtbTradeoff({MakeRun("default", 130.4, 125.6), MakeMethodRun("l0", "0.0001", 1.8, 127.0),
                       MakeMethodRun("l0", "0.0002", 3.1, 131.0),
                       MakeMethodRun("iss", "0.01", 1.5, 129.0), magnitude},
                      "default", dir + "/plot.svg")
          .ok());
  auto svg = ReadFile(dir + "/plot.svg");
  ASSERT_TRUE(svg.ok());
  EXPECT_THAT(*svg, HasSubstr("<svg"));
  for (const char* title :
       {"dense parent", ">l0<", ">iss<", ">magnitude<", "Pareto front", "LSTM speedup"}) {
    EXPECT_THAT(*svg, HasSubstr(title));
  }
}

// The trade-off plot draws each speedup's interquartile range as a bar (issue 17.5), and names
// from a results file (a quote in a method or preset name, a setting with spaces or "EOD") can
// neither break gnuplot's script nor run a command in it (issue 17's audit).
TEST(Results, TradeoffPlotShowsRangesAndSurvivesHostileNames) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  json ranged = MakeMethodRun("l0", "1", 1.8, 127.0);
  ranged["speedup_iqr"] = {{"lstm_b1", {1.6, 2.0}}};
  json hostile = MakeMethodRun("it's'; system('touch hacked'); '", "a b\nEOD", 1.5, 129.0);
  for (json* r : {&ranged, &hostile}) (*r)["preset"] = "o'brien";
  json parent = MakeRun("o'brien", 130.4, 125.6);
  const std::string svg_path = dir + "/it's.svg";
  const absl::Status s = PlotPtbTradeoff({parent, ranged, hostile}, "o'brien", svg_path);
  ASSERT_TRUE(s.ok()) << s;
  auto svg = ReadFile(svg_path);
  ASSERT_TRUE(svg.ok());
  EXPECT_THAT(*svg, HasSubstr("interquartile range"));
  EXPECT_FALSE(PathExists("hacked"));
  EXPECT_FALSE(PathExists(dir + "/hacked"));
}

// A run that failed at run time is a row of the report with its error; a '|' or a line break in
// the error cannot break the table (issue 17.4 and the audit).
TEST(Results, AFailedRunIsShownWithItsError) {
  json failed = {{"task", "ptb"},
                 {"method", "iss"},
                 {"setting", "1000"},
                 {"preset", "default"},
                 {"config_name", "small"},
                 {"parent_checkpoint", "runs/x.pt"},
                 {"failed", "INTERNAL: the loss | is not finite\nat step 3"}};
  const std::string md = RenderPtbReport({MakeRun("default", 130.0, 125.0), failed});
  EXPECT_THAT(md, HasSubstr("| default | iss | 1000 | **failed**: INTERNAL: the loss \\| is not "
                            "finite at step 3 |"));
  EXPECT_THAT(md, HasSubstr("- **failed at run time**: "));
}

TEST(Results, GatePlotHasOnePanelPerL0Run) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  json l0 = MakeMethodRun("l0", "1", 1.8, 127.0);
  json sets = json::array();
  for (const char* name : {"E", "I2", "H1", "H2"}) {
    sets.push_back({{"set", name}, {"size", 200}, {"closed", 10}, {"partial", 0}, {"open", 190}});
  }
  l0["search"] = {
      {"diagnostics", {{{"step", 0}, {"gate_sets", sets}}, {{"step", 100}, {"gate_sets", sets}}}}};
  json speed = l0;
  speed["method"] = "l0_speed";
  ASSERT_TRUE(PlotGateStatistics({MakeRun("default", 130.4, 125.6), l0, speed}, "default",
                                 dir + "/gates.svg")
                  .ok());
  auto svg = ReadFile(dir + "/gates.svg");
  ASSERT_TRUE(svg.ok());
  for (const char* title : {"l0 1", "l0_speed 1", ">E<", ">I2<", ">H1<", ">H2<"}) {
    EXPECT_THAT(*svg, HasSubstr(title));
  }
  // No L0 statistics: no plot, no error.
  EXPECT_TRUE(
      PlotGateStatistics({MakeRun("default", 130.4, 125.6)}, "default", dir + "/none.svg").ok());
  EXPECT_FALSE(PathExists(dir + "/none.svg"));
}

TEST(Results, RenderFilesWritesReport) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/reports";
  ASSERT_TRUE(WriteJsonLines(dir + "/results/ptb_quick.jsonl", {MakeRun("quick", 200, 190)}).ok());
  ASSERT_TRUE(RenderPtbReportFiles(dir).ok());
  auto md = ReadFile(dir + "/ptb.md");
  ASSERT_TRUE(md.ok());
  EXPECT_THAT(*md, HasSubstr("| quick | small |"));
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/ptb_broken.jsonl", "not json\n").ok());
  absl::Status s = RenderPtbReportFiles(dir);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ptb_broken.jsonl:1"));
  EXPECT_EQ(*ReadFile(dir + "/ptb.md"), *md);  // the old report is kept
}

}  // namespace
}  // namespace rnnprune
