// The kernels of our LSTM inference paths (the "blas" engine of models/engines and the no-grad
// path of models/lstm_layer.h): a matrix-vector product over weights packed in panels of 8 rows,
// and the vectorised LSTM cell update. Plain float32 arrays, row-major; no framework calls, so
// that small (compacted) LSTMs are not bound by per-op overhead.
#ifndef RNNPRUNE_MODELS_LSTM_KERNELS_H_
#define RNNPRUNE_MODELS_LSTM_KERNELS_H_

#include <cstdint>
#include <vector>

namespace rnnprune {

// W [n, k] (row-major) repacked into panels of 8 rows, data[p][j][i] = W[8p + i][j], the last
// panel padded with zero rows: a matrix-vector product then reads the weights as one sequential
// stream per thread (the hardware prefetcher's best case), 8 outputs per AVX2 register. This is
// the layout oneDNN's RNN kernels use for the same reason (blocked output channels).
struct PackedMatrix {
  int64_t n = 0, k = 0, panels = 0;
  std::vector<float> data;  // [panels, k, 8]

  // Packs `w` [n, k] with row stride `ldw` (>= k; `k` when 0).
  static PackedMatrix Pack(const float* w, int64_t n, int64_t k, int64_t ldw = 0);
};

// True when the CPU has AVX2 and FMA (PackedGemv's requirement).
bool HasAvx2Fma();

// y [n] += W[:, j0:j1] x, x of length j1 - j0, for a packed W (AVX2 + FMA: check HasAvx2Fma;
// callers fall back to sgemv). The panels are split into one contiguous block per OpenMP thread,
// the same split every call (each core finds the rows it read last time in its own caches when
// they fit); under 64 Ki weights it runs on one thread (a fork/join costs more).
void PackedGemv(const PackedMatrix& m, int64_t j0, int64_t j1, const float* x, float* y);

// One LSTM cell update for one sequence (Hochreiter & Schmidhuber 1997 with forget gate; gate
// order i, f, g, o as PyTorch's nn.LSTM): from the pre-activations gates [4H],
//   c <- sigmoid(f) * c + sigmoid(i) * tanh(g),  h <- sigmoid(o) * tanh(c),
// c [H] read and written in place, h [H] written. Vectorised through Eigen 3.4's float logistic
// and tanh (rational approximations accurate to a few ulp; within 1e-5 of LibTorch's).
void LstmCellUpdate(const float* gates, int64_t hs, float* c, float* h);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_LSTM_KERNELS_H_
