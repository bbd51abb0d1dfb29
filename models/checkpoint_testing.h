// Test-only: writes checkpoint archives that SaveLstmLm never would (wrong format tag, a config
// that does not match the parameters, missing or ill-typed entries), to check that LoadLstmLm
// refuses them with a Status. Used by //models:lstm_lm_test and //fuzz:make_checkpoint_corpus.
#ifndef RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_
#define RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "models/lstm_lm.h"
#include "torch/torch.h"

namespace rnnprune {

// The entries of a checkpoint archive as SaveLstmLm lays them out: "format", "config" and
// "metadata" (strings in a real checkpoint; any IValue here) and "param.<name>" tensors.
struct RawCheckpoint {
  std::optional<c10::IValue> format;  // std::nullopt: the entry is left out
  std::optional<c10::IValue> config;
  std::optional<c10::IValue> metadata;
  std::map<std::string, torch::Tensor> params;  // name without the "param." prefix
};

// The entries SaveLstmLm writes for `model` (parameters detached, on CPU).
RawCheckpoint RawCheckpointOf(const LstmLm& model, const std::string& metadata_json = "{}");

// Writes `raw` to `path` in LibTorch's archive format (what LoadLstmLm reads). Errors: Internal
// with LibTorch's message.
absl::Status WriteRawCheckpoint(const RawCheckpoint& raw, const std::string& path);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_
