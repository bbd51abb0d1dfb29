// The default inference engine ("auto"): the fastest engine of each regime as measured in
// reports/speed.md on the reference machine. At batch 1 (streaming, generation, whole sequences
// of one stream) the "blas" engine: memory-bound matrix-vector products over packed weights.
// At batch > 1 the "onednn" engine: compute-bound products, where oneDNN's LSTM primitive with
// weights reordered once beats per-call BLAS packing. Both are built from the model up front;
// Reset() picks one by the batch size. Memory: both engines' weights, each held twice (row-major
// and packed; user layout and reordered), so about 4x the model's float32 size. Outputs are those
// of the engine picked (each within 1e-5 of LibTorch, engines_test).
#include <memory>
#include <vector>

#include "models/engines/engine.h"

namespace rnnprune {
namespace {

class AutoEngine final : public InferenceEngine {
 public:
  static absl::StatusOr<std::unique_ptr<InferenceEngine>> Create(const LstmLm& model) {
    auto single = CreateInferenceEngine(kBatchOneEngine, model);
    if (!single.ok()) return single.status();
    auto batched = CreateInferenceEngine(kBatchedEngine, model);
    if (!batched.ok()) return batched.status();
    return std::unique_ptr<InferenceEngine>(
        new AutoEngine(model->config(), std::move(*single), std::move(*batched)));
  }

  absl::Status Reset(int64_t batch, int64_t max_steps) override {
    if (auto s = CheckReset(batch, max_steps); !s.ok()) return s;
    active_ = batch == 1 ? single_.get() : batched_.get();
    return active_->Reset(batch, max_steps);
  }
  absl::Status Run(absl::Span<const int64_t> tokens, bool logits) override {
    if (active_ == nullptr) return absl::FailedPreconditionError("Run() before Reset()");
    return active_->Run(tokens, logits);
  }
  const float* hidden() const override { return active_ ? active_->hidden() : nullptr; }
  const float* logits() const override { return active_ ? active_->logits() : nullptr; }
  std::vector<float> State(int64_t layer, bool cell) const override {
    return active_ == nullptr ? std::vector<float>() : active_->State(layer, cell);
  }
  int64_t LstmWeightBytes() const override { return single_->LstmWeightBytes(); }
  int64_t DecoderWeightBytes() const override { return single_->DecoderWeightBytes(); }

 private:
  AutoEngine(const LstmLmConfig& config, std::unique_ptr<InferenceEngine> single,
             std::unique_ptr<InferenceEngine> batched)
      : InferenceEngine(config), single_(std::move(single)), batched_(std::move(batched)) {}

  std::unique_ptr<InferenceEngine> single_;   // blas, for batch 1
  std::unique_ptr<InferenceEngine> batched_;  // onednn, for batch > 1
  InferenceEngine* active_ = nullptr;
};

RNNPRUNE_REGISTER_INFERENCE_ENGINE((InferenceEngineInfo{
    "auto", "the default: blas at batch 1, onednn at batch > 1 (the fastest of each regime)", false,
    &AutoEngine::Create}));

}  // namespace
}  // namespace rnnprune
