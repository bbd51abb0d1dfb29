// Pieces shared by the training-checkpoint formats (pruning/training_checkpoint.h for PTB,
// pruning/squad_training_checkpoint.h for BiDAF): doubles in JSON, and typed reads of a LibTorch
// archive that throw when a key is missing (callers catch c10::Error and turn it into a Status).
#ifndef RNNPRUNE_PRUNING_CHECKPOINT_IO_H_
#define RNNPRUNE_PRUNING_CHECKPOINT_IO_H_

#include <string>

#include "nlohmann/json.hpp"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {

// `x` as JSON; NaN and +-Inf (which JSON lacks) become the strings "nan", "inf", "-inf".
nlohmann::json DoubleToJson(double x);

// The inverse of DoubleToJson. Throws nlohmann::json::type_error for a value that is neither a
// number nor a string, std::invalid_argument for any other string.
double DoubleFromJson(const nlohmann::json& j);

// archive[key] as a tensor / a value. Throws c10::Error naming the key when it is missing.
torch::Tensor ReadTensor(torch::serialize::InputArchive& archive, const std::string& key);
c10::IValue ReadValue(torch::serialize::InputArchive& archive, const std::string& key);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_CHECKPOINT_IO_H_
