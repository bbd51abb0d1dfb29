// The BLAS-backed inference engine ("blas", the fastest at batch 1): an LSTM stack written
// directly against CBLAS (OpenBLAS) and our own matrix-vector kernel, for compacted dense LSTMs
// whose small sizes make per-op framework overhead dominate. Per layer it keeps
// W = [W_ih | W_hh], float32 [4H, I + H], row-major and packed in panels of 8 rows, and the state
// vector xh = [x ; h] per sequence, so that:
//   - one call of T > 1 steps does one GEMM for the input projection of the whole sequence
//     (X [T*B, I] W_ih^T, W_ih being the first I columns of W), then per step one matrix-vector
//     product (B = 1) or GEMM (B > 1) for the recurrent part h W_hh^T;
//   - one call of T = 1 (token by token) does one matrix-vector product over [x ; h] and W:
//     every weight is read exactly once per token, which is what the memory-bandwidth roofline
//     assumes;
//   - the matrix-vector products at batch 1 (recurrent part, token-by-token step, decoder) run on
//     the packed panels (AVX2 + FMA, one sequential stream per thread; OpenBLAS sgemv on CPUs
//     without AVX2), so memory is read in order and cache-resident weights stay on the core that
//     reads them;
//   - products of more than one row (the input projection, the decoder over a sequence, the
//     recurrent part at B > 1) run on oneDNN's matmul with weights reordered once into its
//     blocked layout (OpenBLAS's sgemm would repack them on every call: at 35 rows the repacking
//     costs about as much as the product);
//   - the gate non-linearities and the cell update are one vectorised pass (Eigen);
//   - all buffers and the matmul primitives for T = max_steps are made in Reset(); Run()
//     allocates nothing (a whole-sequence call of another length builds its primitives once).
// Memory: the weights are held three times (row-major, packed for matrix-vector products,
// oneDNN's layout for GEMMs).
// Model: Zaremba et al. 2014 (gate order i, f, g, o as PyTorch's nn.LSTM; the two biases summed).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/engines/engine.h"
#include "models/lstm_kernels.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Copies a float32 CPU tensor's elements (row-major) into a vector.
std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// C [m, n] = A [m, k] (row stride lda) x W^T + bias [n] (with a bias), or C += A x W^T (without)
// for a fixed weight W [n, k] (row stride ldw),
// through oneDNN's matmul with the weights reordered once into the blocked layout it prefers
// (format_tag::any) and kept: OpenBLAS's sgemm packs its B operand again on every call, which for
// a few dozen rows (a 35-token sequence at batch 1) costs about as much as the product itself.
// Primitives are built per m and thread count and cached (Prepare() builds one ahead so that Run()
// allocates nothing); oneDNN runs on omp_get_max_threads() threads. Throws dnnl::error.
class PrepackedMatmul {
 public:
  PrepackedMatmul() = default;
  // `w` and `bias` (null: accumulate into C) must outlive this object (the user-layout view of
  // `w` is kept for reorders of later m).
  PrepackedMatmul(const float* w, int64_t n, int64_t k, int64_t ldw, const float* bias)
      : n_(n),
        k_(k),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_),
        user_(dnnl::memory::desc({k, n}, dnnl::memory::data_type::f32, {1, ldw}), engine_,
              const_cast<float*>(w)) {
    if (bias != nullptr) {
      bias_ = memory(memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab), engine_,
                     const_cast<float*>(bias));
    }
  }
  bool has_bias() const { return static_cast<bool>(bias_); }

  // Builds (and caches) the primitive for m rows with row strides lda and ldc.
  void Prepare(int64_t m, int64_t lda, int64_t ldc) { GetPlan(m, lda, ldc); }

  void Run(int64_t m, const float* a, int64_t lda, float* c, int64_t ldc) {
    Plan& plan = GetPlan(m, lda, ldc);
    plan.src.set_data_handle(const_cast<float*>(a));
    plan.dst.set_data_handle(c);
    plan.matmul.execute(stream_, plan.args);
    stream_.wait();
  }

 private:
  using memory = dnnl::memory;
  struct Plan {
    dnnl::matmul matmul;
    memory src, dst, scratchpad;  // src and dst are pointed at the caller's arrays per call
    std::unordered_map<int, memory> args;  // shares the memory objects above
  };

  Plan& GetPlan(int64_t m, int64_t lda, int64_t ldc) {
    // oneDNN splits a primitive's work for the thread count it sees when it is created.
    const int64_t threads = omp_get_max_threads();
    const std::array<int64_t, 4> wanted = {m, lda, ldc, threads};
    for (auto& [key, plan] : plans_) {
      if (key == wanted) return *plan;
    }
    const auto f32 = memory::data_type::f32;
    const memory::desc src_desc({m, k_}, f32, {lda, 1});
    const memory::desc dst_desc({m, n_}, f32, {ldc, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const memory::desc weights_desc({k_, n_}, f32, memory::format_tag::any);
    std::unique_ptr<dnnl::matmul::desc> desc;
    if (bias_) {
      desc =
          std::make_unique<dnnl::matmul::desc>(src_desc, weights_desc, bias_.get_desc(), dst_desc);
    } else {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);  // C += A W^T
      attr.set_post_ops(ops);
      desc = std::make_unique<dnnl::matmul::desc>(src_desc, weights_desc, dst_desc);
    }
    const dnnl::matmul::primitive_desc pd(*desc, attr, engine_);
    auto plan = std::make_unique<Plan>();
    plan->matmul = dnnl::matmul(pd);
    plan->src = memory(src_desc, engine_, nullptr);
    plan->dst = memory(dst_desc, engine_, nullptr);
    plan->scratchpad = memory(pd.scratchpad_desc(), engine_);
    plan->args = {{DNNL_ARG_SRC, plan->src},
                  {DNNL_ARG_WEIGHTS, Weights(pd.weights_desc())},
                  {DNNL_ARG_DST, plan->dst},
                  {DNNL_ARG_SCRATCHPAD, plan->scratchpad}};
    if (bias_) plan->args.emplace(DNNL_ARG_BIAS, bias_);
    plans_.emplace_back(wanted, std::move(plan));
    return *plans_.back().second;
  }

  // The weights in layout `want`, reordered once and cached.
  const memory& Weights(const memory::desc& want) {
    if (want == user_.get_desc()) return user_;
    for (const auto& w : reordered_) {
      if (w->get_desc() == want) return *w;
    }
    auto w = std::make_unique<memory>(want, engine_);
    dnnl::reorder(user_, *w).execute(stream_, user_, *w);
    stream_.wait();
    reordered_.push_back(std::move(w));
    return *reordered_.back();
  }

  int64_t n_ = 0, k_ = 0;
  dnnl::engine engine_;
  dnnl::stream stream_;
  memory user_;  // W^T [k, n] over the caller's row-major W [n, ldw]
  memory bias_;  // [1, n] over the caller's bias; empty: accumulate
  std::vector<std::unique_ptr<memory>> reordered_;
  // (m, lda, ldc, threads) -> plan
  std::vector<std::pair<std::array<int64_t, 4>, std::unique_ptr<Plan>>> plans_;
};

// C [m, n] += A [m, k] (leading dimension lda) x W[:, j0:j0+k]^T, row-major, where W [n, ldw] is
// given row-major (`w`), packed for matrix-vector products (`packed`, may be null) and prepacked
// for oneDNN's matmul (`prepacked`, may be null). m = 1 with AVX2 + FMA and a packed W: our
// packed matrix-vector product; m > 1 with a prepacked W: oneDNN's matmul; otherwise OpenBLAS
// (sgemv for m = 1, else sgemm). (Our own packed kernel for m = 20..35 was measured slower than
// both, so m > 1 goes to a GEMM library.)
void AddProduct(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* w,
                int64_t ldw, int64_t j0, const PackedMatrix* packed, PrepackedMatmul* prepacked,
                float* c, int64_t ldc) {
  if (m == 1 && packed != nullptr && HasAvx2Fma()) {
    PackedGemv(*packed, j0, j0 + k, a, c);
  } else if (m == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w + j0, ldw, a, 1, 1.0f, c, 1);
  } else if (prepacked != nullptr) {
    prepacked->Run(m, a, lda, c, ldc);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, w + j0, ldw, 1.0f,
                c, ldc);
  }
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
    if (model->embedding_weight().numel() != config.vocab_size * config.embedding_size ||
        model->decoder_weight().numel() != config.vocab_size * config.hidden_sizes.back() ||
        model->decoder_bias().numel() != config.vocab_size) {
      return absl::InvalidArgumentError(
          "the blas engine: embedding or decoder shapes do not match the model's config");
    }
    auto engine = std::unique_ptr<BlasEngine>(new BlasEngine(config));
    engine->embedding_ = ToVector(model->embedding_weight());
    engine->decoder_weight_ = ToVector(model->decoder_weight());
    engine->decoder_bias_ = ToVector(model->decoder_bias());
    engine->decoder_packed_ = PackedMatrix::Pack(engine->decoder_weight_.data(), config.vocab_size,
                                                 config.hidden_sizes.back());
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      const LstmLayerWeights& w = model->layer(l);
      Layer layer;
      layer.in = config.InputSize(static_cast<size_t>(l));
      layer.hidden = config.hidden_sizes[static_cast<size_t>(l)];
      const int64_t in = layer.in, hs = layer.hidden, width = in + hs;
      if (w.w_ih.numel() != 4 * hs * in || w.w_hh.numel() != 4 * hs * hs ||
          w.b_ih.numel() != 4 * hs || w.b_hh.numel() != 4 * hs) {
        return absl::InvalidArgumentError(
            absl::StrCat("the blas engine: layer ", l, " weights do not match the config"));
      }
      torch::Tensor cat = torch::cat({w.w_ih.detach(), w.w_hh.detach()}, 1);  // [4H, I + H]
      layer.w = ToVector(cat);
      layer.packed = PackedMatrix::Pack(layer.w.data(), 4 * hs, width);
      layer.bias = ToVector(w.b_ih.detach() + w.b_hh.detach());
      engine->layers_.push_back(std::move(layer));
    }
    try {
      for (Layer& layer : engine->layers_) {
        const int64_t width = layer.in + layer.hidden;
        layer.input_matmul = std::make_unique<PrepackedMatmul>(layer.w.data(), 4 * layer.hidden,
                                                               layer.in, width, layer.bias.data());
        layer.recurrent_matmul = std::make_unique<PrepackedMatmul>(
            layer.w.data() + layer.in, 4 * layer.hidden, layer.hidden, width, nullptr);
      }
      engine->decoder_matmul_ = std::make_unique<PrepackedMatmul>(
          engine->decoder_weight_.data(), config.vocab_size, config.hidden_sizes.back(),
          config.hidden_sizes.back(), engine->decoder_bias_.data());
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("the blas engine: oneDNN matmul: ", e.what()));
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
    // The oneDNN products a whole-sequence call of max_steps steps runs, built now so that such
    // calls allocate nothing (a call of another length > 1 builds its own on first use).
    try {
      int64_t x_width = config().embedding_size;
      for (Layer& layer : layers_) {
        if (rows > 1) layer.input_matmul->Prepare(rows, x_width, 4 * layer.hidden);
        if (batch > 1) {
          layer.recurrent_matmul->Prepare(batch, layer.in + layer.hidden, 4 * layer.hidden);
        }
        x_width = layer.hidden;
      }
      if (rows > 1) decoder_matmul_->Prepare(rows, x_width, config().vocab_size);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("the blas engine: oneDNN matmul: ", e.what()));
    }
    return absl::OkStatus();
  }

  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    absl::StatusOr<int64_t> steps = CheckRun(tokens, batch_, max_steps_);
    if (!steps.ok()) return steps.status();
    try {
      RunSteps(tokens, *steps, logits);
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("the blas engine: oneDNN matmul: ", e.what()));
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
    std::vector<float> w;  // [4H, I + H] = [W_ih | W_hh]
    PackedMatrix packed;   // the same, packed for matrix-vector products
    // W_ih and W_hh (views of `w`) prepacked for products of more than one row.
    std::unique_ptr<PrepackedMatmul> input_matmul, recurrent_matmul;
    std::vector<float> bias;   // [4H] = b_ih + b_hh
    std::vector<float> xh;     // [B, I + H]: the last input and the state h of each sequence
    std::vector<float> c;      // [B, H]
    std::vector<float> out;    // [T_max, B, H]
    std::vector<float> gates;  // [T_max, B, 4H]
  };

  explicit BlasEngine(const LstmLmConfig& config) : InferenceEngine(config) {}

  // Run() after its checks: t_len steps of `tokens` [t_len, B]. Throws dnnl::error.
  void RunSteps(absl::Span<const int64_t> tokens, int64_t t_len, bool logits) {
    const int64_t b = batch_, e = config().embedding_size;
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
      if (rows > 1) {
        decoder_matmul_->Run(rows, x, hl, logits_.data(), v);  // bias included
      } else {
        BroadcastRows(decoder_bias_, rows, logits_.data());
        AddProduct(rows, v, hl, x, hl, decoder_weight_.data(), hl, 0, &decoder_packed_, nullptr,
                   logits_.data(), v);
      }
    }
  }

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
      AddProduct(b, g4, width, layer.xh.data(), width, w, width, 0, &layer.packed, nullptr, gates,
                 g4);
      CellUpdate(layer, gates, layer.out.data());
      return;
    }
    // Whole sequence: the input projection of every step (plus the bias) in one GEMM.
    layer.input_matmul->Run(t_len * b, x, x_width, gates, g4);  // bias included
    for (int64_t t = 0; t < t_len; ++t) {
      float* g = gates + t * b * g4;
      AddProduct(b, g4, hs, layer.xh.data() + in, width, w, width, in, &layer.packed,
                 layer.recurrent_matmul.get(), g, g4);
      CellUpdate(layer, g, layer.out.data() + t * b * hs);
    }
  }

  // gates [B, 4H] (pre-activations, order i, f, g, o) -> c, h (into xh) and out [B, H], one
  // vectorised pass per row (models/lstm_kernels.h).
  void CellUpdate(Layer& layer, const float* gates, float* out) {
    const int64_t b = batch_, in = layer.in, hs = layer.hidden, width = in + hs;
    for (int64_t r = 0; r < b; ++r) {
      float* h = layer.xh.data() + r * width + in;
      LstmCellUpdate(gates + r * 4 * hs, hs, layer.c.data() + r * hs, h);
      std::memcpy(out + r * hs, h, hs * sizeof(float));
    }
  }

  std::vector<Layer> layers_;
  std::vector<float> embedding_;                     // [V, E]
  std::vector<float> decoder_weight_;                // [V, H_L]
  std::vector<float> decoder_bias_;                  // [V]
  PackedMatrix decoder_packed_;                      // decoder_weight_ packed
  std::unique_ptr<PrepackedMatmul> decoder_matmul_;  // decoder_weight_ for oneDNN's matmul
  std::vector<float> embedded_;                      // [T_max, B, E]
  std::vector<float> logits_;                        // [T_max, B, V]
  int64_t batch_ = 0, max_steps_ = 0;
};

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "blas",
    "ours: one GEMM per sequence for the input projection, per step one matrix-vector product "
    "over packed weights (AVX2) or GEMM (batch > 1), GEMMs on prepacked oneDNN matmul, "
    "vectorised gate update, no allocation",
    false, &BlasEngine::Create}));

}  // namespace
}  // namespace rnnprune
