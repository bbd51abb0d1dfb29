// Saving and restoring the state of LibTorch's default CPU generator (the one torch::rand,
// dropout and module initialisation draw from), for training checkpoints and for loaders that
// must not consume random numbers.
#ifndef RNNPRUNE_COMMON_TORCH_RNG_H_
#define RNNPRUNE_COMMON_TORCH_RNG_H_

#include "torch/types.h"

namespace rnnprune {

// The state of torch's default CPU generator: uint8 [n] (n = 5056 for LibTorch 1.13's mt19937).
torch::Tensor CaptureTorchCpuRng();

// Sets torch's default CPU generator to `state` (a tensor CaptureTorchCpuRng returned). Throws
// c10::Error for a tensor of another dtype or size.
void RestoreTorchCpuRng(const torch::Tensor& state);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_TORCH_RNG_H_
