// Saving and loading LSTM LMs: weights plus the architecture (so heterogeneous, pruned models
// load back with their own sizes) plus free-form metadata JSON.
#ifndef RNNPRUNE_MODELS_CHECKPOINT_H_
#define RNNPRUNE_MODELS_CHECKPOINT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lstm_lm.h"

namespace rnnprune {

// A loaded checkpoint.
struct LstmLmCheckpoint {
  LstmLm model{nullptr};
  std::string metadata_json;  // what the writer passed as `metadata_json` ("{}" when none)
};

// Writes `model` (config + every parameter, float32) and `metadata_json` to `path` in LibTorch's
// archive format, atomically (temporary file, fsync, rename): an existing checkpoint at `path` is
// replaced only once the new one is complete. Errors: the path and the reason (unwritable
// folder, full disk, serialisation failure).
absl::Status SaveLstmLm(const LstmLm& model, const std::string& path,
                        const std::string& metadata_json = "{}");

// Loads a checkpoint written by SaveLstmLm; the model is in eval mode on CPU. Loading leaves
// torch's global random generator as it found it. The file is read
// whole and checked (CheckTorchArchive: zip structure, every entry's CRC-32, pickle lengths)
// before LibTorch parses it, so a truncated or corrupt file is an error, not wrong weights.
// Errors: NotFound (no file), InvalidArgument (not a checkpoint, truncated or corrupt, a config
// that fails validation or needs more parameters than the file holds, a parameter whose shape
// does not match the config), each naming `path`; the errors of ReadFile.
absl::StatusOr<LstmLmCheckpoint> LoadLstmLm(const std::string& path);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_CHECKPOINT_H_
