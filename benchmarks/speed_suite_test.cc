// The speed suite end to end on tiny shapes (timings are recorded, never asserted): every engine
// runs every mode, the roofline inputs follow the documented rules, the report renders.
#include "benchmarks/speed_suite.h"

#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "reporting/speed_report.h"

namespace rnnprune {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

const char kShapes[] = R"({"shapes": [
  {"name": "tiny", "vocab_size": 50, "embedding_size": 16, "hidden_sizes": [24, 24]},
  {"name": "tiny_pruned", "parent": "tiny", "vocab_size": 50, "embedding_size": 10,
   "hidden_sizes": [12, 8], "input_sizes": [10, 12]},
  {"name": "tiny_sparse", "parent": "tiny", "sparsity": 0.9},
  {"name": "big", "vocab_size": 10000, "embedding_size": 200, "hidden_sizes": [200, 200]}]})";

TEST(SpeedSuite, RunsEveryEngineAndModeWithRooflineInputs) {
  const std::string dir = TmpDir() + "/speed";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/shapes.json", kShapes).ok());
  SpeedOptions o;
  o.shapes_path = dir + "/shapes.json";
  o.threads = {1};
  o.min_time = 0.001;
  o.max_parameters = 100000;  // skips "big"
  o.command = "speed_suite_test";
  o.google_benchmark_json = dir + "/gbench/speed_test.benchmark.json";  // folder created
  absl::StatusOr<SpeedRecord> doc = RunSpeedBenchmarks(o);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const nlohmann::json d = doc->ToJson();  // the document as its results file holds it

  // Google Benchmark's own report: its context and, for every run of the document, its
  // repetitions and their median under the registered name.
  absl::StatusOr<std::string> gbench_text = ReadFile(o.google_benchmark_json);
  ASSERT_TRUE(gbench_text.ok()) << gbench_text.status();
  const nlohmann::json gbench = nlohmann::json::parse(*gbench_text);
  EXPECT_TRUE(gbench["context"].contains("num_cpus")) << gbench["context"].dump();
  std::map<std::string, int> iterations, medians;
  for (const auto& b : gbench["benchmarks"]) {
    // run_name is the registered name with Google Benchmark's suffixes (/min_time:..., ...).
    const std::string run_name = b["run_name"].get<std::string>();
    const std::string name = run_name.substr(0, run_name.find("/min_time:"));
    if (b["run_type"] == "iteration") ++iterations[name];
    if (b["run_type"] == "aggregate" && b["aggregate_name"] == "median") ++medians[name];
  }
  for (const auto& r : d["runs"]) {
    const std::string name = absl::StrCat(
        "speed/", r["shape"].get<std::string>(), "/", r["engine"].get<std::string>(), "/",
        r["scope"].get<std::string>(), "/", r["mode"].get<std::string>(), "/threads:1");
    EXPECT_EQ(iterations[name], 5) << name;
    EXPECT_EQ(medians[name], 1) << name;
  }

  std::set<std::string> kinds;
  for (const auto& l : d["limits"]) kinds.insert(l["kind"].get<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"triad_dram", "triad_l3", "sgemm"}));
  ASSERT_EQ(d["shapes"].size(), 3u);
  EXPECT_NE(d["notes"].dump().find("big skipped"), std::string::npos);

  // Dense engines on the dense shapes, the CSR engine on the sparse shape: 6 (scope x mode) runs
  // each.
  const int dense_engines = static_cast<int>(d["engines"].size()) - 1;
  EXPECT_EQ(d["runs"].size(), static_cast<size_t>(6 * (2 * dense_engines + 1)))
      << d["notes"].dump();
  for (const auto& r : d["runs"]) {
    EXPECT_GT(r["ms_per_token"].get<double>(), 0.0) << r.dump();
    EXPECT_EQ(r["level"], "L3") << r.dump();
    EXPECT_GT(r["ratio_to_bound"].get<double>(), 0.0) << r.dump();
    // The spread of the repetitions (issue 17.5): q1 <= median <= q3.
    EXPECT_EQ(r["repetitions"], 5) << r.dump();
    ASSERT_EQ(r["ms_per_token_iqr"].size(), 2u) << r.dump();
    EXPECT_GT(r["ms_per_token_iqr"][0].get<double>(), 0.0) << r.dump();
    EXPECT_LE(r["ms_per_token_iqr"][0].get<double>(), r["ms_per_token"].get<double>() * 1.0001);
    EXPECT_GE(r["ms_per_token_iqr"][1].get<double>(), r["ms_per_token"].get<double>() * 0.9999);
  }
  // Weight bytes per token of "tiny" (dense, 4 bytes per weight), by the documented rules.
  const double ih = 4.0 * (96 * 16 + 96 * 24), hh = 4.0 * (96 * 24 * 2), bias = 4.0 * 96 * 2;
  const double decoder = 4.0 * (50 * 24 + 50), emb_row = 4.0 * 16;
  for (const auto& r : d["runs"]) {
    if (r["shape"] != "tiny" || r["engine"] != "blas") continue;
    const bool model = r["scope"] == "model";
    const double once = ih + bias + (model ? decoder : 0.0);
    double want = 0;
    if (r["mode"] == "b1_token") want = hh + once + emb_row;
    if (r["mode"] == "b1_seq") want = (35 * hh + once) / 35 + emb_row;
    if (r["mode"] == "b20") want = (35 * hh + once) / 700 + emb_row;
    EXPECT_NEAR(r["bytes_per_token"].get<double>(), want, 1e-6) << r.dump();
    const double macs = 96 * 40 + 96 * 48 + (model ? 50 * 24 : 0);
    EXPECT_DOUBLE_EQ(r["flops_per_token"].get<double>(), 2.0 * macs) << r.dump();
  }
  // The sparse shape keeps about 10% of its LSTM weights.
  for (const auto& s : d["shapes"]) {
    if (s["name"] != "tiny_sparse") continue;
    const double dense_macs = 96 * 40 + 96 * 48;
    EXPECT_NEAR(s["lstm_macs_per_token"].get<double>() / dense_macs, 0.1, 0.01);
  }

  // The report renders from the document alone, and again from its saved copy.
  ASSERT_TRUE(WriteSpeedReportFiles(*doc, "test", dir + "/reports").ok());
  absl::StatusOr<std::string> md = ReadFile(dir + "/reports/speed.md");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("## Bars of the speed issue"), std::string::npos);
  EXPECT_NE(md->find("tiny_pruned"), std::string::npos);
  EXPECT_NE(md->find("speed_suite_test"), std::string::npos);
  EXPECT_TRUE(PathExists(dir + "/reports/speed_test.svg"));
  EXPECT_TRUE(PathExists(dir + "/reports/results/speed_test.json"));
  ASSERT_TRUE(RerenderSpeedReport("test", dir + "/reports").ok());
}

TEST(SpeedSuite, RejectsBadOptions) {
  SpeedOptions o;
  o.threads = {1, 0};
  EXPECT_NE(ValidateSpeedOptions(o).message().find("threads: 0 must be > 0"), std::string::npos);
  o = SpeedOptions();
  o.min_time = 0;
  EXPECT_NE(ValidateSpeedOptions(o).message().find("min_time"), std::string::npos);
  o = SpeedOptions();
  o.engines = {"blas", "turbo"};
  EXPECT_NE(ValidateSpeedOptions(o).message().find("turbo"), std::string::npos);
  o = SpeedOptions();
  o.shapes_path = TmpDir() + "/no_such_shapes.json";
  EXPECT_EQ(RunSpeedBenchmarks(o).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rnnprune
