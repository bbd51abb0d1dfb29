// Penn Treebank word-level language-modelling data (Mikolov's preprocessing, as used by Zaremba et
// al. 2014): loading, vocabulary, batchify and BPTT windows.
#ifndef RNNPRUNE_DATASETS_PTB_H_
#define RNNPRUNE_DATASETS_PTB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "torch/types.h"

namespace rnnprune {

// The end-of-sentence token appended at the end of every line.
inline constexpr absl::string_view kEos = "<eos>";

// Word <-> id mapping. Ids are dense in [0, size()), ordered by decreasing frequency in the
// training split, ties broken by the word's byte order (as in the TensorFlow PTB tutorial reader).
class Vocabulary {
 public:
  // Builds the vocabulary of `words` (a training stream, `<eos>` included).
  static Vocabulary FromWords(const std::vector<std::string>& words);

  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  // Returns the id of `word`, or -1 when it is not in the vocabulary.
  int64_t IdOf(absl::string_view word) const;
  // Returns the word with id `id`; `id` must be in [0, size()).
  const std::string& WordOf(int64_t id) const { return words_.at(static_cast<size_t>(id)); }

 private:
  std::vector<std::string> words_;
  absl::flat_hash_map<std::string, int64_t> ids_;
};

// The three splits as id streams: int64 tensors of shape [N] (N tokens, `<eos>` included), on CPU.
struct PtbCorpus {
  Vocabulary vocab;
  torch::Tensor train;  // [929589] for the canonical files
  torch::Tensor valid;  // [73760]
  torch::Tensor test;   // [82430]
  std::string dir;      // the folder the files were read from
};

// Options of LoadPtb.
struct PtbLoadOptions {
  // When true, the three files must be the canonical ones: each file's SHA-256 must equal the
  // published checksum (../shared/data/README.md) and the vocabulary must have exactly 10,000
  // words. Turn off only for other corpora in the same format (e.g. test fixtures).
  bool verify_checksums = true;
};

// Canonical file names and SHA-256 checksums of the PTB splits.
struct PtbFileSpec {
  const char* name;    // e.g. "ptb.train.txt"
  const char* sha256;  // 64 lowercase hex digits
};
inline constexpr PtbFileSpec kPtbTrain = {
    "ptb.train.txt", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"};
inline constexpr PtbFileSpec kPtbValid = {
    "ptb.valid.txt", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"};
inline constexpr PtbFileSpec kPtbTest = {
    "ptb.test.txt", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"};
inline constexpr int64_t kPtbVocabSize = 10000;

// Loads `dir`/ptb.{train,valid,test}.txt: splits each line on spaces and tabs, appends `<eos>`
// at every line end, builds the vocabulary from train and maps all three splits to ids.
// Errors (each naming the file, and the line where there is one):
//   NotFound: a file is missing.  InvalidArgument: a file is empty; a line is not valid UTF-8;
//   a word of valid/test is not in the training vocabulary; checksum mismatch or a vocabulary
//   other than 10,000 words when `options.verify_checksums`.
absl::StatusOr<PtbCorpus> LoadPtb(absl::string_view dir, const PtbLoadOptions& options = {});

// Splits one file's text into a token stream (`<eos>` after each line); `file` is used in error
// messages only. Errors: InvalidArgument for invalid UTF-8 (naming file:line) or empty text.
absl::StatusOr<std::vector<std::string>> TokenizePtbText(absl::string_view text,
                                                         absl::string_view file);

// Returns true when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Reshapes a stream `ids` [N] (int64) into `batch_size` parallel streams: returns [N / B, B]
// where column b is the contiguous segment ids[b * (N / B) : (b + 1) * (N / B)]; the last
// N mod B tokens are dropped. Errors: InvalidArgument when ids is not 1-D, B < 1 or N < B.
absl::StatusOr<torch::Tensor> Batchify(const torch::Tensor& ids, int64_t batch_size);

// One truncated-BPTT window of a batchified stream.
struct BpttWindow {
  torch::Tensor input;   // [t, B] int64, rows start .. start + t - 1
  torch::Tensor target;  // [t, B] int64, the next token of each input position
};

// Number of windows of length `bptt` that cover data [N, B]: ceil((N - 1) / bptt).
int64_t NumBpttWindows(const torch::Tensor& data, int64_t bptt);

// Returns window `index` (0-based) of `data` [N, B]: t = min(bptt, N - 1 - index * bptt) steps.
// Requires 0 <= index < NumBpttWindows(data, bptt) (checked; throws c10::Error otherwise).
BpttWindow GetBpttWindow(const torch::Tensor& data, int64_t index, int64_t bptt);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_PTB_H_
