// SQuAD v1.1 (Rajpurkar et al. 2016): articles, paragraphs, questions and answers with their
// character offsets, read from the official JSON with nlohmann-json, and a tokenizer that keeps
// each token's span, so that a predicted token span maps back to an exact substring of the
// context (what the official metric compares).
//
// Offsets: the JSON's answer_start counts Unicode code points (Python str indices). This reader
// converts them to byte offsets into the UTF-8 context; every offset below is in bytes.
#ifndef RNNPRUNE_DATASETS_SQUAD_H_
#define RNNPRUNE_DATASETS_SQUAD_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rnnprune {

struct SquadAnswer {
  std::string text;
  int64_t begin = 0;  // byte offset of the answer in its paragraph's context
  int64_t end = 0;    // one past its last byte: context.substr(begin, end - begin) == text
};

struct SquadQuestion {
  std::string id;
  std::string question;
  std::vector<SquadAnswer> answers;  // at least one
};

struct SquadParagraph {
  std::string context;
  std::vector<SquadQuestion> questions;
};

struct SquadArticle {
  std::string title;
  std::vector<SquadParagraph> paragraphs;
};

struct SquadDataset {
  std::string version;
  std::vector<SquadArticle> articles;
  int64_t num_paragraphs = 0, num_questions = 0, num_answers = 0;
  // With skip_bad_questions: "question <id>: <reason>" for each question left out.
  std::vector<std::string> skipped;
};

struct SquadLoadOptions {
  // false: a bad question (empty question text, no answer, answer_start outside the context,
  // answer text that does not match the context at its offset, answer text without a token:
  // empty or only whitespace) is an error naming its id.
  // true: it is left out and listed in SquadDataset::skipped (the caller reports the count).
  bool skip_bad_questions = false;
};

// Parses SQuAD v1.1 JSON text; `source` names it in messages (e.g. the path). Errors:
// InvalidArgument for malformed JSON, a missing or ill-typed field (naming its JSON path,
// e.g. "data[3].paragraphs[0].qas[7].id"), a duplicate question id, or (unless skipped) a bad
// question, naming the question id and the rule it broke.
absl::StatusOr<SquadDataset> ParseSquad(absl::string_view json_text, const std::string& source,
                                        const SquadLoadOptions& options = {});
// ReadFile + ParseSquad. Errors: NotFound / Internal for the file, then those of ParseSquad.
absl::StatusOr<SquadDataset> LoadSquad(const std::string& path,
                                       const SquadLoadOptions& options = {});

// A token of a text and its byte span [begin, end) in it.
struct SpanToken {
  std::string text;
  int64_t begin = 0, end = 0;
};

// Tokenizes UTF-8 text: maximal runs of letters, digits and combining marks (Unicode classes,
// ICU) are words; every other character that is not whitespace is a token of its own (so
// punctuation and symbols split from words, as in BiDAF's preprocessing); whitespace separates.
// Each token's text equals text.substr(begin, end - begin). Invalid UTF-8 bytes are tokens of
// their own.
std::vector<SpanToken> TokenizeWithSpans(absl::string_view text);

// The tokens [first, last] (inclusive) that overlap the byte span [begin, end) of the text the
// tokens came from. Errors: InvalidArgument when no token overlaps it (an all-whitespace span,
// or one outside the text).
absl::StatusOr<std::pair<int64_t, int64_t>> TokenSpan(const std::vector<SpanToken>& tokens,
                                                      int64_t begin, int64_t end);

}  // namespace rnnprune

namespace rnnprune {

// A vocabulary of words or characters: id 0 is padding, id 1 unknown, then the entries in order
// of decreasing count (ties in byte order), so that the same data gives the same ids.
struct SquadVocab {
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnk = 1;
  std::vector<std::string> entries;  // entries[0] = "<pad>", entries[1] = "<unk>"
  std::unordered_map<std::string, int64_t> index;
  int64_t size() const { return static_cast<int64_t>(entries.size()); }
  // The id of `entry`, or kUnk.
  int64_t Id(const std::string& entry) const;
};

// Word vocabulary over the lowercased tokens of every context and question (BiDAF looks words
// up lowercased in GloVe), keeping words seen at least `min_count` times (>= 1).
SquadVocab BuildWordVocab(const SquadDataset& data, int64_t min_count);
// The same over several datasets together (counts summed; null entries are skipped).
SquadVocab BuildWordVocabOf(const std::vector<const SquadDataset*>& sets, int64_t min_count);
// Character vocabulary (Unicode code points, as UTF-8 strings) of the same tokens, original case.
SquadVocab BuildCharVocab(const SquadDataset& data, int64_t min_count);

// One question ready for a model: token ids and per-token character ids (each token's first
// `max_word_chars` characters, padded with kPad), the gold answers' token spans and texts, and the
// context text and its tokens with their byte spans (a predicted span [first, last] maps back to
// context.substr(tokens[first].begin, tokens[last].end - tokens[first].begin)).
struct SquadExample {
  std::string id;
  int64_t article = 0, paragraph = 0;
  std::string context;                    // the paragraph's text (UTF-8), copied per question
  std::vector<SpanToken> context_tokens;  // byte spans into `context`
  std::vector<int64_t> context_words, question_words;  // [Tc], [Tq] int64
  std::vector<int64_t> context_chars, question_chars;  // [Tc, max_word_chars], [Tq, ...] int64
  int64_t answer_first = 0, answer_last = 0;           // token span of the first gold answer
  std::vector<std::string> gold_texts;                 // every gold answer, for the metric
};

// Examples of every question of `data`, in file order. Errors: InvalidArgument naming the
// question when an answer maps to no token, or max_word_chars <= 0.
absl::StatusOr<std::vector<SquadExample>> MakeSquadExamples(const SquadDataset& data,
                                                            const SquadVocab& words,
                                                            const SquadVocab& chars,
                                                            int64_t max_word_chars);

// Batches of example indices grouped by length: the examples are shuffled (seeded), cut into
// pools of 100 batches, each pool sorted by context length and cut into batches of
// `batch_size`, and the batches shuffled, so that a batch pads little while the order stays
// random. Every index appears exactly once. Errors: InvalidArgument when batch_size <= 0.
absl::StatusOr<std::vector<std::vector<int64_t>>> LengthGroupedBatches(
    const std::vector<SquadExample>& examples, int64_t batch_size, uint64_t seed);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_SQUAD_H_
