// The LibTorch inference engine ("torch"): LibTorch 1.13's fused LSTM (at::lstm, one call per
// layer because compacted layers differ in size), at::embedding and at::linear, under
// c10::InferenceMode. This is what a user of PyTorch's nn.LSTM gets; the other engines are
// measured against it. Model: Zaremba et al. 2014 (gate order i, f, g, o).
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/engines/engine.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class TorchEngine final : public InferenceEngine {
 public:
  static absl::StatusOr<std::unique_ptr<InferenceEngine>> Create(const LstmLm& model) {
    if (model->embedding_weight().scalar_type() != torch::kFloat32 ||
        !model->embedding_weight().device().is_cpu()) {
      return absl::InvalidArgumentError("the torch engine needs a float32 model on the CPU");
    }
    auto engine = std::unique_ptr<TorchEngine>(new TorchEngine(model->config()));
    auto copy = [](const torch::Tensor& t) { return t.detach().clone().contiguous(); };
    engine->embedding_ = copy(model->embedding_weight());
    engine->decoder_weight_ = copy(model->decoder_weight());
    engine->decoder_bias_ = copy(model->decoder_bias());
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      const LstmLayerWeights& w = model->layer(l);
      engine->params_.push_back({copy(w.w_ih), copy(w.w_hh), copy(w.b_ih), copy(w.b_hh)});
    }
    return std::unique_ptr<InferenceEngine>(std::move(engine));
  }

  absl::Status Reset(int64_t batch, int64_t max_steps) override {
    if (auto s = CheckReset(batch, max_steps); !s.ok()) return s;
    batch_ = batch;
    max_steps_ = max_steps;
    h_.clear();
    c_.clear();
    for (int64_t hs : config().hidden_sizes) {
      h_.push_back(torch::zeros({1, batch, hs}));
      c_.push_back(torch::zeros({1, batch, hs}));
    }
    return absl::OkStatus();
  }

  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    absl::StatusOr<int64_t> steps = CheckRun(tokens, batch_, max_steps_);
    if (!steps.ok()) return steps.status();
    c10::InferenceMode guard;
    torch::Tensor input =
        torch::from_blob(const_cast<int64_t*>(tokens.data()), {*steps, batch_}, torch::kInt64);
    torch::Tensor x = at::embedding(embedding_, input);
    for (size_t l = 0; l < params_.size(); ++l) {
      const int64_t in = config().InputSize(l);
      if (x.size(2) != in) x = x.narrow(2, 0, in);
      auto [out, h, c] = at::lstm(x, {h_[l], c_[l]}, params_[l], /*has_biases=*/true,
                                  /*num_layers=*/1, /*dropout=*/0.0, /*train=*/false,
                                  /*bidirectional=*/false, /*batch_first=*/false);
      h_[l] = h;
      c_[l] = c;
      x = out;
    }
    hidden_ = x.contiguous();
    if (logits) logits_ = at::linear(hidden_, decoder_weight_, decoder_bias_).contiguous();
    return absl::OkStatus();
  }

  const float* hidden() const override { return hidden_.data_ptr<float>(); }
  const float* logits() const override { return logits_.data_ptr<float>(); }

  std::vector<float> State(int64_t layer, bool cell) const override {
    torch::Tensor s = (cell ? c_ : h_).at(static_cast<size_t>(layer)).contiguous();
    return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }

  int64_t LstmWeightBytes() const override {
    int64_t n = 0;
    for (const auto& p : params_) n += p[0].numel() + p[1].numel() + p[2].numel();
    return 4 * n;
  }
  int64_t DecoderWeightBytes() const override {
    return 4 * (decoder_weight_.numel() + decoder_bias_.numel());
  }

 private:
  explicit TorchEngine(const LstmLmConfig& config) : InferenceEngine(config) {}

  torch::Tensor embedding_, decoder_weight_, decoder_bias_;
  std::vector<std::vector<torch::Tensor>> params_;  // per layer {w_ih, w_hh, b_ih, b_hh}
  std::vector<torch::Tensor> h_, c_;                // [1, B, H_l]
  torch::Tensor hidden_, logits_;
  int64_t batch_ = 0, max_steps_ = 0;
};

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "torch", "LibTorch 1.13 fused LSTM (at::lstm), at::embedding, at::linear", false,
    &TorchEngine::Create}));

}  // namespace
}  // namespace rnnprune
