#include "benchmarks/inference_timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "torch/torch.h"

namespace rnnprune {
namespace {

template <typename Fn>
double MedianMs(int repeats, Fn&& fn) {
  fn();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

nlohmann::json InferenceTiming::ToJson() const {
  return {{"lstm_b1_ms_per_token", lstm_b1_ms},
          {"model_b1_ms_per_token", model_b1_ms},
          {"lstm_b20_ms_per_token", lstm_b20_ms},
          {"model_b20_ms_per_token", model_b20_ms}};
}

InferenceTiming TimeInference(LstmLm& model, int repeats) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  InferenceTiming t;
  const int64_t vocab = model->config().vocab_size;
  for (int64_t b : {int64_t{1}, int64_t{20}}) {
    torch::Tensor input = torch::randint(0, vocab, {35, b}, torch::kInt64);
    LstmState state = model->InitialState(b);
    const double tokens = 35.0 * static_cast<double>(b);
    const double lstm = MedianMs(repeats, [&] { model->Run(input, &state); }) / tokens;
    const double whole = MedianMs(repeats, [&] { model->Run(input, &state).Logits(); }) / tokens;
    (b == 1 ? t.lstm_b1_ms : t.lstm_b20_ms) = lstm;
    (b == 1 ? t.model_b1_ms : t.model_b20_ms) = whole;
  }
  model->train(was_training);
  return t;
}

nlohmann::json Speedups(const InferenceTiming& d, const InferenceTiming& p) {
  return {{"lstm_b1", d.lstm_b1_ms / p.lstm_b1_ms},
          {"model_b1", d.model_b1_ms / p.model_b1_ms},
          {"lstm_b20", d.lstm_b20_ms / p.lstm_b20_ms},
          {"model_b20", d.model_b20_ms / p.model_b20_ms}};
}

}  // namespace rnnprune
