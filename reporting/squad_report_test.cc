#include "reporting/squad_report.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

json SquadRun(const std::string& preset, const std::string& protocol, double em, double f1) {
  return {{"task", "squad"},
          {"preset", preset},
          {"protocol", protocol},
          {"exact_match", em},
          {"f1", f1},
          {"eval_questions", 1975},
          {"eval_questions_total", 1975},
          {"train_questions", 8595},
          {"config",
           {{"hidden_size", 50},
            {"word_dim", 100},
            {"char_channels", 50},
            {"char_kernel_width", 5},
            {"dropout", 0.2}}},
          {"epochs", 1},
          {"max_steps_per_epoch", 120},
          {"batch_size", 32},
          {"optimizer", "adam"},
          {"learning_rate", 0.001},
          {"ema_decay", 0.999},
          {"steps", 120},
          {"train_seconds", 200.0},
          {"train_questions_per_s", 19.2},
          {"eval_questions_per_s", 150.0},
          {"threads", 2},
          {"git_commit", "0123456789abcdef0123"},
          {"epoch_loss", {9.5}},
          {"command", "bazel run -c opt //benchmarks:all"}};
}

// The typed record of a JSON one (as a results file holds it).
SquadRecord Typed(const json& j) {
  absl::StatusOr<SquadRecord> r = SquadRecord::FromJson(j);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : SquadRecord();
}

TEST(SquadReport, SeparatesProtocolsAndLabelsPublishedFigures) {
  const std::string md = RenderSquadReport({Typed(SquadRun("default", "local", 12.345, 20.5)),
                                            Typed(SquadRun("paper", "official", 60.0, 70.0))});
  const size_t local = md.find("## Protocol `local`");
  const size_t official = md.find("## Protocol `official`");
  ASSERT_NE(local, std::string::npos) << md;
  ASSERT_NE(official, std::string::npos) << md;
  // Each number sits in its own protocol's table.
  const size_t em_local = md.find("| default | 12.35 | 20.50 |");
  const size_t em_official = md.find("| paper | 60.00 | 70.00 |");
  ASSERT_NE(em_local, std::string::npos) << md;
  ASSERT_NE(em_official, std::string::npos) << md;
  EXPECT_GT(em_local, local);
  EXPECT_LT(em_official, local > official ? local : md.size());
  EXPECT_GT(em_official, official);
  // The published figures stand apart, labelled with the source.
  const size_t published = md.find("## Published (not ours)");
  ASSERT_NE(published, std::string::npos);
  EXPECT_NE(md.find("| 67.7 | 77.3 | Seo", published), std::string::npos) << md;
  EXPECT_NE(md.find("1 x 120 steps, batch 32, adam lr 0.001"), std::string::npos) << md;
  EXPECT_NE(md.find("3.3 min"), std::string::npos) << md;
}

TEST(SquadReport, MissingFieldsShowAQuestionMarkAndPartialEvaluationIsSaid) {
  json r = SquadRun("smoke", "local", 1.0, 2.0);
  r.erase("f1");
  r["eval_questions"] = 200;
  const std::string md = RenderSquadReport({Typed(r)});
  EXPECT_NE(md.find("| smoke | 1.00 | ? | 200 of 1,975 (the first, in file order) | ? |"),
            std::string::npos)
      << md;
}

// A sweep's run (--noevaluate_test) scored only the validation part: the table says so and
// gives the best of its per-epoch validation curve.
TEST(SquadReport, SweepRunsShowTheirBestValidationF1) {
  json r = SquadRun("default", "local", 0, 0);
  for (const char* key : {"exact_match", "f1", "eval_questions", "eval_questions_per_s"}) {
    r.erase(key);
  }
  r["epoch_validation_exact_match"] = {3.0, 9.5, 8.0};
  r["epoch_validation_f1"] = {10.0, 20.25, 19.0};
  const std::string md = RenderSquadReport({Typed(r)});
  EXPECT_NE(
      md.find("| default | ? | ? | none (a sweep run: --noevaluate_test) | 20.25 (epoch 2) |"),
      std::string::npos)
      << md;
}

// The points of a sweep are named beside the preset and listed in the order of their values,
// whatever order their files come in.
TEST(SquadReport, SweepPointsAreNamedAndOrdered) {
  json a = SquadRun("default", "local", 30.0, 40.0);
  json b = SquadRun("default", "local", 31.0, 41.0);
  a["sweep_point"] = {{"squad_learning_rate", 0.002}};
  b["sweep_point"] = {{"squad_learning_rate", 0.001}};
  const std::string md = RenderSquadReport({Typed(a), Typed(b)});
  const size_t first = md.find("| default [squad_learning_rate=0.001] | 31.00 | 41.00 |");
  const size_t second = md.find("| default [squad_learning_rate=0.002] | 30.00 | 40.00 |");
  ASSERT_NE(first, std::string::npos) << md;
  ASSERT_NE(second, std::string::npos) << md;
  EXPECT_LT(first, second);
}

TEST(SquadReport, RendersFilesAndSaysWhenThereIsNothing) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/reports";
  EXPECT_TRUE(absl::IsNotFound(RenderSquadReportFiles(dir + "_none")));
  ASSERT_TRUE(MakeDirs(dir + "/results").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/squad_default.json",
                                  SquadRun("default", "local", 5, 9).dump())
                  .ok());
  ASSERT_TRUE(RenderSquadReportFiles(dir).ok());
  absl::StatusOr<std::string> md = ReadFile(dir + "/squad.md");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("| default | 5.00 | 9.00 |"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/squad_bad.json", "[1, 2]").ok());
  absl::Status bad = RenderSquadReportFiles(dir);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("squad_bad.json"), std::string::npos) << bad;
}

}  // namespace
}  // namespace rnnprune
