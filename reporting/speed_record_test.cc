#include "reporting/speed_record.h"

#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/speed_report.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// The committed results document of the default preset (reports/BUILD), from the runfiles.
constexpr char kCommittedRecord[] = "reports/results/speed_default.json";

absl::StatusOr<json> ReadCommitted() {
  absl::StatusOr<std::string> text = ReadFile(kCommittedRecord);
  if (!text.ok()) return text.status();
  return json::parse(*text);
}

TEST(SpeedRecord, TheCommittedDocumentRoundTripsUnchanged) {
  absl::StatusOr<json> original = ReadCommitted();
  ASSERT_TRUE(original.ok()) << original.status();
  absl::StatusOr<SpeedRecord> doc = SpeedRecord::FromJson(*original);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->ToJson(), *original);
  EXPECT_TRUE(doc->extra.empty()) << doc->extra.dump();
  ASSERT_TRUE(doc->runs.has_value());
  ASSERT_FALSE(doc->runs->empty());
  for (const SpeedRunRecord& r : *doc->runs) {
    EXPECT_TRUE(r.extra.empty()) << "a run field the type does not list: " << r.extra.dump();
  }
  for (const SpeedShapeRecord& s : doc->shapes.value_or(std::vector<SpeedShapeRecord>{})) {
    EXPECT_TRUE(s.extra.empty()) << "a shape field the type does not list: " << s.extra.dump();
  }
  ASSERT_TRUE(doc->machine.has_value());
  EXPECT_TRUE(doc->machine->extra.empty()) << doc->machine->extra.dump();
}

// The typed renderer gives, from the committed document, the committed report.
TEST(SpeedRecord, TheCommittedReportRendersFromTheCommittedDocument) {
  absl::StatusOr<json> original = ReadCommitted();
  ASSERT_TRUE(original.ok()) << original.status();
  absl::StatusOr<SpeedRecord> doc = SpeedRecord::FromJson(*original);
  ASSERT_TRUE(doc.ok()) << doc.status();
  absl::StatusOr<std::string> md = ReadFile("reports/speed.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_EQ(RenderSpeedReport(*doc, "default"), *md);
}

TEST(SpeedRecord, NestedFieldsOfTheWrongTypeAreNamedWithTheirPlace) {
  absl::StatusOr<SpeedRecord> doc =
      SpeedRecord::FromJson({{"runs", {{{"shape", "a"}}, {{"threads", "two"}}}}});
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(std::string(doc.status().message()),
              HasSubstr("in \"runs[1]\": field \"threads\" is \"two\", but must be an integer"));
  doc = SpeedRecord::FromJson({{"machine", {1, 2}}});
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(std::string(doc.status().message()),
              HasSubstr("field \"machine\" is [1,2], but must be an object"));
  doc = SpeedRecord::FromJson({{"shapes", {{"name", "x"}}}});
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr("shapes"));
}

TEST(SpeedRecord, KeysOfOtherVersionsAreKeptAtEveryLevel) {
  const json old = {{"runs", {{{"shape", "a"}, {"old_field", 3}}}}, {"top_level_old", true}};
  absl::StatusOr<SpeedRecord> doc = SpeedRecord::FromJson(old);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->runs->size(), 1u);
  EXPECT_EQ((*doc->runs)[0].shape, "a");
  EXPECT_EQ((*doc->runs)[0].extra, json({{"old_field", 3}}));
  EXPECT_FALSE(doc->machine.has_value());
  EXPECT_EQ(doc->ToJson(), old);
}

}  // namespace
}  // namespace rnnprune
