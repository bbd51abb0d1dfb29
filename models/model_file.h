// The frame every rnnprune model file shares (models/checkpoint.h for the LSTM LM,
// models/bidaf_checkpoint.h for BiDAF): a LibTorch archive holding "format" (the kind and
// version), "config" (the architecture as JSON) and "metadata" (free-form JSON), beside the
// model's own tensors; written atomically and checked whole before LibTorch parses it.
#ifndef RNNPRUNE_MODELS_MODEL_FILE_H_
#define RNNPRUNE_MODELS_MODEL_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "c10/util/Exception.h"
#include "torch/ordered_dict.h"
#include "torch/serialize/input-archive.h"
#include "torch/serialize/output-archive.h"

namespace rnnprune {

// Writes the three header entries and every parameter (as "param.<name>", detached, on CPU)
// into `archive` (throws c10::Error as LibTorch does).
void WriteModelContents(torch::serialize::OutputArchive& archive, const std::string& format,
                        const std::string& config_json, const std::string& metadata_json,
                        const torch::OrderedDict<std::string, torch::Tensor>& parameters);

// An opened model file: its archive (for the tensors) and header.
struct ModelFile {
  torch::serialize::InputArchive archive;
  std::string config_json;
  std::string metadata_json;  // "{}" when the file has none
  size_t bytes = 0;           // the file's size
};

// Reads the file at `path` whole, checks it (CheckTorchArchive: zip structure, CRC-32 of every
// entry, pickle lengths) and opens it as an archive whose "format" is `format`. `what` names the
// kind in messages (e.g. "LSTM LM checkpoint"). Errors: NotFound ("no <what> at 'path'");
// InvalidArgument naming `path`: "is not an rnnprune <what>" (damaged, or another format), "no
// config"; those of ReadFile. Throws c10::Error only if LibTorch does after the checks pass.
absl::StatusOr<ModelFile> OpenModelFile(const std::string& path, const std::string& format,
                                        const std::string& what);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_MODEL_FILE_H_
