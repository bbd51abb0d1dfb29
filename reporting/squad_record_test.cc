#include "reporting/squad_record.h"

#include <string>
#include <vector>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/bidaf_pruning_report.h"
#include "reporting/squad_report.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// The committed results file of the default preset (reports/BUILD), read from the runfiles.
constexpr char kCommittedRecord[] = "reports/results/squad_default.json";

TEST(SquadRecord, TheCommittedRecordRoundTripsUnchanged) {
  absl::StatusOr<std::string> text = ReadFile(kCommittedRecord);
  ASSERT_TRUE(text.ok()) << text.status();
  const json original = json::parse(*text);
  absl::StatusOr<SquadRecord> r = SquadRecord::FromJson(original);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ToJson(), original);
  EXPECT_TRUE(r->extra.empty()) << "fields the type does not list: " << r->extra.dump();
  EXPECT_EQ(r->protocol, "local");
  ASSERT_TRUE(r->f1.has_value());
  EXPECT_EQ(*r->f1, original["f1"].get<double>());
  EXPECT_EQ(r->provenance.git_commit, original["git_commit"].get<std::string>());
}

// The typed renderer gives, from the committed results, the committed report: the report was
// rendered from these results, by the code of the day, and nothing in between changed a byte.
TEST(SquadRecord, TheCommittedReportRendersFromTheCommittedRecord) {
  absl::StatusOr<SquadRecord> r = ReadSquadRecord(kCommittedRecord);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<std::string> md = ReadFile("reports/squad.md");
  ASSERT_TRUE(md.ok()) << md.status();
  // With the default preset's BiDAF pruning runs, each of which loads and round-trips unchanged.
  absl::StatusOr<std::vector<BidafPruningRecord>> pruning = ReadBidafPruningRecords("reports");
  ASSERT_TRUE(pruning.ok()) << pruning.status();
  EXPECT_GE(pruning->size(), 5u);
  for (const std::string& f : FilesIn("reports/results", "bidaf_pruning_", ".json")) {
    SCOPED_TRACE(f);
    absl::StatusOr<std::string> text = ReadFile(f);
    ASSERT_TRUE(text.ok());
    absl::StatusOr<BidafPruningRecord> p = ReadBidafPruningRecord(f);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->ToJson(), json::parse(*text));
  }
  const std::string sections =
      RenderBidafPruningSection(*pruning, {*r}, "default", "squad_pruning_default.svg");
  EXPECT_EQ(RenderSquadReport({*r}, sections), *md);
}

TEST(SquadRecord, KeysOfOtherVersionsAreKeptAndMissingFieldsStayAbsent) {
  const json old = {{"task", "squad"}, {"f1", 12.5}, {"renamed_since", {1, 2}}};
  absl::StatusOr<SquadRecord> r = SquadRecord::FromJson(old);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->f1, 12.5);
  EXPECT_FALSE(r->exact_match.has_value());
  EXPECT_FALSE(r->provenance.git_commit.has_value());
  EXPECT_EQ(r->extra, json({{"renamed_since", {1, 2}}}));
  EXPECT_EQ(r->ToJson(), old);
  // The report prints "?" for what the record lacks.
  EXPECT_THAT(RenderSquadReport({*r}), HasSubstr("| ? | ? | 12.50 |"));
}

TEST(SquadRecord, AFieldOfTheWrongTypeIsRefusedByName) {
  absl::StatusOr<SquadRecord> r = SquadRecord::FromJson({{"f1", "high"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("field \"f1\" is \"high\", but must be a number"));
  r = SquadRecord::FromJson({{"eval_titles", {"a", 3}}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("field \"eval_titles[1]\" is 3, but must be a string"));
  r = SquadRecord::FromJson({{"threads", 2.5}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("\"threads\" is 2.5"));
  EXPECT_FALSE(SquadRecord::FromJson(json::array()).ok());
}

TEST(SquadRecord, AFileThatIsNotARecordIsNamed) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/squad_bad.json";
  ASSERT_TRUE(WriteFileAtomically(path, "{\"f1\": ").ok());
  absl::StatusOr<SquadRecord> r = ReadSquadRecord(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
}

}  // namespace
}  // namespace rnnprune
