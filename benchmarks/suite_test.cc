#include "benchmarks/suite.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "common/data_dir.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reports/results.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

SuiteOptions Smoke(const std::string& name) {
  SuiteOptions o;
  o.preset = "smoke";
  o.threads = 1;
  o.seed = 7;
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
  o = Smoke("bad");
  o.tasks = {"ptb", "mnist"};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("unknown task 'mnist'"));
  o = Smoke("bad");
  o.device = "tpu";
  EXPECT_FALSE(ValidateSuiteOptions(o).ok());
  o.device = "cuda";  // Debian's LibTorch has no CUDA: a clear message, not a crash
  absl::Status s = ValidateSuiteOptions(o);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("--device=cuda"));
  o = Smoke("bad");
  o.l0_lambdas = {1e-4, -1e-5};
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_lambdas"));
  o = Smoke("bad");
  o.l0_init_keep = 1.0;
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_init_keep=1"));
  o = Smoke("bad");
  o.l0_mode = "later";
  EXPECT_THAT(std::string(ValidateSuiteOptions(o).message()), HasSubstr("--l0_mode='later'"));
  EXPECT_TRUE(ValidateSuiteOptions(Smoke("ok")).ok());
}

// Two smoke runs on real PTB, one thread, same seed: identical perplexities.
TEST(Suite, SmokeOnRealPtbIsDeterministic) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  double valid[2], test[2];
  std::vector<double> l0_test[2];
  for (int i = 0; i < 2; ++i) {
    SuiteOptions o = Smoke(i == 0 ? "a" : "b");
    o.data_dir = data;
    auto runs = RunSuite(o);
    ASSERT_TRUE(runs.ok()) << runs.status();
    ASSERT_EQ(runs->size(), 4u);  // dense + L0 at three lambdas
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
    for (size_t k = 1; k < runs->size(); ++k) {
      const auto& l0 = (*runs)[k];
      EXPECT_EQ(l0["method"], "l0");
      if (l0.contains("collapsed")) {
        l0_test[i].push_back(-1);
        continue;
      }
      // The compacted model reproduces the gated one, and it was exported.
      EXPECT_NEAR(l0["test_perplexity"].get<double>(), l0["gated_test_perplexity"].get<double>(),
                  1e-3 * l0["test_perplexity"].get<double>());
      EXPECT_TRUE(PathExists(l0["checkpoint"].get<std::string>()));
      EXPECT_TRUE(PathExists(l0["export_json"].get<std::string>()));
      l0_test[i].push_back(l0["test_perplexity"].get<double>());
    }
    auto lines = ReadJsonLines(o.reports_dir + "/results/ptb_smoke.jsonl");
    ASSERT_TRUE(lines.ok()) << lines.status();
    EXPECT_EQ(lines->size(), 4u);
    auto md = ReadFile(o.reports_dir + "/ptb.md");
    ASSERT_TRUE(md.ok());
    EXPECT_THAT(*md, HasSubstr("| smoke | small |"));
    EXPECT_TRUE(PathExists(o.output_dir + "/ptb_smoke_small_dense.pt"));
  }
  EXPECT_EQ(valid[0], valid[1]);
  EXPECT_EQ(test[0], test[1]);
  EXPECT_EQ(l0_test[0], l0_test[1]);
}

// L0 gates trained from scratch (no dense checkpoint involved), one lambda.
TEST(Suite, L0FromScratchRunsOnRealPtb) {
  const std::string data = TestDataDir("ptb/ptb.train.txt");
  if (data.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  SuiteOptions o = Smoke("scratch");
  o.data_dir = data;
  o.l0_mode = "scratch";
  o.l0_lambdas = {1e-6};
  o.l0_input_lambda_ratio = 0.5;
  auto runs = RunSuite(o);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  const auto& r = (*runs)[1];
  EXPECT_EQ(r["l0_mode"], "scratch");
  EXPECT_DOUBLE_EQ(r["lambda_input"].get<double>(), 0.5e-6);
  EXPECT_EQ(r["epochs"][0]["steps"], 60);  // the dense run's schedule, not the fine-tuning one
  EXPECT_NEAR(r["test_perplexity"].get<double>(), r["gated_test_perplexity"].get<double>(),
              1e-3 * r["test_perplexity"].get<double>());
}

}  // namespace
}  // namespace rnnprune
