// Hyper-parameters of BiDAF (Seo, Kembhavi, Farhadi, Hajishirzi, "Bidirectional Attention Flow
// for Machine Comprehension", ICLR 2017, arXiv 1611.01603), with the paper's values as defaults
// (Section 4, "Model Details"). The model itself is in models/bidaf.h.
#ifndef RNNPRUNE_MODELS_BIDAF_CONFIG_H_
#define RNNPRUNE_MODELS_BIDAF_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rnnprune {

// Sizes are counts (of ids, dimensions, channels, layers or tokens). Id 0 of both vocabularies is
// padding (SquadVocab::kPad in datasets/squad.h).
struct BidafConfig {
  int64_t word_vocab_size = 0;    // Vw, rows of the word embedding (> 1: padding + words)
  int64_t char_vocab_size = 0;    // Vc, rows of the character embedding (> 1)
  int64_t word_dim = 100;         // GloVe 6B 100d (Section 4)
  int64_t char_dim = 8;           // character embedding size (Section 4)
  int64_t char_channels = 100;    // Conv1d filters = character feature size (Section 4)
  int64_t char_kernel_width = 5;  // Conv1d width in characters (Section 4)
  int64_t hidden_size = 100;      // d: LSTM units per direction (Section 4)
  int64_t highway_layers = 2;     // Srivastava et al. 2015; 0 = none (Section 2, item 2)
  int64_t modelling_layers = 2;   // BiLSTM layers of the modelling layer (Section 2, item 5)
  double dropout = 0.2;           // drop probability on CNN, LSTM and output inputs (Section 4)
  // Longest answer span decoding may return, in tokens (last - first + 1 <= cap); 0 = no cap,
  // the paper's decoding (Section 2, item 6: argmax of p1_k p2_l over k <= l by dynamic
  // programming). A cap (15 or 30 is common in later work) is for the caller to choose.
  int64_t max_answer_tokens = 0;
  // true: the word embedding (GloVe) is not trained (Section 4: "fixed during training").
  bool freeze_word_embedding = true;

  // D = word_dim + char_channels: width of the highway network and of the contextual LSTM's
  // input (the paper's Section 2 calls the highway outputs "d-dimensional"; its code, like
  // this class, keeps the concatenated width).
  int64_t EmbeddingWidth() const { return word_dim + char_channels; }

  // OK, or InvalidArgument naming the field, its value and the rule: vocabulary sizes > 1;
  // word_dim, char_dim, char_channels, char_kernel_width, hidden_size, modelling_layers > 0;
  // highway_layers >= 0; dropout in [0, 1); max_answer_tokens >= 0.
  absl::Status Validate() const;
  // One JSON object with every field above (nlohmann-json).
  std::string ToJson() const;
  // Parses ToJson()'s format; every field is required. Errors: InvalidArgument for malformed
  // JSON, a missing or ill-typed field (nlohmann's message names it), or a config that fails
  // Validate().
  static absl::StatusOr<BidafConfig> FromJson(const std::string& json);
  // Number of scalar parameters of BidafImpl(*this), the frozen word embedding included.
  int64_t NumParameters() const;
  // NumParameters() less the word embedding when freeze_word_embedding.
  int64_t NumTrainableParameters() const;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BIDAF_CONFIG_H_
