// The official SQuAD v1.1 evaluation (Rajpurkar et al. 2016; the script evaluate-v1.1.py
// distributed with the dataset), in C++: answer normalisation, exact match and token-level F1,
// each the maximum over the gold answers of a question, averaged over every question of the
// dataset and multiplied by 100. Used by the `evaluate` binary and by the SQuAD task.
#ifndef RNNPRUNE_DATASETS_SQUAD_METRIC_H_
#define RNNPRUNE_DATASETS_SQUAD_METRIC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// The script's normalize_answer on UTF-8 text, in its order: lowercase (Unicode, through ICU),
// remove the ASCII punctuation characters of Python's string.punctuation, replace the words "a",
// "an" and "the" by a space (a word is a maximal run of Unicode letters, digits, numerics and
// '_', as Python's \b and \w), collapse every run of Unicode whitespace into one space and trim.
// Invalid UTF-8 bytes become U+FFFD.
std::string NormalizeAnswer(absl::string_view text);

// 1 when the normalised texts are equal, else 0 (the script's exact_match_score).
double ExactMatch(absl::string_view prediction, absl::string_view gold);

// Token-level F1 of the normalised texts split on whitespace (the script's f1_score): with
// `common` the multiset intersection of the two token lists, 0 when it is empty (including when
// both are empty, as in v1.1), else 2 P R / (P + R) with P = |common| / |prediction tokens| and
// R = |common| / |gold tokens|.
double F1(absl::string_view prediction, absl::string_view gold);

// The maximum of ExactMatch / F1 over `golds` (0 when `golds` is empty).
double MaxExactMatch(absl::string_view prediction, const std::vector<std::string>& golds);
double MaxF1(absl::string_view prediction, const std::vector<std::string>& golds);

struct SquadScore {
  double exact_match = 0;  // percent, over every question of the dataset
  double f1 = 0;           // percent
  int64_t questions = 0;
  int64_t unanswered = 0;  // questions without a prediction (scored 0, as the script does)
  // {"exact_match": .., "f1": ..} formatted as the official script prints it (Python's
  // json.dumps: ", " and ": " separators, shortest round-trip floats).
  std::string ToOfficialJson() const;
};

// Scores `predictions` ({"question id": "answer text", ...}) against a SQuAD v1.1 dataset
// ({"version": "1.1", "data": [{"paragraphs": [{"qas": [{"id", "answers": [{"text"}]}]}]}]}).
// Each unanswered question and a version other than "1.1" add a line to `messages` (may be
// null), as the script prints them. Errors: InvalidArgument naming the path in the JSON
// ("data[3].paragraphs[0].qas[7]") for a missing or ill-typed field, or a prediction that is
// not a string.
absl::StatusOr<SquadScore> EvaluateSquad(const nlohmann::json& dataset,
                                         const nlohmann::json& predictions,
                                         std::vector<std::string>* messages);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_SQUAD_METRIC_H_
