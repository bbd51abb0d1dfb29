// The BLAS-backed inference engine ("blas", the default): an LSTM stack written directly against
// CBLAS (OpenBLAS), for compacted dense LSTMs whose small sizes make per-op framework overhead
// dominate. Per layer it keeps W = [W_ih | W_hh], float32 [4H, I + H] row-major, and the state
// vector xh = [x ; h] per sequence, so that:
//   - one call of T > 1 steps does one sgemm for the input projection of the whole sequence
//     (X [T*B, I] W_ih^T, reading the first I columns of W with leading dimension I + H), then per
//     step one sgemv (B = 1) or sgemm (B > 1) for the recurrent part h W_hh^T;
//   - one call of T = 1 (token by token) does one sgemv/sgemm over [x ; h] and W: every weight is
//     read exactly once per token, which is what the memory-bandwidth roofline assumes;
//   - the gate non-linearities and the cell update are one fused loop;
//   - all buffers are sized in Reset(); Run() allocates nothing.
// Model: Zaremba et al. 2014 (gate order i, f, g, o as PyTorch's nn.LSTM; the two biases summed).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "Eigen/Core"
#include "absl/strings/str_cat.h"
#include "models/engines/engine.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Copies a float32 CPU tensor's elements (row-major) into a vector.
std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Writes `bias` [n] into each of the `rows` rows of out [rows, n].
void BroadcastRows(const std::vector<float>& bias, int64_t rows, float* out) {
  const size_t n = bias.size();
  for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * n, bias.data(), n * sizeof(float));
}

class BlasEngine final : public InferenceEngine {
 public:
  static absl::StatusOr<std::unique_ptr<InferenceEngine>> Create(const LstmLm& model) {
    const LstmLmConfig& config = model->config();
    if (model->embedding_weight().scalar_type() != torch::kFloat32 ||
        !model->embedding_weight().device().is_cpu()) {
      return absl::InvalidArgumentError("the blas engine needs a float32 model on the CPU");
    }
    auto engine = std::unique_ptr<BlasEngine>(new BlasEngine(config));
    engine->embedding_ = ToVector(model->embedding_weight());
    engine->decoder_weight_ = ToVector(model->decoder_weight());
    engine->decoder_bias_ = ToVector(model->decoder_bias());
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      const LstmLayerWeights& w = model->layer(l);
      Layer layer;
      layer.in = config.InputSize(static_cast<size_t>(l));
      layer.hidden = config.hidden_sizes[static_cast<size_t>(l)];
      const int64_t in = layer.in, hs = layer.hidden, width = in + hs;
      torch::Tensor cat = torch::cat({w.w_ih.detach(), w.w_hh.detach()}, 1);  // [4H, I + H]
      layer.w = ToVector(cat);
      layer.bias = ToVector(w.b_ih.detach() + w.b_hh.detach());
      if (static_cast<int64_t>(layer.w.size()) != 4 * hs * width) {
        return absl::InvalidArgumentError(absl::StrCat("layer ", l, " weights do not match the config"));
      }
      engine->layers_.push_back(std::move(layer));
    }
    return std::unique_ptr<InferenceEngine>(std::move(engine));
  }

  absl::Status Reset(int64_t batch, int64_t max_steps) override {
    if (auto s = CheckReset(batch, max_steps); !s.ok()) return s;
    batch_ = batch;
    max_steps_ = max_steps;
    const int64_t rows = batch * max_steps;
    for (Layer& layer : layers_) {
      layer.xh.assign(static_cast<size_t>(batch * (layer.in + layer.hidden)), 0.0f);
      layer.c.assign(static_cast<size_t>(batch * layer.hidden), 0.0f);
      layer.out.assign(static_cast<size_t>(rows * layer.hidden), 0.0f);
      layer.gates.assign(static_cast<size_t>(rows * 4 * layer.hidden), 0.0f);
    }
    embedded_.assign(static_cast<size_t>(rows * config().embedding_size), 0.0f);
    logits_.assign(static_cast<size_t>(rows * config().vocab_size), 0.0f);
    return absl::OkStatus();
  }

  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    absl::StatusOr<int64_t> steps = CheckRun(tokens, batch_, max_steps_);
    if (!steps.ok()) return steps.status();
    const int64_t t_len = *steps, b = batch_, e = config().embedding_size;
    for (int64_t i = 0; i < t_len * b; ++i) {
      std::memcpy(embedded_.data() + i * e, embedding_.data() + tokens[i] * e, e * sizeof(float));
    }
    const float* x = embedded_.data();
    int64_t x_width = e;
    for (Layer& layer : layers_) {
      RunLayer(layer, x, x_width, t_len);
      x = layer.out.data();
      x_width = layer.hidden;
    }
    if (logits) {
      const int64_t rows = t_len * b, v = config().vocab_size, hl = layers_.back().hidden;
      BroadcastRows(decoder_bias_, rows, logits_.data());
      if (rows == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, v, hl, 1.0f, decoder_weight_.data(), hl, x, 1,
                    1.0f, logits_.data(), 1);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, v, hl, 1.0f, x, hl,
                    decoder_weight_.data(), hl, 1.0f, logits_.data(), v);
      }
    }
    return absl::OkStatus();
  }

  const float* hidden() const override { return layers_.back().out.data(); }
  const float* logits() const override { return logits_.data(); }

  std::vector<float> State(int64_t layer_index, bool cell) const override {
    const Layer& layer = layers_.at(static_cast<size_t>(layer_index));
    if (cell) return layer.c;
    std::vector<float> h(static_cast<size_t>(batch_ * layer.hidden));
    for (int64_t r = 0; r < batch_; ++r) {
      std::memcpy(h.data() + r * layer.hidden,
                  layer.xh.data() + r * (layer.in + layer.hidden) + layer.in,
                  layer.hidden * sizeof(float));
    }
    return h;
  }

  int64_t LstmWeightBytes() const override {
    int64_t n = 0;
    for (const Layer& layer : layers_) n += layer.w.size() + layer.bias.size();
    return 4 * n;
  }
  int64_t DecoderWeightBytes() const override {
    return 4 * static_cast<int64_t>(decoder_weight_.size() + decoder_bias_.size());
  }

 private:
  struct Layer {
    int64_t in = 0, hidden = 0;
    std::vector<float> w;      // [4H, I + H] = [W_ih | W_hh]
    std::vector<float> bias;   // [4H] = b_ih + b_hh
    std::vector<float> xh;     // [B, I + H]: the last input and the state h of each sequence
    std::vector<float> c;      // [B, H]
    std::vector<float> out;    // [T_max, B, H]
    std::vector<float> gates;  // [T_max, B, 4H]
  };

  explicit BlasEngine(const LstmLmConfig& config) : InferenceEngine(config) {}

  // x: the previous layer's output (or the embeddings) [T, B, x_width]; the layer reads its first
  // `layer.in` columns.
  void RunLayer(Layer& layer, const float* x, int64_t x_width, int64_t t_len) {
    const int64_t b = batch_, in = layer.in, hs = layer.hidden, width = in + hs, g4 = 4 * hs;
    float* gates = layer.gates.data();
    const float* w = layer.w.data();
    if (t_len == 1) {
      // Token by token: [x ; h] W^T in one pass over W.
      for (int64_t r = 0; r < b; ++r) {
        std::memcpy(layer.xh.data() + r * width, x + r * x_width, in * sizeof(float));
      }
      BroadcastRows(layer.bias, b, gates);
      if (b == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, g4, width, 1.0f, w, width, layer.xh.data(), 1,
                    1.0f, gates, 1);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, g4, width, 1.0f,
                    layer.xh.data(), width, w, width, 1.0f, gates, g4);
      }
      CellUpdate(layer, gates, layer.out.data());
      return;
    }
    // Whole sequence: the input projection of every step in one sgemm.
    BroadcastRows(layer.bias, t_len * b, gates);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t_len * b, g4, in, 1.0f, x, x_width, w,
                width, 1.0f, gates, g4);
    const float* w_hh = w + in;
    for (int64_t t = 0; t < t_len; ++t) {
      float* g = gates + t * b * g4;
      if (b == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, g4, hs, 1.0f, w_hh, width, layer.xh.data() + in,
                    1, 1.0f, g, 1);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, g4, hs, 1.0f,
                    layer.xh.data() + in, width, w_hh, width, 1.0f, g, g4);
      }
      CellUpdate(layer, g, layer.out.data() + t * b * hs);
    }
  }

  // gates [B, 4H] (pre-activations, order i, f, g, o) -> c, h (into xh) and out [B, H].
  // Vectorised through Eigen 3.4's float logistic and tanh (rational approximations, accurate
  // to a few ulp; engines_test holds them to LibTorch within 1e-5), one pass per row for c and
  // one for h.
  void CellUpdate(Layer& layer, const float* gates, float* out) {
    using Vec = Eigen::Map<Eigen::ArrayXf>;
    using ConstVec = Eigen::Map<const Eigen::ArrayXf>;
    const int64_t b = batch_, in = layer.in, hs = layer.hidden, width = in + hs;
    for (int64_t r = 0; r < b; ++r) {
      const float* g = gates + r * 4 * hs;
      Vec c(layer.c.data() + r * hs, hs);
      Vec h(layer.xh.data() + r * width + in, hs);
      c = ConstVec(g + hs, hs).logistic() * c +
          ConstVec(g, hs).logistic() * ConstVec(g + 2 * hs, hs).tanh();
      h = ConstVec(g + 3 * hs, hs).logistic() * c.tanh();
      std::memcpy(out + r * hs, h.data(), hs * sizeof(float));
    }
  }

  std::vector<Layer> layers_;
  std::vector<float> embedding_;       // [V, E]
  std::vector<float> decoder_weight_;  // [V, H_L]
  std::vector<float> decoder_bias_;    // [V]
  std::vector<float> embedded_;        // [T_max, B, E]
  std::vector<float> logits_;          // [T_max, B, V]
  int64_t batch_ = 0, max_steps_ = 0;
};

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "blas",
    "ours: one sgemm per sequence for the input projection, one sgemv/sgemm per step, fused "
    "gate update, preallocated buffers (OpenBLAS)",
    false, &BlasEngine::Create}));

}  // namespace
}  // namespace rnnprune
