#include "datasets/glove.h"

#include <zlib.h>

#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace rnnprune {

absl::StatusOr<GloveVectors> LoadGlove(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain text too
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open GloVe file ", path));
  GloveVectors out;
  std::string line;
  char buffer[1 << 16];
  int64_t line_no = 0;
  absl::Status status;
  auto parse = [&](const std::string& text) -> absl::Status {
    ++line_no;
    if (absl::StripAsciiWhitespace(text).empty()) return absl::OkStatus();  // blank line
    std::vector<absl::string_view> parts =
        absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ', absl::SkipEmpty());
    if (parts.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": needs a word and at least one value"));
    }
    const int64_t dim = static_cast<int64_t>(parts.size()) - 1;
    if (out.dim == 0) out.dim = dim;
    if (dim != out.dim) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": ", dim, " values, but the first line has ", out.dim));
    }
    std::vector<float> v(static_cast<size_t>(dim));
    for (int64_t k = 0; k < dim; ++k) {
      if (!absl::SimpleAtof(parts[static_cast<size_t>(k) + 1], &v[static_cast<size_t>(k)])) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": value ", k + 1, " '",
                                                       parts[static_cast<size_t>(k) + 1],
                                                       "' is not a number"));
      }
    }
    out.vectors[std::string(parts[0])] = std::move(v);
    return absl::OkStatus();
  };
  while (status.ok()) {
    char* got = gzgets(f, buffer, sizeof(buffer));
    if (got == nullptr) break;
    line += got;
    if (!line.empty() && line.back() == '\n') {
      status = parse(line);
      line.clear();
    }
  }
  int err = 0;
  const char* zmsg = gzerror(f, &err);
  if (status.ok() && err != Z_OK && err != Z_STREAM_END) {
    status = absl::InvalidArgumentError(absl::StrCat(path, ": corrupt file (zlib: ", zmsg, ")"));
  }
  if (status.ok() && !line.empty()) status = parse(line);
  gzclose(f);
  if (!status.ok()) return status;
  if (out.vectors.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no vectors"));
  return out;
}

absl::StatusOr<EmbeddingInit> MakeEmbedding(const std::vector<std::string>& vocabulary,
                                            const GloveVectors* glove, int64_t dim, uint64_t seed,
                                            const std::string& glove_name, RandomRows random_rows) {
  if (dim <= 0) return absl::InvalidArgumentError(absl::StrCat("dim ", dim, " must be > 0"));
  if (glove != nullptr && glove->dim != dim) {
    return absl::InvalidArgumentError(absl::StrCat("GloVe ", glove_name, " has ", glove->dim,
                                                   " dimensions, the model wants ", dim));
  }
  EmbeddingInit out;
  out.weights.resize(vocabulary.size() * static_cast<size_t>(dim));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.1f, 0.1f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const bool use_normal = random_rows == RandomRows::kNormal;
  for (size_t w = 0; w < vocabulary.size(); ++w) {
    float* row = out.weights.data() + w * static_cast<size_t>(dim);
    const std::vector<float>* found = nullptr;
    if (glove != nullptr) {
      auto it = glove->vectors.find(vocabulary[w]);
      if (it == glove->vectors.end())
        it = glove->vectors.find(absl::AsciiStrToLower(vocabulary[w]));
      if (it != glove->vectors.end()) found = &it->second;
    }
    if (found != nullptr) {
      std::copy(found->begin(), found->end(), row);
      ++out.from_glove;
    } else {
      for (int64_t k = 0; k < dim; ++k) row[k] = use_normal ? normal(rng) : uniform(rng);
      ++out.random;
    }
  }
  const char* drawn = use_normal ? "N(0, 1)" : "U(-0.1, 0.1)";
  out.message =
      glove == nullptr
          ? absl::StrFormat("word embeddings: random initialisation %s (no GloVe file), %d words",
                            drawn, vocabulary.size())
          : absl::StrFormat(
                "word embeddings: GloVe %s for %d of %d words, random %s for the other %d",
                glove_name, out.from_glove, vocabulary.size(), drawn, out.random);
  return out;
}

}  // namespace rnnprune
