// libFuzzer target for the PTB reader: the input is split at form feeds ('\f') into up to three
// files (train, valid, test; a missing part repeats train), written to a temporary folder and read
// with LoadPtb (checksums off). Also feeds the whole input to TokenizePtbText and IsValidUtf8.
// Any input must give a value or a Status: a crash, a sanitizer report or a broken invariant
// (checked below) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "datasets/ptb.h"
#include "fuzz/fuzz_util.h"

namespace rnnprune {
namespace {

const std::string& Dir() {
  static const std::string* dir = new std::string(MakeFuzzTempDir("ptb_fuzzer"));
  return *dir;
}

void CheckTokens(absl::string_view text, const std::vector<std::string>& tokens) {
  FUZZ_CHECK(!tokens.empty());
  FUZZ_CHECK(tokens.back() == kEos);
  size_t bytes = 0;
  for (const std::string& t : tokens) {
    FUZZ_CHECK(!t.empty());
    if (t == kEos) continue;
    FUZZ_CHECK(t.find_first_of(" \t\n") == std::string::npos);
    bytes += t.size();
  }
  FUZZ_CHECK(bytes <= text.size());
}

}  // namespace
}  // namespace rnnprune

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rnnprune;  // NOLINT
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  auto tokens = TokenizePtbText(input, "fuzz");
  if (tokens.ok()) {
    FUZZ_CHECK(IsValidUtf8(input));  // every line is, and '\n' cannot split a character
    CheckTokens(input, *tokens);
    const Vocabulary vocab = Vocabulary::FromWords(*tokens);
    for (const std::string& t : *tokens) {
      const int64_t id = vocab.IdOf(t);
      FUZZ_CHECK(id >= 0 && id < vocab.size());
      FUZZ_CHECK(vocab.WordOf(id) == t);
    }
  }

  std::vector<std::string> parts = absl::StrSplit(input, absl::MaxSplits('\f', 2));
  while (parts.size() < 3) parts.push_back(parts[0]);
  const char* names[] = {kPtbTrain.name, kPtbValid.name, kPtbTest.name};
  for (int i = 0; i < 3; ++i) {  // plain writes: WriteFileAtomically's fsync is slow
    std::ofstream out(absl::StrCat(Dir(), "/", names[i]), std::ios::binary | std::ios::trunc);
    out.write(parts[i].data(), static_cast<std::streamsize>(parts[i].size()));
    FUZZ_CHECK(out.good());
  }
  PtbLoadOptions options;
  options.verify_checksums = false;
  auto corpus = LoadPtb(Dir(), options);
  if (corpus.ok()) {
    FUZZ_CHECK(corpus->vocab.size() >= 1);
    for (const torch::Tensor* split : {&corpus->train, &corpus->valid, &corpus->test}) {
      FUZZ_CHECK(split->dim() == 1 && split->numel() >= 1);
      FUZZ_CHECK(split->min().item<int64_t>() >= 0);
      FUZZ_CHECK(split->max().item<int64_t>() < corpus->vocab.size());
    }
    auto batches = Batchify(corpus->train, 2);
    if (batches.ok()) {
      const int64_t windows = NumBpttWindows(*batches, 3);
      for (int64_t w = 0; w < windows; ++w) {
        const BpttWindow win = GetBpttWindow(*batches, w, 3);
        FUZZ_CHECK(win.input.sizes() == win.target.sizes());
      }
    }
  }
  return 0;
}
