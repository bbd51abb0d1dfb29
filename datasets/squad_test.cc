#include "datasets/squad.h"

#include <algorithm>
#include <string>

#include "common/data_dir.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

std::vector<std::string> Texts(const std::vector<SpanToken>& tokens) {
  std::vector<std::string> out;
  for (const SpanToken& t : tokens) out.push_back(t.text);
  return out;
}

void ExpectSpansExact(absl::string_view text, const std::vector<SpanToken>& tokens) {
  for (const SpanToken& t : tokens) {
    EXPECT_EQ(text.substr(t.begin, t.end - t.begin), t.text);
  }
}

TEST(SquadTokenizer, SplitsPunctuationAndKeepsSpans) {
  const std::string text = "Hello, world! (It's 1,000.)";
  const std::vector<SpanToken> tokens = TokenizeWithSpans(text);
  EXPECT_EQ(Texts(tokens), (std::vector<std::string>{"Hello", ",", "world", "!", "(", "It", "'",
                                                     "s", "1", ",", "000", ".", ")"}));
  ExpectSpansExact(text, tokens);
  EXPECT_EQ(tokens[2].begin, 7);
  EXPECT_EQ(tokens[2].end, 12);
}

TEST(SquadTokenizer, HandlesNonAsciiText) {
  const std::string text = "Beyonc\u00e9's \u00abCrazy\u00bb caf\u0065\u0301\u2003Z\u00fcrich";
  const std::vector<SpanToken> tokens = TokenizeWithSpans(text);
  EXPECT_EQ(Texts(tokens),
            (std::vector<std::string>{"Beyonc\u00e9", "'", "s", "\u00ab", "Crazy", "\u00bb",
                                      "cafe\u0301", "Z\u00fcrich"}));  // the mark stays in its word
  ExpectSpansExact(text, tokens);
  EXPECT_TRUE(TokenizeWithSpans(" \t\n").empty());
}

TEST(SquadTokenizer, MapsByteSpansToTokenSpans) {
  const std::string text = "The Denver Broncos won.";
  const std::vector<SpanToken> tokens = TokenizeWithSpans(text);
  auto span = TokenSpan(tokens, 4, 18);  // "Denver Broncos"
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(*span, std::make_pair(int64_t{1}, int64_t{2}));
  span = TokenSpan(tokens, 6, 8);  // inside "Denver": the whole token
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(*span, std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_FALSE(TokenSpan(tokens, 3, 4).ok());    // a space only
  EXPECT_FALSE(TokenSpan(tokens, 50, 60).ok());  // outside the text
}

// answer_start counts code points: "Zürich is in " is 13 characters but 14 bytes.
const char kGood[] = R"({"version": "1.1", "data": [{"title": "Z", "paragraphs": [
  {"context": "Zürich is in Schweiz.", "qas": [
    {"id": "a", "question": "Where?", "answers": [{"answer_start": 13, "text": "Schweiz"},
                                                  {"answer_start": 0, "text": "Zürich"}]}]}]}]})";

TEST(SquadReader, ConvertsCharacterOffsetsToBytes) {
  absl::StatusOr<SquadDataset> d = ParseSquad(kGood, "good");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->version, "1.1");
  EXPECT_EQ(d->num_questions, 1);
  EXPECT_EQ(d->num_answers, 2);
  const SquadParagraph& p = d->articles[0].paragraphs[0];
  const SquadAnswer& a = p.questions[0].answers[0];
  EXPECT_EQ(a.begin, 14);
  EXPECT_EQ(p.context.substr(a.begin, a.end - a.begin), "Schweiz");
  EXPECT_EQ(p.questions[0].answers[1].end, 7);  // "Zürich" is 7 bytes
}

struct BadCase {
  std::string json;
  std::string message;
};

TEST(SquadReader, RejectsBadInputNamingTheQuestion) {
  const std::string head =
      R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "Denver won.", "qas": [)";
  const std::string tail = "]}]}]}";
  const BadCase cases[] = {
      {"{\"data\": [", "not valid JSON"},
      {R"({"version": "1.1"})", "needs an array \"data\""},
      {head + R"({"question": "Who?", "answers": []})" + tail, "qas[0]: needs a string \"id\""},
      {head +
           R"({"id": "q1", "question": "Who?", "answers": [{"answer_start": 20, "text": "won"}]})" +
           tail,
       "question q1 (data[0].paragraphs[0].qas[0]): answer 0: answer_start 20 + 3 characters is "
       "outside the context (11 characters)"},
      {head +
           R"({"id": "q2", "question": "Who?", "answers": [{"answer_start": 0, "text": "Dallas"}]})" +
           tail,
       "question q2 (data[0].paragraphs[0].qas[0]): answer 0: text \"Dallas\" does not match the "
       "context at answer_start 0 (\"Denver\")"},
      {head +
           R"({"id": "q3", "question": "  ", "answers": [{"answer_start": 0, "text": "Denver"}]})" +
           tail,
       "question q3 (data[0].paragraphs[0].qas[0]): empty question text"},
      {head + R"({"id": "q4", "question": "Who?", "answers": [{"text": "Denver"}]})" + tail,
       "(question q4): needs a string \"text\" and an integer \"answer_start\""},
      {head +
           R"({"id": "q5", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"}]},
                 {"id": "q5", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"}]})" +
           tail,
       "duplicate question id q5"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<SquadDataset> d = ParseSquad(c.json, "bad.json");
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(c.message), std::string::npos)
        << d.status() << "\nshould contain: " << c.message;
    EXPECT_NE(d.status().message().find("bad.json"), std::string::npos);
  }
  EXPECT_EQ(LoadSquad("/nonexistent/dev.json").status().code(), absl::StatusCode::kNotFound);
}

// Regression (//fuzz:squad_fuzzer): answer_start + the answer's length overflowed int64 (undefined
// behaviour) for answer_start near 2^63, and an answer_start above 2^63 - 1 was read as negative.
TEST(SquadReader, HugeAnswerStartIsOutsideTheContext) {
  const std::string head = R"({"data": [{"paragraphs": [{"context": "Denver won.", "qas": [)";
  const std::string tail = "]}]}]}";
  const BadCase cases[] = {
      {head +
           R"({"id": "q1", "question": "Who?", "answers": [{"answer_start": 9223372036854775807, "text": "won"}]})" +
           tail,
       "answer 0: answer_start 9223372036854775807 + 3 characters is outside the context (11 "
       "characters)"},
      {head +
           R"({"id": "q2", "question": "Who?", "answers": [{"answer_start": 18446744073709551615, "text": "won"}]})" +
           tail,
       "answer 0: answer_start 18446744073709551615 is outside the context (11 characters)"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<SquadDataset> d = ParseSquad(c.json, "huge.json");
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_NE(d.status().message().find(c.message), std::string::npos)
        << d.status() << "\nshould contain: " << c.message;
  }
}

// Regression (//fuzz:squad_fuzzer's invariant): an empty or whitespace-only answer passed the
// reader (it matches the context trivially), and MakeSquadExamples then failed the whole data set
// on it ("maps to no token"), even with skip_bad_questions. Now it is a bad question.
TEST(SquadReader, AnswerWithoutATokenIsABadQuestion) {
  const std::string json = R"({"data": [{"paragraphs": [{"context": "Denver  won.", "qas": [
    {"id": "ok", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"}]},
    {"id": "empty", "question": "Who?", "answers": [{"answer_start": 3, "text": ""}]},
    {"id": "space", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"},
                                                    {"answer_start": 6, "text": "  "}]}]}]}]})";
  absl::StatusOr<SquadDataset> strict = ParseSquad(json, "x");
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find(
                "question empty (data[0].paragraphs[0].qas[1]): answer 0: text \"\" has no token"),
            std::string::npos)
      << strict.status();
  SquadLoadOptions options;
  options.skip_bad_questions = true;
  absl::StatusOr<SquadDataset> d = ParseSquad(json, "x", options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_questions, 1);
  ASSERT_EQ(d->skipped.size(), 2u);
  EXPECT_EQ(d->skipped[1],
            "question space: answer 1: text \"  \" has no token (empty or only "
            "whitespace)");
  const SquadVocab words = BuildWordVocab(*d, 1), chars = BuildCharVocab(*d, 1);
  EXPECT_TRUE(MakeSquadExamples(*d, words, chars, 4).ok());
}

TEST(SquadReader, SkipsBadQuestionsWhenAskedAndCountsThem) {
  const std::string json =
      R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "Denver won.", "qas": [
    {"id": "ok", "question": "Who?", "answers": [{"answer_start": 0, "text": "Denver"}]},
    {"id": "bad", "question": "Who?", "answers": [{"answer_start": 1, "text": "Denver"}]},
    {"id": "empty", "question": "", "answers": [{"answer_start": 0, "text": "Denver"}]}]}]}]})";
  SquadLoadOptions options;
  options.skip_bad_questions = true;
  absl::StatusOr<SquadDataset> d = ParseSquad(json, "x", options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_questions, 1);
  ASSERT_EQ(d->skipped.size(), 2u);
  EXPECT_EQ(d->skipped[0].rfind("question bad: ", 0), 0u) << d->skipped[0];
  EXPECT_EQ(d->skipped[1], "question empty: empty question text");
}

TEST(SquadReader, ReadsTheRealDevSetAndEveryAnswerMapsToTokens) {
  const std::string dir = TestDataDir("squad/dev-v1.1.json");
  if (dir.empty()) GTEST_SKIP() << "SQuAD dev set not in the test's data (../shared/data)";
  absl::StatusOr<SquadDataset> d = LoadSquad(dir + "/squad/dev-v1.1.json");
  ASSERT_TRUE(d.ok()) << d.status();
  // The counts of ../shared/data/README.md.
  EXPECT_EQ(d->articles.size(), 48u);
  EXPECT_EQ(d->num_paragraphs, 2067);
  EXPECT_EQ(d->num_questions, 10570);
  EXPECT_EQ(d->num_answers, 34726);
  EXPECT_TRUE(d->skipped.empty());
  int64_t exact_boundaries = 0;
  for (const SquadArticle& a : d->articles) {
    for (const SquadParagraph& p : a.paragraphs) {
      const std::vector<SpanToken> tokens = TokenizeWithSpans(p.context);
      for (const SquadQuestion& q : p.questions) {
        for (const SquadAnswer& ans : q.answers) {
          auto span = TokenSpan(tokens, ans.begin, ans.end);
          ASSERT_TRUE(span.ok()) << q.id;
          const int64_t b = tokens[span->first].begin, e = tokens[span->second].end;
          // The token span's text contains the answer (tokens may extend past a boundary
          // inside a word, e.g. an answer "1" of "1990s").
          ASSERT_LE(b, ans.begin);
          ASSERT_GE(e, ans.end);
          exact_boundaries += (b == ans.begin && e == ans.end);
        }
      }
    }
  }
  // Almost every answer starts and ends on token boundaries.
  EXPECT_GT(static_cast<double>(exact_boundaries) / d->num_answers, 0.97);
}

}  // namespace
}  // namespace rnnprune

namespace rnnprune {
namespace {

TEST(SquadExamples, VocabulariesIdsSpansAndBatches) {
  const std::string json = R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
    {"context": "Denver Broncos beat the Panthers.", "qas": [
      {"id": "q1", "question": "Who won?", "answers": [{"answer_start": 0, "text": "Denver Broncos"}]},
      {"id": "q2", "question": "Who lost?", "answers": [{"answer_start": 24, "text": "Panthers"}]}]},
    {"context": "Denver won.", "qas": [
      {"id": "q3", "question": "Who won?", "answers": [{"answer_start": 0, "text": "Denver"}]}]}]}]})";
  absl::StatusOr<SquadDataset> d = ParseSquad(json, "x");
  ASSERT_TRUE(d.ok()) << d.status();
  const SquadVocab words = BuildWordVocab(*d, 1), chars = BuildCharVocab(*d, 1);
  EXPECT_EQ(words.entries[0], "<pad>");
  EXPECT_EQ(words.entries[1], "<unk>");
  // Counts (lowercased): who 3, won 3 (two questions, one context), ? 3, denver 2, . 2, the
  // others 1: the most frequent come first.
  EXPECT_LT(words.Id("who"), words.Id("panthers"));
  EXPECT_EQ(words.Id("Denver"), SquadVocab::kUnk);  // words are lowercased before lookup
  EXPECT_NE(words.Id("denver"), SquadVocab::kUnk);
  EXPECT_NE(chars.Id("D"), SquadVocab::kUnk);      // characters keep their case
  EXPECT_EQ(BuildWordVocab(*d, 3).size(), 2 + 3);  // <pad>, <unk>, who, won, ?
  // Over two datasets the counts add up: "denver" 2 + 2 passes min_count 4, "panthers" 1 + 1 not.
  const SquadVocab both = BuildWordVocabOf({&*d, nullptr, &*d}, 4);
  EXPECT_NE(both.Id("denver"), SquadVocab::kUnk);
  EXPECT_EQ(both.Id("panthers"), SquadVocab::kUnk);
  EXPECT_EQ(BuildWordVocabOf({&*d}, 1).entries, words.entries);
  absl::StatusOr<std::vector<SquadExample>> ex = MakeSquadExamples(*d, words, chars, 4);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 3u);
  const SquadExample& e = (*ex)[1];
  EXPECT_EQ(e.id, "q2");
  EXPECT_EQ(e.context_words.size(), 6u);  // Denver Broncos beat the Panthers .
  EXPECT_EQ(e.context_chars.size(), 6u * 4u);
  EXPECT_EQ(e.answer_first, 4);
  EXPECT_EQ(e.answer_last, 4);
  EXPECT_EQ(e.context_tokens[e.answer_first].text, "Panthers");
  EXPECT_EQ(e.context, "Denver Broncos beat the Panthers.");
  const SpanToken& first = (*ex)[0].context_tokens[0];
  const SpanToken& last = (*ex)[0].context_tokens[1];
  EXPECT_EQ((*ex)[0].context.substr(first.begin, last.end - first.begin), "Denver Broncos");
  EXPECT_EQ(e.context_chars[4 * 4 + 0], chars.Id("P"));     // first 4 characters of "Panthers"
  EXPECT_EQ(e.context_chars[5 * 4 + 1], SquadVocab::kPad);  // "." has one character
  EXPECT_EQ((*ex)[0].answer_last, 1);                       // "Denver Broncos"
  EXPECT_FALSE(MakeSquadExamples(*d, words, chars, 0).ok());

  absl::StatusOr<std::vector<std::vector<int64_t>>> batches = LengthGroupedBatches(*ex, 2, 1);
  ASSERT_TRUE(batches.ok());
  std::vector<int64_t> seen;
  for (const auto& b : *batches) {
    EXPECT_LE(b.size(), 2u);
    seen.insert(seen.end(), b.begin(), b.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(*batches, *LengthGroupedBatches(*ex, 2, 1));  // same seed, same batches
  EXPECT_FALSE(LengthGroupedBatches(*ex, 0, 1).ok());
}

TEST(SquadExamples, BatchesOfTheDevSetPadLittle) {
  const std::string dir = TestDataDir("squad/dev-v1.1.json");
  if (dir.empty()) GTEST_SKIP() << "SQuAD dev set not in the test's data (../shared/data)";
  absl::StatusOr<SquadDataset> d = LoadSquad(dir + "/squad/dev-v1.1.json");
  ASSERT_TRUE(d.ok()) << d.status();
  const SquadVocab words = BuildWordVocab(*d, 1), chars = BuildCharVocab(*d, 1);
  absl::StatusOr<std::vector<SquadExample>> ex = MakeSquadExamples(*d, words, chars, 16);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 10570u);
  absl::StatusOr<std::vector<std::vector<int64_t>>> batches = LengthGroupedBatches(*ex, 32, 7);
  ASSERT_TRUE(batches.ok());
  // Padding: sum over batches of (max length - length) relative to the real tokens.
  double real = 0, padded = 0;
  for (const auto& b : *batches) {
    size_t longest = 0;
    for (int64_t i : b)
      longest = std::max(longest, (*ex)[static_cast<size_t>(i)].context_words.size());
    for (int64_t i : b) {
      real += static_cast<double>((*ex)[static_cast<size_t>(i)].context_words.size());
      padded += static_cast<double>(longest);
    }
  }
  EXPECT_LT(padded / real, 1.05);  // grouping keeps padding under 5%
}

}  // namespace
}  // namespace rnnprune
