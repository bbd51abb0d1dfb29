#include "reporting/format.h"

#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

TEST(Format, FieldsAndMissingFields) {
  const json r = {{"ppl", 114.4567}, {"name", "l0"}, {"sizes", {1, 2}}, {"n", 8595},
                  {"neg", -1234567}, {"t", 95.0},    {"big", 7200},     {"text_n", "12"}};
  EXPECT_EQ(FieldNumber(r, "ppl"), "114.46");
  EXPECT_EQ(FieldNumber(r, "ppl", "%.0f"), "114");
  EXPECT_EQ(FieldNumber(r, "name"), "?");
  EXPECT_EQ(FieldNumber(r, "absent"), "?");
  EXPECT_EQ(FieldText(r, "name"), "l0");
  EXPECT_EQ(FieldText(r, "sizes"), "[1,2]");
  EXPECT_EQ(FieldText(r, "absent"), "?");
  // A results file's string cannot break a Markdown table (issue 17's audit).
  EXPECT_EQ(FieldText(json{{"e", "a | b\nc"}}, "e"), "a \\| b c");
  EXPECT_EQ(MarkdownCellText("x|y\r\n"), "x\\|y  ");
  EXPECT_EQ(FieldCount(r, "n"), "8,595");
  EXPECT_EQ(FieldCount(r, "neg"), "-1,234,567");
  EXPECT_EQ(FieldCount(r, "text_n"), "?");
  EXPECT_EQ(FieldDuration(r, "t"), "1.6 min");
  EXPECT_EQ(FieldDuration(r, "big"), "2.0 h");
  EXPECT_EQ(FieldDuration(r, "absent"), "?");
  EXPECT_EQ(HumanDuration(42.4), "42 s");
}

// The cells of typed record fields are those of the same JSON fields.
TEST(Format, TypedCellsMatchTheFieldCells) {
  EXPECT_EQ(NumberCell(114.4567), "114.46");
  EXPECT_EQ(NumberCell(std::nullopt, "%.1f"), "?");
  EXPECT_EQ(TextCell(std::optional<std::string>("a | b")), "a \\| b");
  EXPECT_EQ(TextCell(std::optional<std::string>()), "?");
  EXPECT_EQ(TextCell(std::optional<int64_t>(12)), "12");
  // A number as JSON prints it, as FieldText does.
  const json lr = {{"lr", 0.001}, {"one", 1.0}};
  EXPECT_EQ(TextCell(std::optional<double>(0.001)), FieldText(lr, "lr"));
  EXPECT_EQ(TextCell(std::optional<double>(1.0)), FieldText(lr, "one"));
  EXPECT_EQ(TextCell(std::optional<double>()), "?");
  EXPECT_EQ(CountCell(int64_t{-1234567}), "-1,234,567");
  EXPECT_EQ(CountCell(std::nullopt), "?");
  EXPECT_EQ(DurationCell(95.0), "1.6 min");
  EXPECT_EQ(DurationCell(std::nullopt), "?");
}

TEST(Format, PresetsOrderLargestBudgetFirst) {
  EXPECT_LT(PresetRank("paper"), PresetRank("small"));
  EXPECT_LT(PresetRank("small"), PresetRank("default"));
  EXPECT_LT(PresetRank("default"), PresetRank("quick"));
  EXPECT_LT(PresetRank("quick"), PresetRank("smoke"));
  EXPECT_LT(PresetRank("smoke"), PresetRank("mine"));
}

TEST(Format, APresetCellNamesItsSweepPoint) {
  EXPECT_EQ(PresetCell(std::string("default"), std::nullopt), "default");
  EXPECT_EQ(PresetCell(std::string("default"), nlohmann::json::object()), "default");
  const nlohmann::json point = {{"seed", 2}, {"squad_optimizer", "a|b"}};
  EXPECT_EQ(PresetCell(std::string("smoke"), point),
            "smoke [seed=2, squad_optimizer=\"a\\|b\"]");  // a cell's '|' is escaped
}

}  // namespace
}  // namespace rnnprune
