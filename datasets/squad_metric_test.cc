// Hand-computed cases for the SQuAD v1.1 metric (expected values worked out from
// evaluate-v1.1.py's definitions, written beside each case, and checked against the script's
// normalize_answer / f1_score run in Python 3).
#include "datasets/squad_metric.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

TEST(SquadMetric, NormalizesLikeTheOfficialScript) {
  // lower -> punctuation out -> articles out -> whitespace collapsed.
  EXPECT_EQ(NormalizeAnswer("The Quick, brown fox!"), "quick brown fox");
  EXPECT_EQ(NormalizeAnswer("  An apple a\tday  "), "apple day");
  EXPECT_EQ(NormalizeAnswer("the theater"), "theater");  // "the" inside a word stays
  EXPECT_EQ(NormalizeAnswer("A-the-an"), "athean");      // '-' goes first: one word, no article
  EXPECT_EQ(NormalizeAnswer("(1,000) dollars"), "1000 dollars");
  EXPECT_EQ(NormalizeAnswer("___"), "");  // '_' is punctuation
  EXPECT_EQ(NormalizeAnswer(""), "");
}

TEST(SquadMetric, HandlesNonAsciiText) {
  EXPECT_EQ(NormalizeAnswer("Élan, CAFÉ"), "élan café");             // Unicode lowercase
  EXPECT_EQ(NormalizeAnswer("theé"), "theé");                        // é is a word character
  EXPECT_EQ(NormalizeAnswer("the\u00a0Zürich\u2003the"), "zürich");  // Unicode spaces
  EXPECT_EQ(NormalizeAnswer("«Beyoncé»"), "«beyoncé»");              // non-ASCII punctuation stays
  EXPECT_DOUBLE_EQ(ExactMatch("Zürich", "zürich."), 1.0);
}

TEST(SquadMetric, ExactMatchAndF1) {
  EXPECT_DOUBLE_EQ(ExactMatch("The Eiffel Tower", "eiffel tower"), 1.0);
  EXPECT_DOUBLE_EQ(ExactMatch("Eiffel", "eiffel tower"), 0.0);
  // pred {eiffel}, gold {eiffel, tower}: P = 1, R = 1/2, F1 = 2/3.
  EXPECT_NEAR(F1("Eiffel", "the Eiffel Tower"), 2.0 / 3.0, 1e-12);
  // Repeated tokens count as a multiset: pred {cat x3}, gold {cat x2, dog}: common 2,
  // P = 2/3, R = 2/3, F1 = 2/3.
  EXPECT_NEAR(F1("the cat cat cat", "cat cat dog"), 2.0 / 3.0, 1e-12);
  // Disjoint tokens: 0.
  EXPECT_DOUBLE_EQ(F1("red", "blue"), 0.0);
}

TEST(SquadMetric, EmptyPrediction) {
  EXPECT_DOUBLE_EQ(ExactMatch("", "Denver Broncos"), 0.0);
  EXPECT_DOUBLE_EQ(F1("", "Denver Broncos"), 0.0);
  // Both normalise to "": exact match 1, but v1.1's F1 is 0 (no common token).
  EXPECT_DOUBLE_EQ(ExactMatch("", "the"), 1.0);
  EXPECT_DOUBLE_EQ(F1("", "the"), 0.0);
}

TEST(SquadMetric, MaximumOverSeveralGoldAnswers) {
  const std::vector<std::string> golds = {"Denver Broncos", "The Broncos", "Broncos of Denver"};
  EXPECT_DOUBLE_EQ(MaxExactMatch("broncos", golds), 1.0);  // "The Broncos" -> "broncos"
  // "Denver" vs the golds: 2/3 (Denver Broncos), 0, 1/2 (P = 1, R = 1/3) -> 2/3.
  EXPECT_NEAR(MaxF1("Denver", golds), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(MaxF1("Denver", {}), 0.0);
}

nlohmann::json Dataset() {
  return nlohmann::json::parse(R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
    {"context": "Denver Broncos won.", "qas": [
      {"id": "q1", "question": "Who won?", "answers": [{"answer_start": 0, "text": "Denver Broncos"},
                                                       {"answer_start": 7, "text": "Broncos"}]},
      {"id": "q2", "question": "What?", "answers": [{"answer_start": 15, "text": "won"}]},
      {"id": "q3", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"}]}]}]}]})");
}

TEST(SquadMetric, ScoresADatasetAsTheScriptDoes) {
  // q1 "the Broncos" -> EM 1 (gold "Broncos"), F1 1; q2 "won the game" -> EM 0, F1: pred
  // {won, game}, gold {won}: P 1/2, R 1 -> 2/3; q3 unanswered -> 0, 0.
  // EM = 100 * 1/3, F1 = 100 * (1 + 2/3) / 3.
  const nlohmann::json predictions = {{"q1", "the Broncos"}, {"q2", "won the game"}};
  std::vector<std::string> messages;
  absl::StatusOr<SquadScore> s = EvaluateSquad(Dataset(), predictions, &messages);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->questions, 3);
  EXPECT_EQ(s->unanswered, 1);
  EXPECT_NEAR(s->exact_match, 100.0 / 3.0, 1e-9);
  EXPECT_NEAR(s->f1, 100.0 * (5.0 / 3.0) / 3.0, 1e-9);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "Unanswered question q3 will receive score 0.");
  const std::string out = s->ToOfficialJson();
  // Byte for byte what evaluate-v1.1.py prints for these predictions (checked with Python 3).
  EXPECT_EQ(out, "{\"exact_match\": 33.333333333333336, \"f1\": 55.55555555555555}");
}

TEST(SquadMetric, RejectsMalformedInputNamingThePlace) {
  nlohmann::json bad = Dataset();
  bad["data"][0]["paragraphs"][0]["qas"][1].erase("answers");
  absl::StatusOr<SquadScore> s = EvaluateSquad(bad, nlohmann::json::object(), nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("data[0].paragraphs[0].qas[1]"), std::string::npos)
      << s.status();
  EXPECT_FALSE(EvaluateSquad(Dataset(), nlohmann::json::array(), nullptr).ok());
  const nlohmann::json not_string = {{"q1", 3}};
  s = EvaluateSquad(Dataset(), not_string, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("q1"), std::string::npos);
  nlohmann::json v2 = Dataset();
  v2["version"] = "2.0";
  std::vector<std::string> messages;
  ASSERT_TRUE(EvaluateSquad(v2, nlohmann::json::object(), &messages).ok());
  EXPECT_NE(messages[0].find("v-2.0"), std::string::npos);
}

}  // namespace
}  // namespace rnnprune
