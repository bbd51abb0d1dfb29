// Models as PyTorch state dicts: the tensors of a model under the parameter names of the matching
// torch.nn.Module in tools/rnnprune_torch.py, written in the zip/pickle format that Python's
// torch.load reads (LibTorch's torch::pickle_save, the format of torch.save).
#ifndef RNNPRUNE_MODELS_TORCH_EXPORT_H_
#define RNNPRUNE_MODELS_TORCH_EXPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "torch/nn/module.h"
#include "torch/types.h"

namespace rnnprune {

// Name -> tensor, in order. Tensors are contiguous CPU tensors that share no storage with the
// model (detached clones), of the model's dtype (float32).
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

// Every parameter of `model` (an LstmLmImpl or a BidafImpl; frozen ones included) under the names
// of the matching module of tools/rnnprune_torch.py, which holds one torch.nn.LSTM per LSTM layer
// (and per direction), so that layers and directions keep sizes of their own after pruning:
// "<p>_w_ih" becomes "<p>.weight_ih_l0" (w_hh -> weight_hh_l0, b_ih -> bias_ih_l0, b_hh ->
// bias_hh_l0), where <p> is lstm0, lstm1, ... (LstmLm) or contextual_fw, modelling0_bw, ...,
// output_bw (BiDAF); every other name is kept ("embedding.weight" [V, E], "decoder.weight"
// [V, H_L], "char_conv.weight" [C, char_dim, k], "w_start" [10d], ...). Shapes as in
// models/lstm_lm.h and models/bidaf.h; gate rows in torch.nn.LSTM's order (i, f, g, o).
StateDict TorchStateDict(const torch::nn::Module& model);

// Writes `state` to `path` as a dict {name: tensor} that torch.load(path) returns (insertion
// order kept), through a temporary file and a rename (common/files.h), so `path` is the old file
// or the whole new one. Errors: InvalidArgument for an empty or repeated name or an undefined
// tensor (naming it); the file's errors (ResourceExhausted, PermissionDenied, Internal), naming
// the path; InvalidArgument or Internal for a serialisation failure (c10::Error, other).
absl::Status WriteTorchStateDict(const StateDict& state, const std::string& path);

// Writes a model that tools/rnnprune_torch.py's load(dir) builds: dir/config.json holds
// `config_json` (LstmLmConfig::ToJson or BidafConfig::ToJson: the sizes, heterogeneous ones
// included) and dir/model.pt TorchStateDict(model). `dir` is created; each file is replaced
// atomically, model.pt first, so that a new folder that has a config.json has its weights too.
// Errors: those of common/files.h MakeDirs and of WriteTorchStateDict.
absl::Status ExportTorchModel(const torch::nn::Module& model, const std::string& config_json,
                              const std::string& dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_TORCH_EXPORT_H_
