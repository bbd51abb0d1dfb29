#include "benchmarks/inference_timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "torch/torch.h"

namespace rnnprune {
namespace {

template <typename Fn>
double TimeMs(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Times each model in `models` on the four configurations, alternating between the models
// call by call; returns one InferenceTiming per model (medians, ms per token).
std::vector<InferenceTiming> TimeInterleaved(std::vector<LstmLm*> models, int repeats) {
  std::vector<InferenceTiming> out(models.size());
  std::vector<bool> was_training;
  for (LstmLm* m : models) {
    was_training.push_back((*m)->is_training());
    (*m)->eval();
  }
  torch::NoGradGuard no_grad;
  for (int64_t b : {int64_t{1}, int64_t{20}}) {
    const double tokens = 35.0 * static_cast<double>(b);
    for (int whole = 0; whole < 2; ++whole) {
      std::vector<std::vector<double>> ms(models.size());
      std::vector<torch::Tensor> inputs;
      std::vector<LstmState> states;
      for (LstmLm* m : models) {
        inputs.push_back(torch::randint(0, (*m)->config().vocab_size, {35, b}, torch::kInt64));
        states.push_back((*m)->InitialState(b));
      }
      for (int i = -1; i < repeats; ++i) {  // i = -1: warm-up, not recorded
        for (size_t k = 0; k < models.size(); ++k) {
          LstmLm& m = *models[k];
          const double t = TimeMs([&] {
            LmOutput o = m->Run(inputs[k], &states[k]);
            if (whole) o.Logits();
          });
          if (i >= 0) ms[k].push_back(t / tokens);
        }
      }
      for (size_t k = 0; k < models.size(); ++k) {
        double& field = b == 1 ? (whole ? out[k].model_b1_ms : out[k].lstm_b1_ms)
                               : (whole ? out[k].model_b20_ms : out[k].lstm_b20_ms);
        field = Median(ms[k]);
      }
    }
  }
  for (size_t k = 0; k < models.size(); ++k) (*models[k])->train(was_training[k]);
  return out;
}

}  // namespace

nlohmann::json InferenceTiming::ToJson() const {
  return {{"lstm_b1_ms_per_token", lstm_b1_ms},
          {"model_b1_ms_per_token", model_b1_ms},
          {"lstm_b20_ms_per_token", lstm_b20_ms},
          {"model_b20_ms_per_token", model_b20_ms}};
}

InferenceTiming TimeInference(LstmLm& model, int repeats) {
  return TimeInterleaved({&model}, repeats)[0];
}

std::pair<InferenceTiming, InferenceTiming> TimeSideBySide(LstmLm& dense, LstmLm& pruned,
                                                           int repeats) {
  std::vector<InferenceTiming> t = TimeInterleaved({&dense, &pruned}, repeats);
  return {t[0], t[1]};
}

nlohmann::json Speedups(const InferenceTiming& d, const InferenceTiming& p) {
  return {{"lstm_b1", d.lstm_b1_ms / p.lstm_b1_ms},
          {"model_b1", d.model_b1_ms / p.model_b1_ms},
          {"lstm_b20", d.lstm_b20_ms / p.lstm_b20_ms},
          {"model_b20", d.model_b20_ms / p.model_b20_ms}};
}

}  // namespace rnnprune
