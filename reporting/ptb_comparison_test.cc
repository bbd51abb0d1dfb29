#include "reporting/ptb_comparison.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// The typed records of JSON ones, as a results file holds them (reporting/ptb_record.h).
std::vector<PtbRecord> Typed(const std::vector<json>& runs) {
  absl::StatusOr<std::vector<PtbRecord>> r = PtbRecordsFromJson(runs, "test");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<PtbRecord>();
}

// The functions under test, on records written as JSON.
std::optional<double> LstmB1Speedup(const json& run) {
  return rnnprune::LstmB1Speedup(Typed({run})[0]);
}
std::string RenderAtL0Sizes(const std::vector<json>& runs, const std::string& preset) {
  return rnnprune::RenderAtL0Sizes(Typed(runs), preset);
}
std::string RenderFastestAtEachL0(const std::vector<json>& runs, const std::string& preset) {
  return rnnprune::RenderFastestAtEachL0(Typed(runs), preset);
}
std::string RenderStepCost(const std::vector<json>& runs, const std::string& preset) {
  return rnnprune::RenderStepCost(Typed(runs), preset);
}

// A method run of preset "p" with its kept sizes, LSTM b1 speedup and perplexities.
json MethodRun(const std::string& method, const std::string& setting, std::vector<int64_t> inputs,
               std::vector<int64_t> hidden, double speedup, double valid, double test) {
  json r = {{"preset", "p"},
            {"method", method},
            {"setting", setting},
            {"parent_checkpoint", "parent.pt"},
            {"valid_perplexity", valid},
            {"test_perplexity", test},
            {"speedup", {{"lstm_b1", speedup}}},
            {"sizes", {{"input_sizes", inputs}, {"hidden_sizes", hidden}}}};
  return r;
}

TEST(PtbComparison, LstmSpeedupTakesTheFastestEngine) {
  json r = MethodRun("magnitude", "0.9", {200, 200}, {200, 200}, 1.02, 120, 118);
  EXPECT_DOUBLE_EQ(*LstmB1Speedup(r), 1.02);
  r["csr_speedup"] = {{"lstm_b1", 1.4}};
  EXPECT_DOUBLE_EQ(*LstmB1Speedup(r), 1.4);
  EXPECT_FALSE(LstmB1Speedup(json::object()).has_value());
}

TEST(PtbComparison, AtL0SizesMatchesTheBaselinesByTargetSizes) {
  std::vector<json> runs = {MethodRun("l0", "1", {150, 180}, {200, 120}, 1.6, 125, 121)};
  json sm =
      MethodRun("structured_magnitude", "150:180:200:120", {150, 180}, {200, 120}, 1.6, 127, 124);
  sm["target_sizes"] = {150, 180, 200, 120};
  json rnd = MethodRun("random", "150:180:200:120", {150, 180}, {200, 120}, 1.6, 131, 129);
  rnd["target_sizes"] = {150, 180, 200, 120};
  // A random run at other sizes must not be matched.
  json other = MethodRun("random", "100:100:100:100", {100, 100}, {100, 100}, 2.0, 150, 100);
  other["target_sizes"] = {100, 100, 100, 100};
  runs.insert(runs.end(), {sm, rnd, other});
  const std::string md = RenderAtL0Sizes(runs, "p");
  EXPECT_THAT(md, HasSubstr("| l0 1 | 150 / 180 / 200 / 120 | 1.60x | 125.00 / 121.00 | "
                            "127.00 / 124.00 | 131.00 / 129.00 | yes |"));
  runs[0]["test_perplexity"] = 125.0;
  EXPECT_THAT(RenderAtL0Sizes(runs, "p"), HasSubstr("| no |"));
  EXPECT_EQ(RenderAtL0Sizes(runs, "another preset"), "");
}

TEST(PtbComparison, FastestPicksByValidWithinTenPercent) {
  std::vector<json> runs = {
      MethodRun("l0", "2", {100, 100}, {100, 100}, 2.0, 130, 126),
      // Within +-10% of 2.0: the lower valid perplexity wins even with a worse test one.
      MethodRun("iss", "a", {200, 100}, {100, 200}, 1.85, 140, 139),
      MethodRun("iss", "b", {200, 100}, {100, 200}, 2.15, 145, 133),
      MethodRun("iss", "c", {200, 50}, {50, 200}, 3.0, 200, 190),  // too fast
      MethodRun("magnitude", "0.9", {200, 200}, {200, 200}, 1.0, 125, 121),
      MethodRun("random", "x", {200, 50}, {50, 200}, 2.5, 170, 160)};
  const std::string md = RenderFastestAtEachL0(runs, "p");
  EXPECT_THAT(md, HasSubstr("| l0 2 | 2.00x | 130.00 / 126.00 | (this method) | "
                            "139.00 (a, 1.85x) | none that fast | none within +-10% |"));
}

TEST(PtbComparison, ParetoFrontKeepsTheUndominated) {
  // (speedup, perplexity): (1, 120) (2, 125) (1.5, 130: dominated by (2, 125)) (3, 140).
  const std::vector<size_t> front = ParetoFront({{1, 120}, {2, 125}, {1.5, 130}, {3, 140}});
  EXPECT_EQ(front, (std::vector<size_t>{0, 1, 3}));
  EXPECT_TRUE(ParetoFront({}).empty());
}

TEST(PtbComparison, StepCostIsAgainstTheDenseControl) {
  json control = MethodRun("dense", "-", {200, 200}, {200, 200}, 1.0, 120, 118);
  control["search"] = {{"tokens_per_second", 10000.0}};
  control["recovery"] = {{"tokens_per_second", 10000.0}};
  control["protocol"] = {{"search", {{"steps", 400}}}};
  json l0 = MethodRun("l0", "1", {200, 200}, {200, 150}, 1.2, 121, 119);
  l0["search"] = {{"tokens_per_second", 9000.0}};
  l0["recovery"] = {{"tokens_per_second", 11000.0}};
  l0["protocol"] = control["protocol"];
  const std::string md = RenderStepCost({control, l0}, "p");
  EXPECT_THAT(md, HasSubstr("| l0 | 1 | 400 | 9000 | 1.11x | 11000 |"));
  EXPECT_THAT(md, HasSubstr("| dense (control) | - | 400 | 10000 | 1.00x | 10000 |"));
  EXPECT_THAT(RenderStepCost({}, "p"), Not(HasSubstr("|")));
}

}  // namespace
}  // namespace rnnprune
