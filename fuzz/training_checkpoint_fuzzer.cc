// libFuzzer target for the training-checkpoint loader, the one `--resume` and the main job use:
// the input is parsed from memory with ParseLmTrainingCheckpoint (the bytes
// LoadLmTrainingCheckpoint reads from a file) and, when that succeeds, restored into a live run
// (RestoreLmTrainingCheckpoint: the tiny model of fuzz/tiny_training_run.h, the trainer's SGD,
// torch's generator, the carried LSTM state). Any input must give a Status or a restored run whose
// tensors have the model's shapes: a crash, a sanitizer report, an escaped exception or a shape
// change is a finding. Seeds (fuzz/corpus/training_checkpoint_fuzzer) are checkpoints written by
// Train on that model, mid-epoch and at epoch ends, and corrupted copies, made by
// //fuzz:make_training_checkpoint_corpus.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "fuzz/tiny_training_run.h"
#include "torch/torch.h"
#include "training/lm_training_checkpoint.h"

// As in checkpoint_fuzzer.cc: LibTorch has no frame pointers; unwind malloc stacks the slow way so
// that the LSan suppression of LibTorch's own leak can match.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rnnprune;  // NOLINT
  const std::string what = "fuzz input";
  auto ckpt =
      ParseLmTrainingCheckpoint(absl::string_view(reinterpret_cast<const char*>(data), size), what);
  if (!ckpt.ok()) return 0;
  FUZZ_CHECK(ckpt->rng_state.scalar_type() == torch::kUInt8 && ckpt->rng_state.dim() == 1);
  FUZZ_CHECK(ckpt->lstm_state.h.size() == ckpt->lstm_state.c.size());

  // A fresh run of the seeds' shape each time: a restore may leave it partly changed.
  const LstmLmConfig config = TinyTrainingConfig();
  LstmLm model(config);
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : model->parameters()) shapes.push_back(p.sizes().vec());
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  TrainingHooks hooks;
  const int64_t batch = TinyTrainingOptions().schedule.batch_size;
  LstmState state = model->InitialState(batch);
  const absl::Status restored = RestoreLmTrainingCheckpoint(*ckpt, what, model, hooks, sgd, &state);
  // Whatever happened, the model kept its shapes (restore copies into the live tensors).
  size_t i = 0;
  for (const auto& p : model->parameters()) FUZZ_CHECK(p.sizes().vec() == shapes[i++]);
  if (!restored.ok()) return 0;
  FUZZ_CHECK(state.h.size() == config.hidden_sizes.size());
  for (size_t l = 0; l < state.h.size(); ++l) {
    FUZZ_CHECK(state.h[l].sizes().vec() ==
               (std::vector<int64_t>{1, batch, config.hidden_sizes[l]}));
    FUZZ_CHECK(state.c[l].sizes() == state.h[l].sizes());
  }
  return 0;
}
