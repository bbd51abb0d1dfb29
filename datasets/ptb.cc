#include "datasets/ptb.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {

Vocabulary Vocabulary::FromWords(const std::vector<std::string>& words) {
  absl::flat_hash_map<std::string, int64_t> counts;
  for (const std::string& w : words) ++counts[w];
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first < b.first;
  });
  Vocabulary v;
  v.words_.reserve(sorted.size());
  for (auto& [word, count] : sorted) {
    v.ids_.emplace(word, static_cast<int64_t>(v.words_.size()));
    v.words_.push_back(word);
  }
  return v;
}

int64_t Vocabulary::IdOf(absl::string_view word) const {
  auto it = ids_.find(word);
  return it == ids_.end() ? -1 : it->second;
}

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> TokenizePtbText(absl::string_view text,
                                                         absl::string_view file) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(file, ": file is empty"));
  std::vector<std::string> tokens;
  tokens.reserve(text.size() / 5);
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == absl::string_view::npos) nl = text.size();
    absl::string_view line = text.substr(pos, nl - pos);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!IsValidUtf8(line)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: line is not valid UTF-8", file, line_no));
    }
    for (absl::string_view w : absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      if (w == kEos) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s:%d: the reserved token %s appears in the text", file, line_no, kEos));
      }
      tokens.emplace_back(w);
    }
    tokens.emplace_back(kEos);
    pos = nl + 1;
  }
  return tokens;
}

namespace {

struct SplitText {
  std::string path;
  std::vector<std::string> tokens;
  std::vector<int64_t> token_line;  // 1-based line of each token, for error messages
};

absl::StatusOr<SplitText> ReadSplit(absl::string_view dir, const PtbFileSpec& spec, bool verify) {
  SplitText s;
  s.path = absl::StrCat(dir, "/", spec.name);
  if (!PathExists(s.path)) {
    return absl::NotFoundError(absl::StrCat(s.path, ": PTB file not found (set --data_dir or ",
                                            "RNNPRUNE_DATA, or run tools/fetch_data.sh)"));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(s.path));
  if (verify) {
    const std::string got = Sha256Hex(text);
    if (got != spec.sha256) {
      return absl::InvalidArgumentError(absl::StrCat(
          s.path, ": SHA-256 ", got, " does not match the canonical ", spec.name, " (", spec.sha256,
          "); the file is corrupt or not the canonical PTB (use --noverify_checksums for other ",
          "corpora)"));
    }
  }
  ASSIGN_OR_RETURN(s.tokens, TokenizePtbText(text, s.path));
  s.token_line.reserve(s.tokens.size());
  int64_t line = 1;
  for (const std::string& t : s.tokens) {
    s.token_line.push_back(line);
    if (t == kEos) ++line;
  }
  return s;
}

absl::StatusOr<torch::Tensor> ToIds(const SplitText& split, const Vocabulary& vocab) {
  std::vector<int64_t> ids(split.tokens.size());
  for (size_t i = 0; i < split.tokens.size(); ++i) {
    const int64_t id = vocab.IdOf(split.tokens[i]);
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: word '%s' is not in the vocabulary built from the training split",
                          split.path, split.token_line[i], split.tokens[i]));
    }
    ids[i] = id;
  }
  return torch::tensor(ids, torch::kInt64);
}

}  // namespace

absl::StatusOr<PtbCorpus> LoadPtb(absl::string_view dir, const PtbLoadOptions& options) {
  return CatchTorch("LoadPtb", [&]() -> absl::StatusOr<PtbCorpus> {
    ASSIGN_OR_RETURN(SplitText train, ReadSplit(dir, kPtbTrain, options.verify_checksums));
    ASSIGN_OR_RETURN(SplitText valid, ReadSplit(dir, kPtbValid, options.verify_checksums));
    ASSIGN_OR_RETURN(SplitText test, ReadSplit(dir, kPtbTest, options.verify_checksums));
    PtbCorpus corpus;
    corpus.dir = std::string(dir);
    corpus.vocab = Vocabulary::FromWords(train.tokens);
    if (options.verify_checksums && corpus.vocab.size() != kPtbVocabSize) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: vocabulary has %d words; the canonical PTB has exactly %d",
                          train.path, corpus.vocab.size(), kPtbVocabSize));
    }
    ASSIGN_OR_RETURN(corpus.train, ToIds(train, corpus.vocab));
    ASSIGN_OR_RETURN(corpus.valid, ToIds(valid, corpus.vocab));
    ASSIGN_OR_RETURN(corpus.test, ToIds(test, corpus.vocab));
    return corpus;
  });
}

absl::StatusOr<torch::Tensor> Batchify(const torch::Tensor& ids, int64_t batch_size) {
  if (ids.dim() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Batchify: ids must be 1-D [N], got ", ids.dim(), " dimensions"));
  }
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Batchify: batch_size=", batch_size, " must be >= 1"));
  }
  const int64_t n = ids.size(0) / batch_size;
  if (n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Batchify: ", ids.size(0), " tokens are fewer than batch_size=", batch_size));
  }
  // [B, n] row-major, then transpose: column b is the b-th contiguous segment.
  return ids.narrow(0, 0, n * batch_size).view({batch_size, n}).t().contiguous();
}

int64_t NumBpttWindows(const torch::Tensor& data, int64_t bptt) {
  const int64_t usable = data.size(0) - 1;
  if (usable <= 0 || bptt <= 0) return 0;
  return (usable + bptt - 1) / bptt;
}

BpttWindow GetBpttWindow(const torch::Tensor& data, int64_t index, int64_t bptt) {
  TORCH_CHECK(index >= 0 && index < NumBpttWindows(data, bptt), "BPTT window ", index,
              " out of range [0, ", NumBpttWindows(data, bptt), ")");
  const int64_t start = index * bptt;
  const int64_t t = std::min(bptt, data.size(0) - 1 - start);
  return {data.narrow(0, start, t), data.narrow(0, start + 1, t)};
}

}  // namespace rnnprune
