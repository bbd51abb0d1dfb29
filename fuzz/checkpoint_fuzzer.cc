// libFuzzer target for the checkpoint loader: the input is written to a temporary file and read
// with LoadLstmLm. Any input must give a model or a Status: a crash, a sanitizer report, an
// escaped exception or a model that does not match its config is a finding. Seeds
// (fuzz/corpus/checkpoint_fuzzer) are real checkpoints written by SaveLstmLm and corrupted
// variants, made by //fuzz:make_checkpoint_corpus.
#include <cstdint>
#include <fstream>
#include <string>

#include "fuzz/fuzz_util.h"
#include "models/checkpoint.h"
#include "torch/torch.h"

// LibTorch is built without frame pointers, so ASan's fast unwinder stops at its first frame and
// the LSan suppression of LibTorch's own leak (tools/lsan_suppressions.txt) could not match:
// unwind malloc stacks the slow way (about a third fewer runs per second).
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rnnprune;  // NOLINT
  static const std::string* path =
      new std::string(MakeFuzzTempDir("checkpoint_fuzzer") + "/input.pt");
  {  // a plain write: WriteFileAtomically's fsync is slow
    std::ofstream out(*path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    FUZZ_CHECK(out.good());
  }
  auto ckpt = LoadLstmLm(*path);
  if (!ckpt.ok()) return 0;
  // A loaded model is usable: its parameters have the config's shapes and a forward pass runs.
  const LstmLmConfig& config = ckpt->model->config();
  FUZZ_CHECK(config.Validate().ok());
  FUZZ_CHECK(ckpt->model->parameters().size() == 4 * config.hidden_sizes.size() + 3);
  int64_t count = 0;
  for (const auto& p : ckpt->model->parameters()) count += p.numel();
  FUZZ_CHECK(count == config.NumParameters());
  torch::NoGradGuard no_grad;
  const torch::Tensor tokens = torch::zeros({2, 1}, torch::kInt64);
  LstmState state = ckpt->model->InitialState(1);
  const torch::Tensor logits = ckpt->model->forward(tokens, &state);
  FUZZ_CHECK(logits.dim() == 3 && logits.size(0) == 2 && logits.size(1) == 1 &&
             logits.size(2) == config.vocab_size);
  return 0;
}
