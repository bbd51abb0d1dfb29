#include "reporting/speed_report.h"

#include <cstdlib>
#include <string>

#include "common/files.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

using nlohmann::json;

json Run(const std::string& shape, const std::string& engine, const std::string& scope,
         const std::string& mode, double ms, double ratio, const std::string& level) {
  return {{"shape", shape},
          {"engine", engine},
          {"scope", scope},
          {"mode", mode},
          {"threads", 2},
          {"ms_per_token", ms},
          {"ratio_to_bound", ratio},
          {"level", level},
          {"bound_ms_per_token", ms / ratio},
          {"bytes_per_token", 1e6},
          {"flops_per_token", 1e6}};
}

// Large: blas at 1.2x of its bound and 2.5x faster than torch at batch 1 but slower at batch 20;
// small: cache-resident, blas at 2.5x of its bound.
json Doc() {
  json runs = json::array();
  for (const char* scope : {"lstm", "model"}) {
    for (const char* mode : {"b1_seq", "b1_token", "b20"}) {
      const bool b20 = std::string(mode) == "b20";
      runs.push_back(Run("zaremba_large", "blas", scope, mode, b20 ? 2.0 : 4.0, 1.2, "DRAM"));
      runs.push_back(Run("zaremba_large", "torch", scope, mode, b20 ? 1.0 : 10.0, 3.0, "DRAM"));
      runs.push_back(Run("small", "blas", scope, mode, 0.05, 2.5, "L3"));
      runs.push_back(Run("small", "torch", scope, mode, 0.2, 10, "L3"));
      runs.push_back(Run("pruned", "blas", scope, mode, 0.4, 1.1, "L3"));
      runs.push_back(Run("pruned", "torch", scope, mode, 1.0, 2.0, "L3"));
    }
  }
  return {{"machine",
           {{"command", "bazel run -c opt //benchmarks:all"},
            {"git_commit", "abc"},
            {"openblas_coretype", "Haswell"},
            {"threads", {1, 2}},
            {"l3_bytes", 33554432}}},
          {"limits", json::array({{{"kind", "triad_dram"}, {"threads", 2}, {"gbytes_per_s", 30.0}},
                                  {{"kind", "sgemm"}, {"threads", 2}, {"gflops", 150.0}}})},
          {"engines",
           json::array({{{"name", "blas"}, {"description", "ours"}, {"sparse", false}},
                        {{"name", "torch"}, {"description", "LibTorch"}, {"sparse", false}}})},
          {"shapes",
           json::array({{{"name", "zaremba_large"}, {"parent", ""}, {"config", json::object()}},
                        {{"name", "small"}, {"parent", ""}, {"config", json::object()}},
                        {{"name", "pruned"},
                         {"parent", "zaremba_large"},
                         {"config", {{"embedding_size", 1500}, {"hidden_sizes", {373, 315}}}}}})},
          {"runs", runs},
          {"notes", json::array()},
          {"default_engine", "blas"}};
}

// The typed document of a JSON one (as a results file holds it).
SpeedRecord Typed(const json& j) {
  absl::StatusOr<SpeedRecord> r = SpeedRecord::FromJson(j);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : SpeedRecord();
}

TEST(SpeedReport, EvaluatesTheBarsOnMeasuredNumbers) {
  std::vector<SpeedBar> bars = EvaluateSpeedBars(Typed(Doc()));
  int roofline_large = 0, cache = 0, b1 = 0, b20 = 0;
  for (const SpeedBar& b : bars) {
    if (b.bar.find("1.3x") != std::string::npos) {
      ++roofline_large;
      EXPECT_TRUE(b.met);
      EXPECT_DOUBLE_EQ(b.measured, 1.2);
    } else if (b.bar.find("cache-resident") != std::string::npos) {
      ++cache;
      EXPECT_EQ(b.met, b.subject.rfind("pruned", 0) == 0) << b.subject;  // small: 2.5x misses
    } else if (b.bar.find("batch 20") != std::string::npos) {
      ++b20;
      // large: blas 2.0 ms vs torch 1.0 ms -> 0.5x, missed; the others 4x / 2.5x, met.
      EXPECT_EQ(b.met, b.subject.rfind("zaremba_large", 0) != 0) << b.subject;
    } else {
      ++b1;
      EXPECT_TRUE(b.met) << b.subject << " " << b.measured;  // 2.5x, 4x, 2.5x
    }
  }
  EXPECT_EQ(roofline_large, 1);
  EXPECT_EQ(cache, 2);   // small and pruned (both L3); large is in DRAM
  EXPECT_EQ(b1, 3 * 4);  // 3 dense shapes x 2 scopes x 2 batch-1 modes
  EXPECT_EQ(b20, 3 * 2);
}

TEST(SpeedReport, RendersProvenancePublishedFiguresAndSpeedups) {
  const std::string md = RenderSpeedReport(Typed(Doc()), "default");
  EXPECT_NE(md.find("OPENBLAS_CORETYPE `Haswell`"), std::string::npos);
  EXPECT_NE(md.find("bazel run -c opt //benchmarks:all"), std::string::npos);
  EXPECT_NE(md.find("10.59x"), std::string::npos);      // published ISS, labelled
  EXPECT_NE(md.find("nearly 20x"), std::string::npos);  // the paper's claim, labelled
  EXPECT_NE(md.find("| pruned | E 1500, H 373/315 | `blas` | 10.00x"), std::string::npos) << md;
  EXPECT_NE(md.find("**no**"), std::string::npos);  // missed bars are shown
  EXPECT_NE(md.find("| batch 1 | 1.00x | `torch` |"), std::string::npos) << md;  // engine race
}

// Issue 17.5: each speedup shows the range its two interquartile ranges allow, and every
// measurement its spread, where the results recorded them (older results render as before).
TEST(SpeedReport, ShowsTheSpreadOfEveryMeasurementWhereRecorded) {
  json doc = Doc();
  for (json& r : doc["runs"]) {
    const double ms = r["ms_per_token"].get<double>();
    r["ms_per_token_iqr"] = {0.9 * ms, 1.1 * ms};
    r["repetitions"] = 5;
  }
  const std::string md = RenderSpeedReport(Typed(doc), "default");
  // pruned vs zaremba_large, blas, lstm b1_seq: 4.0 / 0.4 = 10x; [3.6 / 0.44, 4.4 / 0.36].
  EXPECT_NE(md.find("| pruned | E 1500, H 373/315 | `blas` | 10.00x [8.18, 12.22]"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 4 ±10.0% (1.20x)"), std::string::npos) << md;
}

TEST(SpeedReport, RerenderNeedsAValidResultsFile) {
  const char* t = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(t != nullptr ? t : "/tmp") + "/speed_report";
  EXPECT_EQ(RerenderSpeedReport("default", dir).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(MakeDirs(dir + "/results").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/speed_default.json", "{\"runs\": [").ok());
  EXPECT_EQ(RerenderSpeedReport("default", dir).code(), absl::StatusCode::kInvalidArgument);
  json wrong = Doc();
  wrong["runs"][0]["ms_per_token"] = "fast";
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/speed_default.json", wrong.dump()).ok());
  const absl::Status refused = RerenderSpeedReport("default", dir);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("in \"runs[0]\": field \"ms_per_token\" is \"fast\""),
            std::string::npos)
      << refused;
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/speed_default.json", Doc().dump()).ok());
  ASSERT_TRUE(RerenderSpeedReport("default", dir).ok());
  EXPECT_TRUE(PathExists(dir + "/speed.md"));
  EXPECT_TRUE(PathExists(dir + "/speed_default.svg"));
}

}  // namespace
}  // namespace rnnprune
