// Saving and loading BiDAF models, dense or compacted (pruning/bidaf_compaction.h): the config,
// every parameter with its own shape, each compacted direction's input index, and free-form
// metadata JSON, so that a pruned BiDAF loads back with its own sizes.
#ifndef RNNPRUNE_MODELS_BIDAF_CHECKPOINT_H_
#define RNNPRUNE_MODELS_BIDAF_CHECKPOINT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/bidaf.h"

namespace rnnprune {

struct BidafCheckpoint {
  Bidaf model{nullptr};
  std::string metadata_json;  // what the writer passed ("{}" when none)
};

// Writes `model` to `path` in LibTorch's archive format, atomically (temporary file, fsync,
// rename): an existing file at `path` is replaced only once the new one is complete. Errors: the
// path and the reason.
absl::Status SaveBidaf(const Bidaf& model, const std::string& path,
                       const std::string& metadata_json = "{}");

// Loads a file written by SaveBidaf, in eval mode on CPU, consuming no random numbers. The file
// is checked whole (CheckTorchArchive) before LibTorch parses it. Errors: NotFound (no file),
// InvalidArgument naming `path` (not a BiDAF checkpoint, truncated or corrupt, an invalid
// config, a missing parameter, shapes that do not fit together: BidafImpl::ValidateShapes).
absl::StatusOr<BidafCheckpoint> LoadBidaf(const std::string& path);

// A deep copy of `model` (new parameter storage, the same shapes and input indices; copying a
// Bidaf holder would share the parameters), in the same training mode, consuming no random
// numbers. Errors: those of SetCompacted (never for a valid model).
absl::StatusOr<Bidaf> CloneBidaf(const Bidaf& model);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BIDAF_CHECKPOINT_H_
