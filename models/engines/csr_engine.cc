// The CSR inference engine ("csr"): irregularly sparse LSTM weights (magnitude pruning, L1
// Lasso) in compressed sparse row form through Eigen (models/sparse_lstm.h); embedding and
// decoder stay dense. It shows what irregular sparsity buys on a CPU (Wen et al. 2020,
// Section 1): the structured methods' compacted dense models are run by the dense engines.
#include <memory>
#include <vector>

#include "models/engines/engine.h"
#include "models/sparse_lstm.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class CsrEngine final : public InferenceEngine {
 public:
  static absl::StatusOr<std::unique_ptr<InferenceEngine>> Create(const LstmLm& model) {
    absl::StatusOr<SparseLstmLm> sparse = SparseLstmLm::FromDense(model);
    if (!sparse.ok()) return sparse.status();
    return std::unique_ptr<InferenceEngine>(new CsrEngine(std::move(*sparse)));
  }

  absl::Status Reset(int64_t batch, int64_t max_steps) override {
    if (auto s = CheckReset(batch, max_steps); !s.ok()) return s;
    batch_ = batch;
    max_steps_ = max_steps;
    state_ = model_.InitialState(batch);
    return absl::OkStatus();
  }

  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    absl::StatusOr<int64_t> steps = CheckRun(tokens, batch_, max_steps_);
    if (!steps.ok()) return steps.status();
    c10::InferenceMode guard;
    torch::Tensor input =
        torch::from_blob(const_cast<int64_t*>(tokens.data()), {*steps, batch_}, torch::kInt64);
    hidden_ = model_.Run(input, &state_).contiguous();
    if (logits) logits_ = model_.Logits(hidden_).contiguous();
    return absl::OkStatus();
  }

  const float* hidden() const override { return hidden_.data_ptr<float>(); }
  const float* logits() const override { return logits_.data_ptr<float>(); }

  std::vector<float> State(int64_t layer, bool cell) const override {
    torch::Tensor s = (cell ? state_.c : state_.h).at(static_cast<size_t>(layer)).contiguous();
    return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }

  int64_t LstmWeightBytes() const override {
    int64_t biases = 0;
    for (int64_t hs : config().hidden_sizes) biases += 4 * hs;
    return model_.LstmCsrBytes() + 4 * biases;
  }
  int64_t DecoderWeightBytes() const override {
    return 4 * (model_.decoder_weight().numel() + model_.decoder_bias().numel());
  }

 private:
  explicit CsrEngine(SparseLstmLm model)
      : InferenceEngine(model.config()), model_(std::move(model)) {}

  SparseLstmLm model_;
  LstmState state_;
  torch::Tensor hidden_, logits_;
  int64_t batch_ = 0, max_steps_ = 0;
};

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "csr", "irregularly sparse LSTM weights in CSR (Eigen 3.4), dense embedding and decoder", true,
    &CsrEngine::Create}));

}  // namespace
}  // namespace rnnprune
