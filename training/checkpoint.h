// The one training-checkpoint container of every trainer (training/lm_trainer.h for the PTB
// language model, training/bidaf_trainer.h for BiDAF): named tensor groups, the trainer's
// progress, serialised optimisers, torch's CPU generator, all in one LibTorch archive with one
// validation. Each trainer keeps a typed view of its own on top of it
// (training/lm_training_checkpoint.h, training/bidaf_training_checkpoint.h).
//
// A file holds one LibTorch archive (torch::serialize::OutputArchive, a zip) with these keys:
//
//   format              string  "rnnprune.training_checkpoint"
//   version             int     kTrainingCheckpointVersion (3); readers refuse other versions
//   trainer             string  which trainer wrote it (e.g. "lstm_lm", "bidaf"); a reader asks
//                               for its own and refuses the others
//   config_hash         string  the run's config hash (common/config_hash.h)
//   progress            string  a JSON object: the trainer's position and statistics
//   groups              string  JSON array of the tensor group names, in order
//   tensors/<g>/names   string  JSON array of the tensor names of group g, in order
//   tensors/<g>/<i>     tensor  the i-th tensor of group g (shapes and dtypes free)
//   optimizers          string  JSON array of optimiser roles (e.g. "weights", "extra")
//   optimizers/<role>   string  bytes of a LibTorch archive written by Optimizer::save
//   rng/torch_cpu       tensor  uint8 state of torch's default CPU generator
//
// Names (groups, tensors, roles) are [A-Za-z0-9_./]+ and unique within their list.
#ifndef RNNPRUNE_TRAINING_CHECKPOINT_H_
#define RNNPRUNE_TRAINING_CHECKPOINT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/torch_rng.h"  // CaptureTorchCpuRng, RestoreTorchCpuRng
#include "nlohmann/json.hpp"
#include "torch/optim/optimizer.h"
#include "torch/ordered_dict.h"
#include "torch/types.h"

namespace rnnprune {

// 3: one container for every trainer (2 and 1 were the LM's and BiDAF's own formats; files of
// those versions are refused: delete them and the run starts over).
inline constexpr int kTrainingCheckpointVersion = 3;

// Tensors with their names, in a meaningful order (e.g. named_parameters()).
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The contents of a training checkpoint (see the file comment for the on-disk keys). Tensors
// are CPU tensors.
struct TrainingCheckpoint {
  std::string trainer;                                 // e.g. "lstm_lm", "bidaf"
  std::string config_hash;                             // common/config_hash.h ConfigHash
  nlohmann::json progress = nlohmann::json::object();  // the trainer's own fields
  std::map<std::string, NamedTensors> groups;          // e.g. "model", "extra", "lstm", "ema"
  std::map<std::string, std::string> optimizers;       // role -> Optimizer::save archive bytes
  torch::Tensor rng_state;                             // uint8 [n], torch's default CPU generator
};

// Writes `checkpoint` to `path` atomically (common/files.h WriteFileAtomicallyWith: temporary
// file in the same folder, fsync, rename, folder fsync), so that a kill at any moment leaves
// either the previous checkpoint or the new one. Refuses bad state before writing anything:
// FailedPrecondition naming the group and tensor when a floating-point tensor holds NaN/Inf;
// InvalidArgument for an undefined tensor, a name outside [A-Za-z0-9_./]+, a non-object
// progress or an undefined generator state. Other errors name the path (I/O, serialisation).
absl::Status SaveTrainingCheckpoint(const TrainingCheckpoint& checkpoint, const std::string& path);

// Reads and checks the checkpoint held in `bytes` (`what` names it in errors, e.g. its path):
// the archive first (models/torch_archive.h CheckTorchArchive: zip structure, CRC-32 of every
// entry, pickle lengths), then its keys: format, version, `trainer` (must equal the argument),
// a JSON object as progress, unique valid names, every listed tensor present, a uint8 vector as
// generator state, and every optimiser state an archive that passes CheckTorchArchive.
// Errors: InvalidArgument naming `what` and the first problem. Never throws.
absl::StatusOr<TrainingCheckpoint> ParseTrainingCheckpoint(absl::string_view bytes,
                                                           absl::string_view trainer,
                                                           const std::string& what);

// ParseTrainingCheckpoint of the file at `path`. Errors: NotFound (no file), else as
// ParseTrainingCheckpoint, naming `path`. The file is left as it is.
absl::StatusOr<TrainingCheckpoint> LoadTrainingCheckpoint(const std::string& path,
                                                          absl::string_view trainer);

// The tensors of `group` / the state of the optimiser `role` in `checkpoint`, which a trainer's
// view requires. Throw std::invalid_argument naming what is missing (the views turn it into
// InvalidArgument).
const NamedTensors& RequiredGroup(const TrainingCheckpoint& checkpoint, const std::string& group);
const std::string& RequiredOptimizer(const TrainingCheckpoint& checkpoint, const std::string& role);

// The bytes of a LibTorch archive holding `optimizer`'s state (Optimizer::save). Throws
// c10::Error.
std::string SerializeOptimizer(torch::optim::Optimizer& optimizer);

// Loads what SerializeOptimizer wrote into `optimizer` (its options stay as built). Throws
// c10::Error.
void DeserializeOptimizer(const std::string& state, torch::optim::Optimizer& optimizer);

// `dict` (named_parameters(), named_buffers()) as detached NamedTensors.
NamedTensors Named(const torch::OrderedDict<std::string, torch::Tensor>& dict);

// Empty when `saved` has the names, shapes and dtypes of `live`, in order; else the first
// mismatch, naming `what` (e.g. "parameters") and both sides.
std::string NamedMismatch(const std::string& what, const NamedTensors& saved,
                          const NamedTensors& live);

// `x` as JSON; NaN and +-Inf (which JSON lacks) become the strings "nan", "inf", "-inf".
nlohmann::json DoubleToJson(double x);

// The inverse of DoubleToJson. Throws nlohmann::json::type_error for a value that is neither a
// number nor a string, std::invalid_argument for any other string.
double DoubleFromJson(const nlohmann::json& j);

// SHA-256 (64 hex digits) of named tensors: for each, in order, its name, dtype, shape and raw
// contiguous CPU bytes. Two runs with bit-identical parameters give the same hash.
std::string TensorsSha256(const NamedTensors& tensors);

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_CHECKPOINT_H_
