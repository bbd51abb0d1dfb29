// The LM's output layer and loss fused into one autograd op: logits = x W^T + b, then softmax
// cross-entropy against the targets. Equal to torch::nn::functional::cross_entropy(
// torch::linear(x, W, b), targets) but without materialising log-probabilities, the one-hot
// gradient and the log-softmax backward as separate [N, V] tensors: the [N, V] buffer is written
// once by the GEMM, turned into probabilities in place, and read by the backward GEMMs.
#ifndef RNNPRUNE_MODELS_SOFTMAX_CROSS_ENTROPY_H_
#define RNNPRUNE_MODELS_SOFTMAX_CROSS_ENTROPY_H_

#include "torch/types.h"

namespace rnnprune {

// x [N, H] float32, weight [V, H], bias [V], targets [N] int64 in [0, V). Returns the mean
// negative log-likelihood over the N rows (a float32 scalar, nats per token), differentiable
// with respect to x, weight and bias. Throws c10::Error on bad shapes or out-of-range targets.
torch::Tensor LinearCrossEntropy(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const torch::Tensor& targets);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_SOFTMAX_CROSS_ENTROPY_H_
