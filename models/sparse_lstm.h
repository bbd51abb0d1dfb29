// Inference of an LSTM LM whose LSTM weight matrices are irregularly sparse (magnitude pruning,
// L1 Lasso), with the weights in compressed sparse row (CSR) form through Eigen's
// SparseMatrix<float, RowMajor> (Eigen 3.4, libeigen3-dev). It measures what irregular sparsity
// buys on a CPU, which is the paper's argument for structured pruning (Wen et al. 2020,
// Section 1; Wen et al. 2018, Section 2): per layer one sparse-times-dense product for the input
// projection of the whole sequence, then per time step one sparse product for the recurrent
// part and the element-wise gate update (gate order i, f, g, o as in models/lstm_layer.h).
// Embedding and decoder stay dense (they are not pruned by the unstructured methods).
//
// Eigen runs a RowMajor sparse-times-dense product on several OpenMP threads when the matrix
// holds more than 20,000 non-zeros (Eigen::setNbThreads; this library is built with -fopenmp).
#ifndef RNNPRUNE_MODELS_SPARSE_LSTM_H_
#define RNNPRUNE_MODELS_SPARSE_LSTM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "torch/types.h"

namespace rnnprune {

class SparseLstmLm {
 public:
  // Converts `model` (float32 on CPU; exact zeros in its LSTM weights are left out of the CSR
  // matrices). Errors: InvalidArgument for a non-float32 or non-CPU model.
  static absl::StatusOr<SparseLstmLm> FromDense(const LstmLm& model);

  // input: int64 token ids [T, B] on the CPU; `state` (in/out, LstmState layout, float32
  // [1, B, H_l] on the CPU) holds the
  // state before the first step and receives the state after the last. Returns the last
  // layer's output [T, B, H_L] float32 (no dropout: inference only). Equals model->Run() on the
  // dense model up to float rounding. Throws c10::Error for bad shapes.
  torch::Tensor Run(const torch::Tensor& input, LstmState* state) const;
  // Decoder logits of `hidden` [T, B, H_L]: [T, B, V] float32.
  torch::Tensor Logits(const torch::Tensor& hidden) const;
  // All-zero state for batch size `batch`.
  LstmState InitialState(int64_t batch) const;

  // The CSR matrix of layer `layer` (w_ih when !recurrent, w_hh when recurrent) back as a dense
  // float32 tensor [4H, I] or [4H, H] (for the round-trip test).
  torch::Tensor DenseWeight(int64_t layer, bool recurrent) const;
  // Non-zeros stored in the CSR matrices, over all layers.
  int64_t LstmNonZeros() const;
  // Bytes the LSTM weights take in CSR form (float32 values, int32 column indices and row
  // offsets), and dense (float32), for the reports.
  int64_t LstmCsrBytes() const;
  int64_t LstmDenseBytes() const;
  const LstmLmConfig& config() const { return config_; }
  const torch::Tensor& decoder_weight() const { return decoder_weight_; }  // [V, H_L]
  const torch::Tensor& decoder_bias() const { return decoder_bias_; }      // [V]

 private:
  struct Layer;
  LstmLmConfig config_;
  std::vector<std::shared_ptr<const Layer>> layers_;
  torch::Tensor embedding_, decoder_weight_, decoder_bias_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_SPARSE_LSTM_H_
