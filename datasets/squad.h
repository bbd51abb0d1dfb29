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
  // answer text that does not match the context at its offset) is an error naming its id.
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

#endif  // RNNPRUNE_DATASETS_SQUAD_H_
