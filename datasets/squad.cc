#include "datasets/squad.h"

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "nlohmann/json.hpp"
#include "unicode/locid.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace rnnprune {
namespace {

using nlohmann::json;

// Byte offset of code point `index` in UTF-8 `text`, or -1 when the text has fewer code points
// (index == number of code points gives text.size()).
int64_t CodePointToByte(absl::string_view text, int64_t index) {
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  for (int64_t k = 0; k < index; ++k) {
    if (i >= n) return -1;
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    (void)c;
  }
  return i;
}

int64_t CodePoints(absl::string_view text) {
  int32_t i = 0, count = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    (void)c;
    ++count;
  }
  return count;
}

absl::Status Missing(const std::string& source, const std::string& where, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", where, ": ", what));
}

}  // namespace

absl::StatusOr<SquadDataset> ParseSquad(absl::string_view json_text, const std::string& source,
                                        const SquadLoadOptions& options) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid JSON"));
  }
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    return Missing(source, "top level", "needs an array \"data\"");
  }
  SquadDataset out;
  out.version = doc.contains("version") && doc["version"].is_string()
                    ? doc["version"].get<std::string>()
                    : "";
  std::set<std::string> ids;
  const json& data = doc["data"];
  for (size_t a = 0; a < data.size(); ++a) {
    const std::string wa = absl::StrCat("data[", a, "]");
    const json& ja = data[a];
    if (!ja.is_object() || !ja.contains("paragraphs") || !ja["paragraphs"].is_array()) {
      return Missing(source, wa, "needs an array \"paragraphs\"");
    }
    SquadArticle article;
    if (ja.contains("title") && ja["title"].is_string()) article.title = ja["title"];
    for (size_t p = 0; p < ja["paragraphs"].size(); ++p) {
      const std::string wp = absl::StrCat(wa, ".paragraphs[", p, "]");
      const json& jp = ja["paragraphs"][p];
      if (!jp.is_object() || !jp.contains("context") || !jp["context"].is_string()) {
        return Missing(source, wp, "needs a string \"context\"");
      }
      if (!jp.contains("qas") || !jp["qas"].is_array()) {
        return Missing(source, wp, "needs an array \"qas\"");
      }
      SquadParagraph paragraph;
      paragraph.context = jp["context"].get<std::string>();
      const int64_t context_chars = CodePoints(paragraph.context);
      for (size_t q = 0; q < jp["qas"].size(); ++q) {
        const std::string wq = absl::StrCat(wp, ".qas[", q, "]");
        const json& jq = jp["qas"][q];
        if (!jq.is_object() || !jq.contains("id") || !jq["id"].is_string()) {
          return Missing(source, wq, "needs a string \"id\"");
        }
        SquadQuestion question;
        question.id = jq["id"].get<std::string>();
        if (!ids.insert(question.id).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(source, ": ", wq, ": duplicate question id ", question.id));
        }
        if (!jq.contains("question") || !jq["question"].is_string() || !jq.contains("answers") ||
            !jq["answers"].is_array()) {
          return Missing(source, absl::StrCat(wq, " (question ", question.id, ")"),
                         "needs a string \"question\" and an array \"answers\"");
        }
        question.question = jq["question"].get<std::string>();
        std::string bad;  // why this question is unusable, if it is
        if (question.question.find_first_not_of(" \t\r\n") == std::string::npos) {
          bad = "empty question text";
        } else if (jq["answers"].empty()) {
          bad = "no answer";
        }
        for (size_t k = 0; bad.empty() && k < jq["answers"].size(); ++k) {
          const json& jk = jq["answers"][k];
          if (!jk.is_object() || !jk.contains("text") || !jk["text"].is_string() ||
              !jk.contains("answer_start") || !jk["answer_start"].is_number_integer()) {
            return Missing(source,
                           absl::StrCat(wq, ".answers[", k, "] (question ", question.id, ")"),
                           "needs a string \"text\" and an integer \"answer_start\"");
          }
          SquadAnswer answer;
          answer.text = jk["text"].get<std::string>();
          const int64_t chars = CodePoints(answer.text);
          const json& js = jk["answer_start"];
          if (js.is_number_unsigned() &&
              js.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            bad = absl::StrCat("answer ", k, ": answer_start ", js.dump(),
                               " is outside the context (", context_chars, " characters)");
            break;
          }
          const int64_t start = js.get<int64_t>();
          // Compared without computing start + chars, which overflows for a huge answer_start.
          if (start < 0 || start > context_chars - chars) {
            bad =
                absl::StrCat("answer ", k, ": answer_start ", start, " + ", chars,
                             " characters is outside the context (", context_chars, " characters)");
            break;
          }
          answer.begin = CodePointToByte(paragraph.context, start);
          answer.end = CodePointToByte(paragraph.context, start + chars);
          if (paragraph.context.compare(static_cast<size_t>(answer.begin),
                                        static_cast<size_t>(answer.end - answer.begin),
                                        answer.text) != 0) {
            bad = absl::StrCat(
                "answer ", k, ": text \"", answer.text,
                "\" does not match the context at answer_start ", start, " (\"",
                paragraph.context.substr(static_cast<size_t>(answer.begin),
                                         static_cast<size_t>(answer.end - answer.begin)),
                "\")");
            break;
          }
          // An answer without a token maps to no token span (MakeSquadExamples would fail on it).
          if (TokenizeWithSpans(answer.text).empty()) {
            bad = absl::StrCat("answer ", k, ": text \"", answer.text,
                               "\" has no token (empty or only whitespace)");
            break;
          }
          question.answers.push_back(std::move(answer));
        }
        if (!bad.empty()) {
          if (!options.skip_bad_questions) {
            return absl::InvalidArgumentError(
                absl::StrCat(source, ": question ", question.id, " (", wq, "): ", bad));
          }
          out.skipped.push_back(absl::StrCat("question ", question.id, ": ", bad));
          continue;
        }
        out.num_answers += static_cast<int64_t>(question.answers.size());
        ++out.num_questions;
        paragraph.questions.push_back(std::move(question));
      }
      ++out.num_paragraphs;
      article.paragraphs.push_back(std::move(paragraph));
    }
    out.articles.push_back(std::move(article));
  }
  return out;
}

absl::StatusOr<SquadDataset> LoadSquad(const std::string& path, const SquadLoadOptions& options) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseSquad(*text, path, options);
}

std::vector<SpanToken> TokenizeWithSpans(absl::string_view text) {
  std::vector<SpanToken> tokens;
  const int32_t n = static_cast<int32_t>(text.size());
  int32_t i = 0;
  int32_t word_begin = -1;
  auto close_word = [&](int32_t at) {
    if (word_begin >= 0) {
      tokens.push_back({std::string(text.substr(word_begin, at - word_begin)), word_begin, at});
      word_begin = -1;
    }
  };
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    const bool word_char =
        c >= 0 && (u_isalnum(c) ||
                   (u_getIntPropertyValue(c, UCHAR_GENERAL_CATEGORY_MASK) & U_GC_M_MASK) != 0);
    if (word_char) {
      if (word_begin < 0) word_begin = start;
      continue;
    }
    close_word(start);
    if (c >= 0 && (u_isUWhiteSpace(c) || (c >= 0x1C && c <= 0x1F))) continue;
    tokens.push_back({std::string(text.substr(start, i - start)), start, i});
  }
  close_word(n);
  return tokens;
}

absl::StatusOr<std::pair<int64_t, int64_t>> TokenSpan(const std::vector<SpanToken>& tokens,
                                                      int64_t begin, int64_t end) {
  int64_t first = -1, last = -1;
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t].end > begin && tokens[t].begin < end) {
      if (first < 0) first = static_cast<int64_t>(t);
      last = static_cast<int64_t>(t);
    }
  }
  if (first < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no token overlaps the byte span [", begin, ", ", end, ")"));
  }
  return std::make_pair(first, last);
}

}  // namespace rnnprune

namespace rnnprune {
namespace {

// The code points of `text` as UTF-8 strings.
std::vector<std::string> Characters(absl::string_view text) {
  std::vector<std::string> out;
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    (void)c;
    out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

SquadVocab FromCounts(const std::map<std::string, int64_t>& counts, int64_t min_count) {
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [entry, count] : counts) {
    if (count >= min_count) kept.emplace_back(entry, count);
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  SquadVocab v;
  v.entries = {"<pad>", "<unk>"};
  for (const auto& [entry, count] : kept) v.entries.push_back(entry);
  for (size_t i = 0; i < v.entries.size(); ++i) {
    v.index.emplace(v.entries[i], static_cast<int64_t>(i));
  }
  return v;
}

template <typename Fn>
void ForEachToken(const SquadDataset& data, Fn&& fn) {
  for (const SquadArticle& a : data.articles) {
    for (const SquadParagraph& p : a.paragraphs) {
      for (const SpanToken& t : TokenizeWithSpans(p.context)) fn(t.text);
      for (const SquadQuestion& q : p.questions) {
        for (const SpanToken& t : TokenizeWithSpans(q.question)) fn(t.text);
      }
    }
  }
}

std::string Lower(const std::string& text) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(text);
  s.toLower(icu::Locale::getRoot());
  std::string out;
  s.toUTF8String(out);
  return out;
}

void Encode(const std::vector<SpanToken>& tokens, const SquadVocab& words, const SquadVocab& chars,
            int64_t max_word_chars, std::vector<int64_t>* word_ids,
            std::vector<int64_t>* char_ids) {
  word_ids->clear();
  char_ids->assign(tokens.size() * static_cast<size_t>(max_word_chars), SquadVocab::kPad);
  for (size_t t = 0; t < tokens.size(); ++t) {
    word_ids->push_back(words.Id(Lower(tokens[t].text)));
    const std::vector<std::string> cs = Characters(tokens[t].text);
    for (size_t k = 0; k < cs.size() && static_cast<int64_t>(k) < max_word_chars; ++k) {
      (*char_ids)[t * static_cast<size_t>(max_word_chars) + k] = chars.Id(cs[k]);
    }
  }
}

}  // namespace

int64_t SquadVocab::Id(const std::string& entry) const {
  auto it = index.find(entry);
  return it == index.end() ? kUnk : it->second;
}

SquadVocab BuildWordVocab(const SquadDataset& data, int64_t min_count) {
  return BuildWordVocabOf({&data}, min_count);
}

SquadVocab BuildWordVocabOf(const std::vector<const SquadDataset*>& sets, int64_t min_count) {
  std::map<std::string, int64_t> counts;
  for (const SquadDataset* data : sets) {
    if (data != nullptr) ForEachToken(*data, [&](const std::string& t) { ++counts[Lower(t)]; });
  }
  return FromCounts(counts, std::max<int64_t>(1, min_count));
}

SquadVocab BuildCharVocab(const SquadDataset& data, int64_t min_count) {
  std::map<std::string, int64_t> counts;
  ForEachToken(data, [&](const std::string& t) {
    for (const std::string& c : Characters(t)) ++counts[c];
  });
  return FromCounts(counts, std::max<int64_t>(1, min_count));
}

absl::StatusOr<std::vector<SquadExample>> MakeSquadExamples(const SquadDataset& data,
                                                            const SquadVocab& words,
                                                            const SquadVocab& chars,
                                                            int64_t max_word_chars) {
  if (max_word_chars <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_word_chars ", max_word_chars, " must be > 0"));
  }
  std::vector<SquadExample> out;
  for (size_t a = 0; a < data.articles.size(); ++a) {
    for (size_t p = 0; p < data.articles[a].paragraphs.size(); ++p) {
      const SquadParagraph& para = data.articles[a].paragraphs[p];
      const std::vector<SpanToken> context = TokenizeWithSpans(para.context);
      std::vector<int64_t> context_words, context_chars;
      Encode(context, words, chars, max_word_chars, &context_words, &context_chars);
      for (const SquadQuestion& q : para.questions) {
        SquadExample e;
        e.id = q.id;
        e.article = static_cast<int64_t>(a);
        e.paragraph = static_cast<int64_t>(p);
        e.context = para.context;
        e.context_tokens = context;
        e.context_words = context_words;
        e.context_chars = context_chars;
        Encode(TokenizeWithSpans(q.question), words, chars, max_word_chars, &e.question_words,
               &e.question_chars);
        absl::StatusOr<std::pair<int64_t, int64_t>> span =
            TokenSpan(context, q.answers[0].begin, q.answers[0].end);
        if (!span.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "question ", q.id, ": its answer maps to no token: ", span.status().message()));
        }
        e.answer_first = span->first;
        e.answer_last = span->second;
        for (const SquadAnswer& ans : q.answers) e.gold_texts.push_back(ans.text);
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> LengthGroupedBatches(
    const std::vector<SquadExample>& examples, int64_t batch_size, uint64_t seed) {
  if (batch_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size ", batch_size, " must be > 0"));
  }
  std::vector<int64_t> order(examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t pool = static_cast<size_t>(batch_size) * 100;
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += pool) {
    const size_t end = std::min(order.size(), start + pool);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start),
                     order.begin() + static_cast<std::ptrdiff_t>(end), [&](int64_t x, int64_t y) {
                       return examples[static_cast<size_t>(x)].context_words.size() <
                              examples[static_cast<size_t>(y)].context_words.size();
                     });
    for (size_t b = start; b < end; b += static_cast<size_t>(batch_size)) {
      batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(b),
                           order.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(end, b + static_cast<size_t>(batch_size))));
    }
  }
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

}  // namespace rnnprune
