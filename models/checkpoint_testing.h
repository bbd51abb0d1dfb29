// Test-only: writes checkpoint archives that SaveLstmLm never would (wrong format tag, a config
// that does not match the parameters, missing or ill-typed entries), to check that LoadLstmLm
// refuses them with a Status. Used by //models:lstm_lm_test and //fuzz:make_checkpoint_corpus.
#ifndef RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_
#define RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_

#include <functional>
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

// Edits, in the archive bytes `archive` (as SaveLstmLm writes them: no comment, 32-bit sizes),
// the data of the stored entry whose name ends with `name_suffix` (e.g. "/data.pkl") in place
// with `edit` (which must keep its length), then rewrites the entry's CRC-32 in the central
// directory, as a crafted file would. Errors: NotFound when no stored entry matches,
// InvalidArgument when `edit` changed the length.
absl::Status EditStoredEntry(std::string* archive, const std::string& name_suffix,
                             const std::function<void(std::string* data)>& edit);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_CHECKPOINT_TESTING_H_
