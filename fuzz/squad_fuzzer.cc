// libFuzzer target for the SQuAD reader: ParseSquad on the input (bad questions as errors, then
// skipped), and on what it accepts the vocabularies, MakeSquadExamples and LengthGroupedBatches.
// Any input must give a value or a Status: a crash, a sanitizer report or a broken invariant
// (checked below) is a finding.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "datasets/squad.h"
#include "fuzz/fuzz_util.h"

namespace rnnprune {
namespace {

void CheckSpans(absl::string_view text, const std::vector<SpanToken>& tokens) {
  int64_t previous_end = 0;
  for (const SpanToken& t : tokens) {
    FUZZ_CHECK(t.begin >= previous_end && t.begin < t.end);
    FUZZ_CHECK(t.end <= static_cast<int64_t>(text.size()));
    FUZZ_CHECK(text.substr(t.begin, t.end - t.begin) == t.text);
    previous_end = t.end;
  }
}

void CheckDataset(const SquadDataset& data) {
  int64_t paragraphs = 0, questions = 0, answers = 0;
  for (const SquadArticle& a : data.articles) {
    for (const SquadParagraph& p : a.paragraphs) {
      ++paragraphs;
      CheckSpans(p.context, TokenizeWithSpans(p.context));
      for (const SquadQuestion& q : p.questions) {
        ++questions;
        FUZZ_CHECK(!q.answers.empty());
        for (const SquadAnswer& ans : q.answers) {
          ++answers;
          FUZZ_CHECK(0 <= ans.begin && ans.begin <= ans.end);
          FUZZ_CHECK(ans.end <= static_cast<int64_t>(p.context.size()));
          FUZZ_CHECK(p.context.substr(ans.begin, ans.end - ans.begin) == ans.text);
        }
      }
    }
  }
  FUZZ_CHECK(paragraphs == data.num_paragraphs);
  FUZZ_CHECK(questions == data.num_questions);
  FUZZ_CHECK(answers == data.num_answers);
}

void CheckExamples(const SquadDataset& data) {
  const SquadVocab words = BuildWordVocab(data, 1);
  const SquadVocab chars = BuildCharVocab(data, 1);
  FUZZ_CHECK(words.size() >= 2 && chars.size() >= 2);
  constexpr int64_t kMaxWordChars = 4;
  // Every question ParseSquad keeps makes an example.
  auto examples = MakeSquadExamples(data, words, chars, kMaxWordChars);
  FUZZ_CHECK(examples.ok());
  FUZZ_CHECK(static_cast<int64_t>(examples->size()) == data.num_questions);
  for (const SquadExample& e : *examples) {
    const int64_t tc = static_cast<int64_t>(e.context_tokens.size());
    FUZZ_CHECK(static_cast<int64_t>(e.context_words.size()) == tc);
    FUZZ_CHECK(static_cast<int64_t>(e.context_chars.size()) == tc * kMaxWordChars);
    FUZZ_CHECK(e.question_chars.size() == e.question_words.size() * kMaxWordChars);
    FUZZ_CHECK(0 <= e.answer_first && e.answer_first <= e.answer_last && e.answer_last < tc);
    for (int64_t id : e.context_words) FUZZ_CHECK(id >= SquadVocab::kUnk && id < words.size());
    for (int64_t id : e.context_chars) FUZZ_CHECK(id >= SquadVocab::kPad && id < chars.size());
    FUZZ_CHECK(!e.gold_texts.empty());
  }
  auto batches = LengthGroupedBatches(*examples, 3, /*seed=*/1);
  FUZZ_CHECK(batches.ok());
  std::set<int64_t> seen;
  for (const auto& b : *batches) {
    FUZZ_CHECK(!b.empty() && b.size() <= 3);
    for (int64_t i : b) FUZZ_CHECK(seen.insert(i).second);
  }
  FUZZ_CHECK(seen.size() == examples->size());
}

}  // namespace
}  // namespace rnnprune

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rnnprune;  // NOLINT
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  CheckSpans(input, TokenizeWithSpans(input));

  auto strict = ParseSquad(input, "fuzz");
  SquadLoadOptions skip;
  skip.skip_bad_questions = true;
  auto lenient = ParseSquad(input, "fuzz", skip);
  // Skipping can only turn a bad-question error into a success.
  if (strict.ok()) {
    FUZZ_CHECK(lenient.ok());
    FUZZ_CHECK(lenient->skipped.empty());
    FUZZ_CHECK(lenient->num_questions == strict->num_questions);
    CheckDataset(*strict);
  }
  if (lenient.ok()) {
    CheckDataset(*lenient);
    CheckExamples(*lenient);
  }
  return 0;
}
