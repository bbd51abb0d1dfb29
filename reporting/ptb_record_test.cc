#include "reporting/ptb_record.h"

#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/results.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Every committed PTB results file (reports/BUILD) round-trips through the typed record
// unchanged, and the record type lists every field the job writes (nothing left in `extra`).
TEST(PtbRecord, TheCommittedRecordsRoundTripUnchanged) {
  for (const char* path :
       {"reports/results/ptb_default.jsonl", "reports/results/ptb_small.jsonl"}) {
    absl::StatusOr<std::vector<json>> lines = ReadJsonLines(path);
    ASSERT_TRUE(lines.ok()) << lines.status();
    ASSERT_FALSE(lines->empty()) << path;
    absl::StatusOr<std::vector<PtbRecord>> records = PtbRecordsFromJson(*lines, path);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), lines->size());
    for (size_t i = 0; i < lines->size(); ++i) {
      const PtbRecord& r = (*records)[i];
      EXPECT_EQ(r.ToJson(), (*lines)[i]) << path << ":" << i + 1;
      EXPECT_TRUE(r.extra.empty()) << path << ":" << i + 1 << " unlisted: " << r.extra.dump();
      for (const std::optional<PtbPhaseRecord>* phase : {&r.search, &r.recovery}) {
        EXPECT_TRUE(!*phase || (*phase)->extra.empty()) << (*phase)->extra.dump();
      }
      EXPECT_TRUE(!r.sizes || r.sizes->extra.empty()) << r.sizes->extra.dump();
      EXPECT_TRUE(!r.speedup || r.speedup->extra.empty()) << r.speedup->extra.dump();
      EXPECT_EQ(r.test_perplexity.value_or(0.0), (*lines)[i].value("test_perplexity", 0.0));
    }
  }
}

// The typed renderer gives, from the committed results files (read in the order
// RenderPtbReportFiles reads them), the committed report.
TEST(PtbRecord, TheCommittedReportRendersFromTheCommittedRecords) {
  std::vector<PtbRecord> runs;
  for (const char* path :
       {"reports/results/ptb_default.jsonl", "reports/results/ptb_small.jsonl"}) {
    absl::StatusOr<std::vector<json>> lines = ReadJsonLines(path);
    ASSERT_TRUE(lines.ok()) << lines.status();
    absl::StatusOr<std::vector<PtbRecord>> records = PtbRecordsFromJson(*lines, path);
    ASSERT_TRUE(records.ok()) << records.status();
    runs.insert(runs.end(), records->begin(), records->end());
  }
  absl::StatusOr<std::string> md = ReadFile("reports/ptb.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_EQ(RenderPtbReport(runs), *md);
}

TEST(PtbRecord, AWrongFieldIsNamedWithItsLine) {
  const std::vector<json> lines = {{{"method", "l0"}},
                                   {{"method", "iss"}, {"speedup", {{"lstm_b1", "fast"}}}}};
  absl::StatusOr<std::vector<PtbRecord>> records = PtbRecordsFromJson(lines, "ptb_x.jsonl");
  ASSERT_FALSE(records.ok());
  EXPECT_THAT(std::string(records.status().message()),
              HasSubstr("ptb_x.jsonl:2: in \"speedup\": field \"lstm_b1\" is \"fast\""));
}

// Older versions wrote null for "none" (an L0 run's agreement_check): the field stays absent
// and the null is written back as it was.
TEST(PtbRecord, ANullFieldIsAbsentAndKept) {
  const json line = {{"method", "l0"}, {"agreement_check", nullptr}, {"valid_perplexity", 120.5}};
  absl::StatusOr<PtbRecord> r = PtbRecord::FromJson(line);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->agreement_check.has_value());
  EXPECT_EQ(r->valid_perplexity, 120.5);
  EXPECT_EQ(r->ToJson(), line);
}

TEST(PtbRecord, MethodOwnedPartsStayAsTheMethodWroteThem) {
  const json line = {{"method", "l0"},
                     {"method_options", {{"gate_cost", "weights"}, {"lambda_hidden", 0.25}}},
                     {"search", {{"diagnostics", {{{"step", 0}, {"gate_sets", json::array()}}}}}}};
  absl::StatusOr<PtbRecord> r = PtbRecord::FromJson(line);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->method_options.has_value());
  EXPECT_EQ((*r->method_options)["gate_cost"], "weights");
  ASSERT_TRUE(r->search && r->search->diagnostics);
  EXPECT_EQ((*r->search->diagnostics)[0]["step"], 0);
  EXPECT_EQ(r->ToJson(), line);
}

}  // namespace
}  // namespace rnnprune
