// GloVe word vectors (Pennington, Socher, Manning 2014) in their text format, "word v1 ... vD"
// a line, read from a .txt or a .txt.gz file (zlib reads both), and the word-embedding matrix a
// model starts from: GloVe rows for the words it has, random rows for the others, or all random
// (saying so) when no file is given. BiDAF (Seo et al. 2017) initialises its word embeddings
// from GloVe 6B 100d.
#ifndef RNNPRUNE_DATASETS_GLOVE_H_
#define RNNPRUNE_DATASETS_GLOVE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace rnnprune {

struct GloveVectors {
  int64_t dim = 0;
  std::unordered_map<std::string, std::vector<float>> vectors;  // word -> [dim] float32
};

// Reads every line of `path` (.txt or .txt.gz). Errors: NotFound when the file cannot be opened;
// InvalidArgument naming the file and line for a line without a word, a value that is not a
// number, a line whose number of values differs from the first line's, or an empty file.
absl::StatusOr<GloveVectors> LoadGlove(const std::string& path);

struct EmbeddingInit {
  std::vector<float> weights;  // [vocab size, dim] float32, row-major
  int64_t from_glove = 0;      // rows copied from GloVe
  int64_t random = 0;          // rows drawn at random
  std::string message;         // one line for logs and reports, e.g. "GloVe ...: 9,812 of ..."
};

// How rows without a GloVe vector are drawn: U(-0.1, 0.1), a common choice beside GloVe rows, or
// N(0, 1), PyTorch's nn.Embedding default (the scale of an embedding trained from scratch).
enum class RandomRows { kUniform, kNormal };

// The embedding matrix for `vocabulary`: a word's GloVe row when `glove` has it (exactly, else
// lowercased), else a random row drawn as `random_rows` says from `seed` (the same seed gives
// the same rows). With `glove` null every row is random and the message says "random
// initialisation (no GloVe file)"; the message names the random rows' distribution.
// Errors: InvalidArgument when dim <= 0 or glove->dim != dim.
absl::StatusOr<EmbeddingInit> MakeEmbedding(const std::vector<std::string>& vocabulary,
                                            const GloveVectors* glove, int64_t dim, uint64_t seed,
                                            const std::string& glove_name,
                                            RandomRows random_rows = RandomRows::kUniform);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_GLOVE_H_
