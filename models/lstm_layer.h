// A single LSTM layer over a whole sequence with a hand-written backward pass: one GEMM for the
// input projection of all T steps, one small GEMM plus one fused element-wise update per step,
// and whole-sequence GEMMs for the weight gradients in backward. It replaces LibTorch's generic
// per-op autograd of the LSTM cell (about 3x faster for Zaremba small on 2 cores) and is exact:
// same equations and gate order (i, f, g, o) as torch::lstm (Hochreiter & Schmidhuber 1997 with
// forget gate, Gers et al. 2000; PyTorch's nn.LSTM documentation):
//   [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
//   c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g),  h_t = sigmoid(o) * tanh(c_t).
#ifndef RNNPRUNE_MODELS_LSTM_LAYER_H_
#define RNNPRUNE_MODELS_LSTM_LAYER_H_

#include <tuple>

#include "torch/types.h"

namespace rnnprune {

// Runs one LSTM layer. x [T, B, I], h0 and c0 [B, H], w_ih [4H, I], w_hh [4H, H], b_ih and
// b_hh [4H]; all float32 on CPU (checked: throws c10::Error otherwise). Returns
// (y [T, B, H], h_T [B, H], c_T [B, H]). Differentiable with respect to every input. When no
// gradient is needed (grad mode off, or no input requires one: inference and evaluation) it takes
// a lean path with no framework call per step (the packed matrix-vector kernel at B = 1 and the
// vectorised cell update of models/lstm_kernels.h), equal to the autograd path within 1e-5.
//
// `recurrent_mask` [B, H] (optional; undefined = none) multiplies the previous hidden state where
// the recurrence reads it, per sequence: the recurrent term becomes (m * h_{t-1}) W_hh^T for
// every step, h0 included, while y, h_T and c_T stay the cell's own. With a hidden neuron's
// outputs gated by the caller as well (m * y), this is a per-sequence gate on that neuron
// (Louizos et al. 2018 sample their gates per example); one mask row shared by the batch equals
// scaling the columns of W_hh. Differentiable with respect to the mask too.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> LstmLayerForward(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
    const torch::Tensor& b_hh, const torch::Tensor& recurrent_mask = torch::Tensor());

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_LSTM_LAYER_H_
