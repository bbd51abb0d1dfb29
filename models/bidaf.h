// BiDAF, the Bidirectional Attention Flow network of Seo, Kembhavi, Farhadi, Hajishirzi
// (ICLR 2017, arXiv 1611.01603), for extractive question answering (SQuAD v1.1). Section and
// equation numbers below are the paper's (Section 2 describes the six layers).
//
// Notation: B batch, Tc context tokens, Tq question tokens, W characters per token (padded),
// d = hidden_size, D = word_dim + char_channels. Every tensor is batch-first and float32 unless
// said otherwise; masks are bool and right-padded (true for the first `length` positions).
//
// Every LSTM (the contextual layer, each modelling layer, the end-pointer layer; both directions
// of each) runs on the project's fused layer (models/lstm_layer.h) with its weights held as
// LstmLayerWeights registered as parameters, reachable through lstms() for neuron pruning.
#ifndef RNNPRUNE_MODELS_BIDAF_H_
#define RNNPRUNE_MODELS_BIDAF_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/bidaf_config.h"
#include "models/lstm_lm.h"
#include "models/lstm_pruning_layout.h"
#include "models/prunable_model.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/conv.h"
#include "torch/nn/modules/embedding.h"
#include "torch/nn/modules/linear.h"
#include "torch/nn/pimpl.h"
#include "torch/types.h"

namespace rnnprune {

// What masked (padded) context positions get as start/end logits: softmax gives them exactly 0.
inline constexpr float kBidafMaskedLogit = -1e30f;

// A padded batch of questions with their contexts (see training/squad_batch.h to make one from
// SQuAD examples). Every tensor is on CPU; ids and answers are int64, masks bool. Id 0 is
// padding in both vocabularies; a padded token's characters are all 0.
struct BidafBatch {
  torch::Tensor context_words;   // [B, Tc] int64 in [0, word_vocab_size)
  torch::Tensor context_chars;   // [B, Tc, W] int64 in [0, char_vocab_size), 0 after a word
  torch::Tensor context_mask;    // [B, Tc] bool, true on the first len_b >= 1 positions
  torch::Tensor question_words;  // [B, Tq] int64
  torch::Tensor question_chars;  // [B, Tq, W'] int64 (W' may differ from W)
  torch::Tensor question_mask;   // [B, Tq] bool, true on the first len_b >= 1 positions
  // Gold span, token indices into the context, first <= last < len_b; [B] int64. Optional
  // (undefined tensors) for inference; required by BidafLoss.
  torch::Tensor answer_first, answer_last;
};

// OK, or InvalidArgument naming the field and rule: shapes and dtypes as documented above,
// masks right-padded with every length >= 1, word ids in [0, word_vocab_size), char ids in
// [0, char_vocab_size), answers (when `require_answers` or when defined) in range.
absl::Status ValidateBidafBatch(const BidafBatch& batch, const BidafConfig& config,
                                bool require_answers);

// Start and end logits over context positions (Section 2, item 6, eq. 5 and the end pointer):
// [B, Tc] float32, unnormalised (softmax over the context gives p1, p2), kBidafMaskedLogit at
// padded positions.
struct BidafOutput {
  torch::Tensor start_logits;
  torch::Tensor end_logits;
};

// The two directions of one bidirectional LSTM layer, PyTorch layout and gate order (i, f, g, o):
// w_ih [4d, I], w_hh [4d, d], b_ih [4d], b_hh [4d] each. The output at a position is
// [forward h; backward h] (2d).
struct BidafLstm {
  // "contextual" (I = D), "modelling.0" (I = 8d), "modelling.<l>" (l >= 1, I = 2d), "output"
  // (the end pointer's M2 = BiLSTM(M), I = 2d).
  std::string name;
  LstmLayerWeights forward, backward;
  // For a compacted model (pruning/bidaf_compaction.h): the positions of the layer's input
  // features each direction reads, int64 [I_dir] ascending, w_ih [4H_dir, I_dir]; undefined (the
  // dense model): every feature.
  torch::Tensor forward_input, backward_input;
};

// Per-example multiplicative gates on the neurons of one bidirectional layer (Wen et al. 2020's
// z_x and z_h, one row per example as Louizos et al. 2018 sample theirs; undefined = none):
// *_input [B, I_dir] multiplies what the direction reads (its w_ih columns' inputs);
// *_hidden [B, H_dir] multiplies the direction's output wherever it is read, its own recurrence
// included (LstmLayerForward's recurrent_mask). Rows shared by the batch equal the gates folded
// into the weights (pruning/neuron_gates.h ApplyNeuronGates over PruningLayout()).
struct BidafLayerGates {
  torch::Tensor forward_input, forward_hidden, backward_input, backward_hidden;
};

// Reverses each sequence of `x` [T, B, ...] within its own length: position t < lengths[b] of
// example b goes to lengths[b] - 1 - t; positions >= lengths[b] (padding) stay where they are.
// lengths: [B] int64 in [0, T]. Its own inverse; differentiable (a gather). Throws c10::Error on
// bad shapes.
torch::Tensor ReverseWithinLengths(const torch::Tensor& x, const torch::Tensor& lengths);

// One bidirectional LSTM layer over right-padded sequences (Section 2, items 3 and 5): x
// [B, T, I] float32, lengths [B] int64 in [1, T]. The forward direction runs over all T steps
// from a zero state (padding comes after every real position, so it cannot reach them); the
// backward direction runs on ReverseWithinLengths(x) and is reversed back, so each example's
// backward pass starts at its own last token. A direction with an input index reads only those
// features of x. Returns [B, T, H_fw + H_bw] ([fw; bw] per position, 2d when dense); values at
// padded positions are finite but meaningless. Throws c10::Error on bad shapes.
torch::Tensor RunBidirectionalLstm(const BidafLstm& lstm, const torch::Tensor& x,
                                   const torch::Tensor& lengths,
                                   const BidafLayerGates& gates = BidafLayerGates());

class BidafImpl : public torch::nn::Module {
 public:
  // Builds the six layers of Section 2; `config` must be valid (checked: throws c10::Error).
  // Initialisation, from the global torch RNG (seed it with torch::manual_seed):
  //  - word embedding N(0, 1) (load GloVe with SetWordEmbedding); char embedding N(0, 1);
  //  - Conv1d and highway Linear layers: PyTorch defaults (U(+-1/sqrt(fan_in)));
  //  - LSTMs: U(+-1/sqrt(d)) (PyTorch's default), plus 1 on the forget-gate rows of b_ih, as the
  //    authors' TensorFlow code (BasicLSTMCell, forget_bias = 1);
  //  - w_S [6d], w_p1 [10d], w_p2 [10d]: U(+-1/sqrt(length)). No bias on these: a constant shift
  //    of a softmax's logits changes nothing.
  explicit BidafImpl(const BidafConfig& config);

  // Runs the network. Dropout (config.dropout) is active in training mode only, on the character
  // embeddings (CNN input), the input of every LSTM layer and [G; M], [G; M2] before the output
  // projections (Section 4). In eval mode an example's logits do not depend on the rest of its
  // batch or on how far it is padded (up to float rounding). Throws c10::Error when
  // ValidateBidafBatch(batch, config, false) fails.
  BidafOutput forward(const BidafBatch& batch);

  // forward() with the LSTM weights replaced by `lstms` (same order, names and shapes as
  // lstms()): for pruning methods that gate neurons by scaling weights while keeping the fused
  // layer (as LstmLm::RunWith). Throws c10::Error on a mismatch.
  BidafOutput ForwardWithLstms(const BidafBatch& batch, const std::vector<BidafLstm>& lstms);

  // forward() with the named parameters in `replaced` (names as in named_parameters(), shapes
  // equal to theirs) used in place of the model's: how pruning/neuron_gates.h runs the model
  // with its gates folded into the weights, differentiably. Throws c10::Error on an unknown name
  // or a different shape.
  BidafOutput ForwardWithParameters(const BidafBatch& batch,
                                    const std::map<std::string, torch::Tensor>& replaced);

  // forward() with per-example gates on the LSTMs' neurons: `gates` holds one entry per LSTM
  // (lstms() order). Throws c10::Error on a count or shape mismatch.
  BidafOutput ForwardWithNeuronGates(const BidafBatch& batch,
                                     const std::vector<BidafLayerGates>& gates);

  // forward() as a pruning method asks for it (models/prunable_model.h): the replaced
  // parameters and the per-example gates of `how` (keyed by direction names of PruningLayout,
  // "contextual.fw", ...; a direction without gates is not gated). Throws c10::Error on an
  // unknown name or a shape mismatch.
  BidafOutput ForwardGated(const BidafBatch& batch, const ForwardPlan& how);

  // The model as a pruning method sees it: PruningLayout(), named_parameters() (aliases) and
  // the training mode.
  PrunableModelView View();

  // The rows of the global batch that this process's batches are (data-parallel training,
  // training/data_parallel.h): dropout draws the global batch's masks and keeps these rows
  // (models/batch_share.h), and View() passes them to the hooks. Default: the whole batch.
  void set_batch_share(const BatchShare& share) { batch_share_ = share; }
  const BatchShare& batch_share() const { return batch_share_; }

  // The prunable LSTMs (models/lstm_pruning_layout.h), each direction on its own: free space
  // "highway" (D, the highway outputs; no producer is removed, the highway being residual);
  // LSTMs "contextual.fw", "contextual.bw" (reading "highway"), "modelling.<l>.fw/.bw" and
  // "output.fw/.bw"; modelling.0 reads G = [h; u~; h*u~; h*h~] (Eq. 4: the contextual spaces
  // fw, bw four times, powers 1, 1, 2, 2), the others the layer below's [fw; bw]. Readers:
  // w_similarity ([h; u; h*u], Eq. 1: powers 1, 1, 2), w_start ([G; M], Eq. 5) and w_end
  // ([G; M2]). Valid for the dense model only.
  LstmPruningLayout PruningLayout() const;

  // Makes this model the compacted one (pruning/bidaf_compaction.h builds it): every parameter
  // of `parameters` (names as in named_parameters(), any shapes consistent with the layout)
  // replaces the model's, and `inputs` (LSTM direction name as in PruningLayout, e.g.
  // "modelling.0.fw" -> int64 [I_dir]) sets the input index of the directions named. config()
  // keeps the dense sizes it was compacted from; forward() reads the sizes from the tensors.
  // Errors: InvalidArgument naming an unknown parameter or direction, a wrong dtype, or shapes
  // that do not fit together (ValidateShapes); the model is then unusable (build a new one).
  absl::Status SetCompacted(const std::map<std::string, torch::Tensor>& parameters,
                            const std::map<std::string, torch::Tensor>& inputs);

  // OK when the LSTM and attention/output tensors fit together (dense or compacted): per
  // direction w_ih [4H, I], w_hh [4H, H], biases [4H]; I the width the layer below produces (the
  // highway's D, G's 4C with C the contextual layer's H_fw + H_bw, or the layer below's
  // H_fw + H_bw), or, with an input index, its length with every entry in [0, that width);
  // w_similarity [3C], w_start [4C + M], w_end [4C + M2]. Errors: InvalidArgument naming the
  // tensor and the rule.
  absl::Status ValidateShapes() const;

  // ValidateBidafBatch + forward(), with LibTorch errors returned as a Status.
  absl::StatusOr<BidafOutput> TryForward(const BidafBatch& batch);

  // Copies `weights` [word_vocab_size, word_dim] float32 (e.g. GloVe rows from
  // datasets/glove.h) into the word embedding. Freezing is unchanged. Errors: InvalidArgument
  // on a wrong shape or dtype.
  absl::Status SetWordEmbedding(const torch::Tensor& weights);

  // The LSTMs in order contextual, modelling.0 .. modelling.<L-1>, output. Their tensors are the
  // registered parameters (aliases): modify them in place (under torch::NoGradGuard) to prune;
  // assigning a new tensor to a field would detach it from parameters() and from checkpoints.
  // Pointers stay valid for the module's lifetime.
  std::vector<BidafLstm*> lstms();
  std::vector<const BidafLstm*> lstms() const;

  const BidafConfig& config() const { return config_; }
  const torch::Tensor& word_embedding() const { return word_embedding_->weight; }  // [Vw, word_dim]
  const torch::Tensor& char_embedding() const { return char_embedding_->weight; }  // [Vc, char_dim]

 private:
  // The weights of the attention and output layers (Eq. 1 and 5).
  struct Heads {
    torch::Tensor w_similarity, w_start, w_end;
  };
  // Character CNN + word embedding + highway (Section 2, items 1-2): [B, T, D].
  torch::Tensor Embed(const torch::Tensor& words, const torch::Tensor& chars);
  // forward() with the given LSTMs and heads (checked against the model's).
  BidafOutput Run(const BidafBatch& batch, const std::vector<BidafLstm>& lstms, const Heads& heads,
                  const std::vector<BidafLayerGates>& gates = {});

  BidafConfig config_;
  BatchShare batch_share_;
  torch::nn::Embedding word_embedding_{nullptr}, char_embedding_{nullptr};
  torch::nn::Conv1d char_conv_{nullptr};
  std::vector<torch::nn::Linear> highway_transform_, highway_gate_;
  std::vector<BidafLstm> lstms_;
  torch::Tensor w_similarity_, w_start_, w_end_;  // [6d], [10d], [10d]
};
TORCH_MODULE(Bidaf);

// Training loss (Section 2, "Training"): the mean over the batch of
// -log p1(answer_first) - log p2(answer_last), natural log, so nats per example (float32
// scalar, differentiable). Throws c10::Error when the answers are missing, have the wrong shape
// or fall outside the example's context.
torch::Tensor BidafLoss(const BidafOutput& output, const BidafBatch& batch);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BIDAF_H_
