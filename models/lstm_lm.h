// Word-level LSTM language model (Zaremba, Sutskever, Vinyals 2014, "Recurrent Neural Network
// Regularization", arXiv 1409.2329): Embedding -> L LSTM layers -> Linear decoder, dropout on the
// non-recurrent connections only. Layer sizes may differ (pruned models are heterogeneous).
#ifndef RNNPRUNE_MODELS_LSTM_LM_H_
#define RNNPRUNE_MODELS_LSTM_LM_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/batch_share.h"
#include "models/lstm_pruning_layout.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/embedding.h"
#include "torch/nn/modules/linear.h"
#include "torch/nn/pimpl.h"
#include "torch/types.h"

namespace rnnprune {

// Architecture of an LSTM LM. Layer l maps input size I_l to hidden size H_l = hidden_sizes[l];
// the decoder maps H_{L-1} to vocab_size. Dense models have I_0 = embedding_size and
// I_l = H_{l-1}. Compacted (pruned) models may read only a prefix of the previous layer's output:
// with `input_sizes` given, layer l >= 1 reads units [0, I_l) of layer l-1's output, I_l <= H_{l-1}
// (compaction orders the hidden units so that the ones layer l reads come first).
struct LstmLmConfig {
  int64_t vocab_size = 10000;
  int64_t embedding_size = 200;                    // E
  std::vector<int64_t> hidden_sizes = {200, 200};  // H_1 .. H_L
  std::vector<int64_t> input_sizes;                // I_1 .. I_L; empty = dense (see above)
  double dropout = 0.0;                            // drop probability on non-recurrent connections
  double init_scale = 0.1;                         // every parameter ~ U(-init_scale, init_scale)

  // I_l: input_sizes[l] when given, else embedding_size (l = 0) or hidden_sizes[l - 1].
  int64_t InputSize(size_t l) const;
  // Multiply-adds per token of the forward pass: sum over layers of 4 H_l (I_l + H_l) plus the
  // decoder's V H_L (the embedding lookup and element-wise gate math are not counted).
  int64_t MultiplyAddsPerToken() const;

  // Errors: InvalidArgument naming the field when a size is <= 0, there is no layer,
  // input_sizes has the wrong length, I_0 != E or I_l > H_{l-1}, dropout is outside [0, 1)
  // or init_scale <= 0.
  absl::Status Validate() const;
  // JSON object with the fields above (nlohmann-json); FromJson validates.
  std::string ToJson() const;
  static absl::StatusOr<LstmLmConfig> FromJson(const std::string& json);
  // Number of parameters (embedding, LSTM weights and both biases, decoder weight and bias).
  int64_t NumParameters() const;
};

// Recurrent state of the L layers: h[l] and c[l] are float32 [1, B, H_l].
struct LstmState {
  std::vector<torch::Tensor> h;
  std::vector<torch::Tensor> c;
  // Returns a copy cut from the autograd graph (truncated BPTT).
  LstmState Detached() const;
};

// One LSTM layer in PyTorch's layout (gate order i, f, g, o):
// w_ih [4H, I], w_hh [4H, H], b_ih [4H], b_hh [4H], all float32.
struct LstmLayerWeights {
  torch::Tensor w_ih, w_hh, b_ih, b_hh;
};

// Output of the LSTM stack and the decoder that reads it: logits = hidden W^T + b. Kept apart
// so that training can fuse the decoder with the loss (models/softmax_cross_entropy.h).
struct LmOutput {
  torch::Tensor hidden;          // [T, B, H_L] float32, last layer's output after dropout
  torch::Tensor decoder_weight;  // [V, H_L]
  torch::Tensor decoder_bias;    // [V]
  // hidden W^T + b: [T, B, V].
  torch::Tensor Logits() const;
};

class LstmLmImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises every parameter ~ U(-init_scale, init_scale) from the
  // global torch RNG (seed it with torch::manual_seed). `config` must be valid (checked).
  explicit LstmLmImpl(const LstmLmConfig& config);

  // input: int64 token ids [T, B]; `state` (in/out) holds the state before the first step and
  // receives the state after the last. Returns logits [T, B, V] (float32, unnormalised).
  // Dropout is active in training mode only.
  torch::Tensor forward(const torch::Tensor& input, LstmState* state);

  // Same as forward() but stops before the decoder (see LmOutput).
  LmOutput Run(const torch::Tensor& input, LstmState* state);

  // Same as Run(), with the LSTM weights replaced by `layers` (one entry per layer, same shapes
  // or any consistent heterogeneous shapes) and the embedding / decoder by the given tensors
  // (embedding [V, E'], decoder_weight [V, H_L'], decoder_bias [V]). Used to apply pruning
  // gates as scaled weights while keeping the fused LSTM layer.
  LmOutput RunWith(const torch::Tensor& input, LstmState* state, const torch::Tensor& embedding,
                   const std::vector<LstmLayerWeights>& layers, const torch::Tensor& decoder_weight,
                   const torch::Tensor& decoder_bias);

  // Same as Run(), with per-sequence multiplicative gates on the neurons (Wen et al. 2020's z_x
  // and z_h, sampled per example as Louizos et al. 2018 sample theirs): input_gates[l] [B, I_l]
  // multiplies layer l's input; hidden_gates[l] [B, H_l] multiplies hidden unit k's output
  // wherever it is read: the layer's own recurrence (LstmLayerForward's recurrent_mask, h0
  // included), the next layer's input and the decoder. One row per sequence of the batch, the
  // same over the window's T steps; gates with identical rows equal the gates folded into the
  // weights as column scalings (RunWith). The returned state is the cells' own (ungated).
  // Throws c10::Error for gates of the wrong count or shape.
  LmOutput RunWithNeuronGates(const torch::Tensor& input, LstmState* state,
                              const std::vector<torch::Tensor>& input_gates,
                              const std::vector<torch::Tensor>& hidden_gates);

  // The prunable LSTMs for pruning/neuron_gates.h and the shared compaction: free space
  // "embedding" (E; its producer is the embedding's columns), LSTMs "lstm0" .. "lstm<L-1>"
  // (lstm0 reads "embedding", lstm<l> reads "lstm<l-1>") and one reader, the decoder's columns
  // (reading "lstm<L-1>"); its gate sets are named E, I2..IL and H1..HL (the paper's). For a
  // compacted model whose layers read a prefix (input_sizes), the
  // layout does not match its parameters (LstmPruningLayout::Validate says so).
  LstmPruningLayout PruningLayout() const;

  // All-zero state for batch size `batch` on the parameters' device.
  LstmState InitialState(int64_t batch) const;

  const LstmLmConfig& config() const { return config_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  // The parameters of layer `l` (aliases, not copies).
  const LstmLayerWeights& layer(int64_t l) const { return layers_.at(static_cast<size_t>(l)); }
  LstmLayerWeights& mutable_layer(int64_t l) { return layers_.at(static_cast<size_t>(l)); }
  const torch::Tensor& embedding_weight() const { return embedding_->weight; }  // [V, E]
  const torch::Tensor& decoder_weight() const { return decoder_->weight; }      // [V, H_L]
  const torch::Tensor& decoder_bias() const { return decoder_->bias; }          // [V]

  // The rows of the global batch that this process's [T, B] inputs are (data-parallel training,
  // training/data_parallel.h): dropout draws the global batch's masks and keeps these rows
  // (models/batch_share.h), so N processes draw what one process draws. Default: the whole batch.
  void set_batch_share(const BatchShare& share) { batch_share_ = share; }
  const BatchShare& batch_share() const { return batch_share_; }

 private:
  LstmLmConfig config_;
  BatchShare batch_share_;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<LstmLayerWeights> layers_;
  torch::nn::Linear decoder_{nullptr};
};
TORCH_MODULE(LstmLm);

// LstmLmImpl::PruningLayout of a model of `config`, without the model.
LstmPruningLayout LstmLmPruningLayout(const LstmLmConfig& config);

// The names and shapes of the parameters of a model of `config` (as named_parameters()), as
// tensors on the meta device (no storage, nothing drawn): what a layout needs to size its spaces
// before a model exists.
std::map<std::string, torch::Tensor> LstmLmParameterShapes(const LstmLmConfig& config);

// Deep copy (new parameter storage): copying an LstmLm holder would share parameters.
LstmLm CloneLstmLm(const LstmLm& model);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_LSTM_LM_H_
