#include "datasets/squad_metric.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "unicode/locid.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"

namespace rnnprune {
namespace {

using nlohmann::json;

// Python's string.punctuation.
bool IsAsciiPunctuation(UChar32 c) {
  static const std::string kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  return c < 128 && kPunctuation.find(static_cast<char>(c)) != std::string::npos;
}

// Python 3's \w for str patterns: alphanumeric (str.isalnum) or '_'.
bool IsWordChar(UChar32 c) {
  return c == '_' || u_isalnum(c) || u_getNumericValue(c) != U_NO_NUMERIC_VALUE;
}

// Python's str.isspace (what str.split() splits on): Unicode White_Space plus the ASCII
// information separators 0x1C-0x1F.
bool IsSpace(UChar32 c) { return u_isUWhiteSpace(c) || (c >= 0x1C && c <= 0x1F); }

std::vector<std::string> Tokens(absl::string_view text) {
  return absl::StrSplit(NormalizeAnswer(text), ' ', absl::SkipEmpty());
}

}  // namespace

std::string NormalizeAnswer(absl::string_view text) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  s.toLower(icu::Locale::getRoot());
  // Punctuation out.
  std::vector<UChar32> chars;
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) {
    const UChar32 c = s.char32At(i);
    if (!IsAsciiPunctuation(c)) chars.push_back(c);
  }
  // Articles: a word (maximal run of word characters) equal to a / an / the becomes a space.
  std::vector<UChar32> no_articles;
  for (size_t i = 0; i < chars.size();) {
    if (!IsWordChar(chars[i])) {
      no_articles.push_back(chars[i++]);
      continue;
    }
    size_t j = i;
    while (j < chars.size() && IsWordChar(chars[j])) ++j;
    const std::vector<UChar32> word(chars.begin() + static_cast<std::ptrdiff_t>(i),
                                    chars.begin() + static_cast<std::ptrdiff_t>(j));
    const bool article = word == std::vector<UChar32>{'a'} ||
                         word == std::vector<UChar32>{'a', 'n'} ||
                         word == std::vector<UChar32>{'t', 'h', 'e'};
    if (article) {
      no_articles.push_back(' ');
    } else {
      no_articles.insert(no_articles.end(), word.begin(), word.end());
    }
    i = j;
  }
  // Whitespace: split and join with single spaces.
  icu::UnicodeString out;
  bool pending_space = false;
  for (UChar32 c : no_articles) {
    if (IsSpace(c)) {
      pending_space = !out.isEmpty();
      continue;
    }
    if (pending_space) out.append(static_cast<UChar32>(' '));
    pending_space = false;
    out.append(c);
  }
  std::string utf8;
  out.toUTF8String(utf8);
  return utf8;
}

double ExactMatch(absl::string_view prediction, absl::string_view gold) {
  return NormalizeAnswer(prediction) == NormalizeAnswer(gold) ? 1.0 : 0.0;
}

double F1(absl::string_view prediction, absl::string_view gold) {
  const std::vector<std::string> p = Tokens(prediction), g = Tokens(gold);
  std::map<std::string, int64_t> counts;
  for (const std::string& t : g) ++counts[t];
  int64_t same = 0;
  for (const std::string& t : p) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(p.size());
  const double recall = static_cast<double>(same) / static_cast<double>(g.size());
  return 2.0 * precision * recall / (precision + recall);
}

double MaxExactMatch(absl::string_view prediction, const std::vector<std::string>& golds) {
  double best = 0;
  for (const std::string& g : golds) best = std::max(best, ExactMatch(prediction, g));
  return best;
}

double MaxF1(absl::string_view prediction, const std::vector<std::string>& golds) {
  double best = 0;
  for (const std::string& g : golds) best = std::max(best, F1(prediction, g));
  return best;
}

std::string SquadScore::ToOfficialJson() const {
  return absl::StrCat("{\"exact_match\": ", json(exact_match).dump(), ", \"f1\": ", json(f1).dump(),
                      "}");
}

absl::StatusOr<SquadScore> EvaluateSquad(const json& dataset, const json& predictions,
                                         std::vector<std::string>* messages) {
  if (!predictions.is_object()) {
    return absl::InvalidArgumentError(
        "predictions: must be a JSON object {\"question id\": \"answer text\", ...}");
  }
  if (!dataset.is_object() || !dataset.contains("data") || !dataset["data"].is_array()) {
    return absl::InvalidArgumentError("dataset: needs an array \"data\" (SQuAD v1.1 format)");
  }
  if (dataset.value("version", std::string()) != "1.1" && messages != nullptr) {
    messages->push_back(absl::StrCat("Evaluation expects v-1.1, but got dataset with v-",
                                     dataset.value("version", std::string("?"))));
  }
  SquadScore score;
  double em_sum = 0, f1_sum = 0;
  const json& data = dataset["data"];
  for (size_t a = 0; a < data.size(); ++a) {
    const std::string where_a = absl::StrCat("data[", a, "]");
    if (!data[a].is_object() || !data[a].contains("paragraphs") ||
        !data[a]["paragraphs"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(where_a, ": needs an array \"paragraphs\""));
    }
    const json& paragraphs = data[a]["paragraphs"];
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string where_p = absl::StrCat(where_a, ".paragraphs[", p, "]");
      if (!paragraphs[p].is_object() || !paragraphs[p].contains("qas") ||
          !paragraphs[p]["qas"].is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(where_p, ": needs an array \"qas\""));
      }
      const json& qas = paragraphs[p]["qas"];
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string where_q = absl::StrCat(where_p, ".qas[", q, "]");
        const json& qa = qas[q];
        if (!qa.is_object() || !qa.contains("id") || !qa["id"].is_string() ||
            !qa.contains("answers") || !qa["answers"].is_array()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where_q, ": needs a string \"id\" and an array \"answers\""));
        }
        const std::string id = qa["id"].get<std::string>();
        std::vector<std::string> golds;
        for (size_t k = 0; k < qa["answers"].size(); ++k) {
          const json& ans = qa["answers"][k];
          if (!ans.is_object() || !ans.contains("text") || !ans["text"].is_string()) {
            return absl::InvalidArgumentError(absl::StrCat(where_q, ".answers[", k, "] (question ",
                                                           id, "): needs a string \"text\""));
          }
          golds.push_back(ans["text"].get<std::string>());
        }
        ++score.questions;
        auto it = predictions.find(id);
        if (it == predictions.end()) {
          ++score.unanswered;
          if (messages != nullptr) {
            messages->push_back(absl::StrCat("Unanswered question ", id, " will receive score 0."));
          }
          continue;
        }
        if (!it->is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("predictions[\"", id, "\"]: must be a string"));
        }
        const std::string prediction = it->get<std::string>();
        em_sum += MaxExactMatch(prediction, golds);
        f1_sum += MaxF1(prediction, golds);
      }
    }
  }
  if (score.questions > 0) {
    score.exact_match = 100.0 * em_sum / static_cast<double>(score.questions);
    score.f1 = 100.0 * f1_sum / static_cast<double>(score.questions);
  }
  return score;
}

}  // namespace rnnprune
