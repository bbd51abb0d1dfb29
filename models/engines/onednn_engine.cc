// The oneDNN inference engine ("onednn"): oneDNN 2.6's LSTM primitive (dnnl::lstm_forward,
// prop_kind::forward_inference, unidirectional_left2right), one primitive per layer because
// compacted layers differ in size, and oneDNN's matmul for the decoder. Debian's libdnnl2 uses
// the OpenMP runtime: oneDNN runs on omp_get_max_threads() threads. Set them
// (SetInferenceThreads) before Reset(): some oneDNN kernels split their work for the thread
// count seen when the primitive is created.
//
// Layout (oneDNN "Developer Guide: RNN", LSTM section; logical weight dims are [L, D, I, G, O]):
//   - weights_layer W_ih [4H, I] and weights_iter W_hh [4H, H] of PyTorch, row-major, are the
//     user format ldgoi ([L=1][D=1][G=4][O=H][I]); oneDNN's gate order i, f, c~, o equals
//     PyTorch's i, f, g, o. Each is reordered once to the layout the primitive prefers
//     (format_tag::any); a layout asked for later (another T) is reordered once more and cached.
//   - bias ldgo [1, 1, 4, H] = b_ih + b_hh (oneDNN's LSTM has one bias).
//   - src_layer / dst_layer tnc [T, B, C]; a layer reading only the first I_l < H_{l-1} units of
//     the previous layer's output gets a strided view [T, B, I_l] (row stride H_{l-1}) of it.
//   - the state h / c is ldnc [1, 1, B, H]; two buffers per layer, swapped after each Run(): the
//     dst_iter / dst_iter_c of one call are the src_iter / src_iter_c of the next.
//   - the decoder is matmul [T*B, H_L] x [H_L, V] + bias [1, V]; PyTorch's [V, H_L] row-major is
//     the user format ba of [H_L, V].
// Primitives and their argument lists are built per number of steps T (at batch B) and cached:
// in Reset() for T = max_steps and T = 1, lazily for any other T <= max_steps. Scratchpads are
// user-managed and preallocated with each plan, so a Run() with a cached T allocates nothing.
// Memory: the engine keeps the user-layout weights next to the reordered ones (about twice the
// model's float32 size; more when different T ask for different layouts, as the non-AVX-512
// reference RNN's packed weights do).
// Model: Zaremba et al. 2014 (models/lstm_lm.h).
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/engines/engine.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

// Execution arguments of one primitive (DNNL_ARG_* -> memory).
using Args = std::unordered_map<int, memory>;

absl::Status DnnlError(const std::string& context, const dnnl::error& e) {
  return absl::InternalError(absl::StrCat("onednn engine: ", context, ": ", e.what(),
                                          " (dnnl_status_t ", static_cast<int>(e.status), ")"));
}

// Copies a float32 CPU tensor's elements (row-major) into a vector.
std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// One weight tensor in its user (PyTorch) layout plus the copies reordered to the layouts that
// primitives asked for, each made once. The user copy stays: a primitive for another T may
// prefer another layout (oneDNN's packed RNN weights depend on the GEMM sizes).
class Weight {
 public:
  // `values` in the layout `user_desc` describes.
  Weight(std::vector<float> values, const memory::desc& user_desc, const dnnl::engine& engine)
      : values_(std::move(values)), user_(user_desc, engine, values_.data()) {}
  Weight(const Weight&) = delete;  // `user_` points into `values_`
  Weight& operator=(const Weight&) = delete;

  // The weight in layout `want`, reordered (on `stream`, waited for) and cached on first use.
  // The reference is valid until the next Get(); the memory handle it holds stays valid.
  const memory& Get(const memory::desc& want, const dnnl::engine& engine, dnnl::stream& stream) {
    if (want == user_.get_desc()) return user_;
    for (const memory& m : reordered_) {
      if (m.get_desc() == want) return m;
    }
    memory m(want, engine);
    dnnl::reorder(user_, m).execute(stream, user_, m);
    stream.wait();
    reordered_.push_back(m);
    return reordered_.back();
  }

 private:
  std::vector<float> values_;  // user layout; `user_` points into it
  memory user_;
  std::vector<memory> reordered_;
};

class OneDnnEngine final : public InferenceEngine {
 public:
  // Copies the weights of `model` (float32, CPU). Errors: InvalidArgument for another dtype or
  // device or weights whose shapes disagree with the config. Throws dnnl::error (caught by the
  // factory below).
  static absl::StatusOr<std::unique_ptr<InferenceEngine>> Create(const LstmLm& model) {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& p : model->parameters()) {
      if (p.scalar_type() != torch::kFloat32 || !p.device().is_cpu()) {
        return absl::InvalidArgumentError(
            "the onednn engine needs a model whose parameters are float32 on the CPU");
      }
    }
    const LstmLmConfig& config = model->config();
    auto engine = std::unique_ptr<OneDnnEngine>(new OneDnnEngine(config));
    engine->embedding_ = ToVector(model->embedding_weight());
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      const LstmLayerWeights& w = model->layer(l);
      const int64_t in = config.InputSize(static_cast<size_t>(l));
      const int64_t hs = config.hidden_sizes[static_cast<size_t>(l)];
      if (w.w_ih.sizes() != torch::IntArrayRef({4 * hs, in}) ||
          w.w_hh.sizes() != torch::IntArrayRef({4 * hs, hs}) || w.b_ih.numel() != 4 * hs ||
          w.b_hh.numel() != 4 * hs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "layer ", l, ": w_ih ", c10::str(w.w_ih.sizes()), ", w_hh ", c10::str(w.w_hh.sizes()),
            " do not match the config (I=", in, ", H=", hs, ")"));
      }
      Layer layer;
      layer.in = in;
      layer.hidden = hs;
      layer.w_layer = std::make_unique<Weight>(
          ToVector(w.w_ih), memory::desc({1, 1, in, 4, hs}, kF32, Tag::ldgoi), engine->engine_);
      layer.w_iter = std::make_unique<Weight>(
          ToVector(w.w_hh), memory::desc({1, 1, hs, 4, hs}, kF32, Tag::ldgoi), engine->engine_);
      layer.bias_values = ToVector(w.b_ih + w.b_hh);
      layer.bias =
          memory({{1, 1, 4, hs}, kF32, Tag::ldgo}, engine->engine_, layer.bias_values.data());
      engine->layers_.push_back(std::move(layer));
    }
    const int64_t v = config.vocab_size, hl = config.hidden_sizes.back();
    if (model->decoder_weight().sizes() != torch::IntArrayRef({v, hl})) {
      return absl::InvalidArgumentError(
          absl::StrCat("decoder weight ", c10::str(model->decoder_weight().sizes()),
                       " does not match the config [", v, ", ", hl, "]"));
    }
    // PyTorch's [V, H_L] row-major is [H_L, V] in format ba.
    engine->decoder_weight_ = std::make_unique<Weight>(
        ToVector(model->decoder_weight()), memory::desc({hl, v}, kF32, Tag::ba), engine->engine_);
    engine->decoder_bias_values_ = ToVector(model->decoder_bias());
    engine->decoder_bias_ =
        memory({{1, v}, kF32, Tag::ab}, engine->engine_, engine->decoder_bias_values_.data());
    return std::unique_ptr<InferenceEngine>(std::move(engine));
  }

  // See InferenceEngine::Reset; also builds the plans for T = max_steps and T = 1 (primitives,
  // weight reorders on first use, scratchpad). Errors: as CheckReset; Internal when oneDNN
  // fails (the engine then needs another successful Reset() before Run()).
  absl::Status Reset(int64_t batch, int64_t max_steps) override {
    if (absl::Status s = CheckReset(batch, max_steps); !s.ok()) return s;
    batch_ = 0;  // Run() fails with FailedPrecondition until this Reset() succeeds
    plans_.clear();
    const size_t rows = static_cast<size_t>(batch * max_steps);
    embedded_.assign(rows * static_cast<size_t>(config().embedding_size), 0.0f);
    for (Layer& layer : layers_) {
      const size_t state = static_cast<size_t>(batch * layer.hidden);
      for (int p = 0; p < 2; ++p) {
        layer.h[p].assign(state, 0.0f);
        layer.c[p].assign(state, 0.0f);
      }
      layer.out.assign(rows * static_cast<size_t>(layer.hidden), 0.0f);
    }
    logits_.assign(rows * static_cast<size_t>(config().vocab_size), 0.0f);
    parity_ = 0;
    batch_ = batch;
    max_steps_ = max_steps;
    try {
      GetPlan(max_steps);
      GetPlan(1);
    } catch (const dnnl::error& e) {
      batch_ = 0;
      plans_.clear();
      return DnnlError(
          absl::StrCat("building primitives for batch ", batch, ", T = ", max_steps, " and T = 1"),
          e);
    }
    return absl::OkStatus();
  }

  // See InferenceEngine::Run. A T other than max_steps and 1 builds (and caches) its plan on
  // first use. Errors: as CheckRun; Internal when oneDNN fails.
  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    absl::StatusOr<int64_t> steps = CheckRun(tokens, batch_, max_steps_);
    if (!steps.ok()) return steps.status();
    const int64_t t_len = *steps, e = config().embedding_size;
    // Embedding lookup: row tokens[i] of the table -> row i of embedded_ [T, B, E].
    for (int64_t i = 0; i < t_len * batch_; ++i) {
      std::memcpy(embedded_.data() + i * e, embedding_.data() + tokens[i] * e,
                  static_cast<size_t>(e) * sizeof(float));
    }
    try {
      Plan& plan = GetPlan(t_len);
      for (size_t l = 0; l < layers_.size(); ++l) {
        plan.lstm[l].execute(stream_, plan.lstm_args[parity_][l]);
      }
      if (logits) plan.decoder.execute(stream_, plan.decoder_args);
      stream_.wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrCat("running T = ", t_len, " steps at batch ", batch_), e);
    }
    parity_ ^= 1;  // this call's dst_iter / dst_iter_c are the next call's src_iter / src_iter_c
    return absl::OkStatus();
  }

  const float* hidden() const override { return layers_.back().out.data(); }
  const float* logits() const override { return logits_.data(); }

  std::vector<float> State(int64_t layer, bool cell) const override {
    const Layer& l = layers_.at(static_cast<size_t>(layer));
    return cell ? l.c[parity_] : l.h[parity_];
  }

  int64_t LstmWeightBytes() const override {
    int64_t n = 0;
    for (const Layer& l : layers_) n += 4 * l.hidden * (l.in + l.hidden) + 4 * l.hidden;
    return 4 * n;
  }
  int64_t DecoderWeightBytes() const override {
    const int64_t v = config().vocab_size;
    return 4 * (v * config().hidden_sizes.back() + v);
  }

 private:
  struct Layer {
    int64_t in = 0, hidden = 0;       // I_l, H_l
    std::unique_ptr<Weight> w_layer;  // W_ih, user layout ldgoi [1, 1, I, 4, H]
    std::unique_ptr<Weight> w_iter;   // W_hh, user layout ldgoi [1, 1, H, 4, H]
    std::vector<float> bias_values;   // [4H] = b_ih + b_hh
    memory bias;                      // ldgo [1, 1, 4, H] over bias_values
    std::vector<float> h[2], c[2];    // [B, H] each; [parity_] is the current state
    std::vector<float> out;           // dst_layer [max_steps, B, H]
  };

  // The primitives for T steps at the current batch and their arguments over the buffers sized
  // by Reset(), for both state parities.
  struct Plan {
    std::vector<dnnl::lstm_forward> lstm;  // one per layer
    std::vector<Args> lstm_args[2];        // [parity][layer]
    dnnl::matmul decoder;
    Args decoder_args;
    memory scratchpad;  // shared by all primitives of the plan (they run one after another)
  };

  explicit OneDnnEngine(const LstmLmConfig& config)
      : InferenceEngine(config), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  // The cached plan for T = t_len, built on first use. Throws dnnl::error.
  Plan& GetPlan(int64_t t_len) {
    auto it = plans_.find(t_len);
    if (it != plans_.end()) return *it->second;
    auto plan = std::make_unique<Plan>();
    const int64_t b = batch_;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    std::vector<memory::desc> scratch_descs;
    // Layer 0 reads the embedded tokens; layer l >= 1 the first I_l units of layer l-1's output.
    memory src(memory::desc({t_len, b, config().embedding_size}, kF32, Tag::tnc), engine_,
               embedded_.data());
    int64_t src_width = config().embedding_size;
    for (size_t l = 0; l < layers_.size(); ++l) {
      Layer& layer = layers_[l];
      const int64_t in = layer.in, hs = layer.hidden;
      const memory::desc src_desc({t_len, b, in}, kF32, Dims{b * src_width, src_width, 1});
      const memory::desc state_desc({1, 1, b, hs}, kF32, Tag::ldnc);
      const memory::desc dst_desc({t_len, b, hs}, kF32, Tag::tnc);
      const dnnl::lstm_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::rnn_direction::unidirectional_left2right,
          src_desc, state_desc, state_desc, memory::desc({1, 1, in, 4, hs}, kF32, Tag::any),
          memory::desc({1, 1, hs, 4, hs}, kF32, Tag::any), layer.bias.get_desc(), dst_desc,
          state_desc, state_desc);
      const dnnl::lstm_forward::primitive_desc pd(desc, attr, engine_);
      plan->lstm.emplace_back(pd);
      scratch_descs.push_back(pd.scratchpad_desc());
      const memory src_view(src_desc, engine_, src.get_data_handle());
      const memory dst(dst_desc, engine_, layer.out.data());
      const memory& w_layer = layer.w_layer->Get(pd.weights_layer_desc(), engine_, stream_);
      const memory& w_iter = layer.w_iter->Get(pd.weights_iter_desc(), engine_, stream_);
      for (int p = 0; p < 2; ++p) {
        plan->lstm_args[p].push_back(
            {{DNNL_ARG_SRC_LAYER, src_view},
             {DNNL_ARG_SRC_ITER, memory(state_desc, engine_, layer.h[p].data())},
             {DNNL_ARG_SRC_ITER_C, memory(state_desc, engine_, layer.c[p].data())},
             {DNNL_ARG_WEIGHTS_LAYER, w_layer},
             {DNNL_ARG_WEIGHTS_ITER, w_iter},
             {DNNL_ARG_BIAS, layer.bias},
             {DNNL_ARG_DST_LAYER, dst},
             {DNNL_ARG_DST_ITER, memory(state_desc, engine_, layer.h[1 - p].data())},
             {DNNL_ARG_DST_ITER_C, memory(state_desc, engine_, layer.c[1 - p].data())}});
      }
      src = dst;
      src_width = hs;
    }
    // Decoder: logits [T*B, V] = hidden [T*B, H_L] x W^T [H_L, V] + bias [1, V].
    const int64_t rows = t_len * b, hl = layers_.back().hidden, v = config().vocab_size;
    const memory::desc hidden_desc({rows, hl}, kF32, Tag::ab);
    const memory::desc logits_desc({rows, v}, kF32, Tag::ab);
    const dnnl::matmul::desc mm_desc(hidden_desc, memory::desc({hl, v}, kF32, Tag::any),
                                     decoder_bias_.get_desc(), logits_desc);
    const dnnl::matmul::primitive_desc mm_pd(mm_desc, attr, engine_);
    plan->decoder = dnnl::matmul(mm_pd);
    scratch_descs.push_back(mm_pd.scratchpad_desc());
    plan->decoder_args = {
        {DNNL_ARG_SRC, memory(hidden_desc, engine_, layers_.back().out.data())},
        {DNNL_ARG_WEIGHTS, decoder_weight_->Get(mm_pd.weights_desc(), engine_, stream_)},
        {DNNL_ARG_BIAS, decoder_bias_},
        {DNNL_ARG_DST, memory(logits_desc, engine_, logits_.data())}};
    // One scratchpad, as large as the largest one asked for, lent to every primitive.
    size_t scratch_bytes = 0;
    for (const memory::desc& d : scratch_descs) {
      scratch_bytes = std::max(scratch_bytes, d.get_size());
    }
    if (scratch_bytes > 0) {
      plan->scratchpad =
          memory(memory::desc({static_cast<int64_t>(scratch_bytes)}, memory::data_type::u8, Tag::a),
                 engine_);
      void* handle = plan->scratchpad.get_data_handle();
      for (size_t l = 0; l < layers_.size(); ++l) {
        if (scratch_descs[l].get_size() == 0) continue;
        for (int p = 0; p < 2; ++p) {
          plan->lstm_args[p][l].insert(
              {DNNL_ARG_SCRATCHPAD, memory(scratch_descs[l], engine_, handle)});
        }
      }
      if (scratch_descs.back().get_size() > 0) {
        plan->decoder_args.insert(
            {DNNL_ARG_SCRATCHPAD, memory(scratch_descs.back(), engine_, handle)});
      }
    }
    Plan& result = *plan;
    plans_.emplace(t_len, std::move(plan));
    return result;
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<float> embedding_;  // [V, E] row-major
  std::vector<Layer> layers_;
  std::unique_ptr<Weight> decoder_weight_;  // user layout ba [H_L, V] (PyTorch's [V, H_L])
  std::vector<float> decoder_bias_values_;  // [V]
  memory decoder_bias_;                     // ab [1, V] over decoder_bias_values_

  int64_t batch_ = 0, max_steps_ = 0;  // from Reset(); batch_ = 0 before it
  int parity_ = 0;                     // which of the two state buffers holds the state
  std::vector<float> embedded_;        // [max_steps, B, E]: src_layer of layer 0
  std::vector<float> logits_;          // [max_steps * B, V]
  std::map<int64_t, std::unique_ptr<Plan>> plans_;  // by T, for the current batch
};

// The registered factory: OneDnnEngine::Create with oneDNN's exceptions (dnnl::error: no
// supported implementation, out of memory) turned into Internal errors.
absl::StatusOr<std::unique_ptr<InferenceEngine>> CreateOneDnnEngine(const LstmLm& model) {
  try {
    return OneDnnEngine::Create(model);
  } catch (const dnnl::error& e) {
    return DnnlError("building the engine", e);
  }
}

}  // namespace

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "onednn", "oneDNN 2.6 LSTM primitive (lstm_forward, forward_inference) and matmul",
    /*sparse=*/false, CreateOneDnnEngine}));

}  // namespace rnnprune
