#include "benchmarks/inference_timing.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "common/quantile.h"
#include "models/engines/engine.h"
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

}  // namespace

nlohmann::json InferenceTiming::ToJson() const {
  return {{"lstm_b1_ms_per_token", lstm_b1_ms},
          {"model_b1_ms_per_token", model_b1_ms},
          {"lstm_b20_ms_per_token", lstm_b20_ms},
          {"model_b20_ms_per_token", model_b20_ms}};
}

absl::StatusOr<InferenceRunner> EngineRunner(const std::string& engine, const LstmLm& model) {
  absl::StatusOr<std::unique_ptr<InferenceEngine>> built = CreateInferenceEngine(engine, model);
  if (!built.ok()) return built.status();
  std::shared_ptr<InferenceEngine> e = std::move(*built);
  InferenceRunner r;
  r.vocab_size = model->config().vocab_size;
  r.initial_state = [e](int64_t b) {
    const absl::Status s = e->Reset(b, 35);
    TORCH_CHECK(s.ok(), "EngineRunner: ", std::string(s.message()));
    return LstmState();
  };
  r.run = [e](const torch::Tensor& input, LstmState*, bool logits) {
    torch::Tensor ids = input.contiguous();
    const absl::Status s =
        e->Run(absl::MakeConstSpan(ids.data_ptr<int64_t>(), ids.numel()), logits);
    TORCH_CHECK(s.ok(), "EngineRunner: ", std::string(s.message()));
  };
  return r;
}

InferenceRunner CsrRunner(std::shared_ptr<const SparseLstmLm> model) {
  InferenceRunner r;
  r.vocab_size = model->config().vocab_size;
  r.initial_state = [model](int64_t b) { return model->InitialState(b); };
  r.run = [model](const torch::Tensor& input, LstmState* state, bool logits) {
    torch::Tensor h = model->Run(input, state);
    if (logits) model->Logits(h);
  };
  return r;
}

std::vector<InferenceTiming> TimeRunnersSideBySide(const std::vector<InferenceRunner>& runners,
                                                   int repeats) {
  std::vector<InferenceTiming> out(runners.size());
  torch::NoGradGuard no_grad;
  for (int64_t b : {int64_t{1}, int64_t{20}}) {
    const double tokens = 35.0 * static_cast<double>(b);
    for (int whole = 0; whole < 2; ++whole) {
      std::vector<std::vector<double>> ms(runners.size());
      std::vector<torch::Tensor> inputs;
      std::vector<LstmState> states;
      for (const InferenceRunner& r : runners) {
        inputs.push_back(torch::randint(0, r.vocab_size, {35, b}, torch::kInt64));
        states.push_back(r.initial_state(b));
      }
      for (int i = -1; i < repeats; ++i) {  // i = -1: warm-up, not recorded
        for (size_t k = 0; k < runners.size(); ++k) {
          const double t = TimeMs([&] { runners[k].run(inputs[k], &states[k], whole != 0); });
          if (i >= 0) ms[k].push_back(t / tokens);
        }
      }
      for (size_t k = 0; k < runners.size(); ++k) {
        double& field = b == 1 ? (whole ? out[k].model_b1_ms : out[k].lstm_b1_ms)
                               : (whole ? out[k].model_b20_ms : out[k].lstm_b20_ms);
        field = Median(ms[k]);
        out[k].rounds[(b == 1 ? 0 : 2) + whole] = std::move(ms[k]);
      }
    }
  }
  return out;
}

absl::StatusOr<InferenceTiming> TimeInference(LstmLm& model, int repeats) {
  absl::StatusOr<InferenceRunner> runner = EngineRunner(kDefaultInferenceEngine, model);
  if (!runner.ok()) return runner.status();
  return TimeRunnersSideBySide({*runner}, repeats)[0];
}

namespace {

// The per-round ratios dense / pruned of configuration `c`.
std::vector<double> RoundRatios(const InferenceTiming& d, const InferenceTiming& p, int c) {
  std::vector<double> ratios;
  const size_t n = std::min(d.rounds[c].size(), p.rounds[c].size());
  for (size_t i = 0; i < n; ++i) ratios.push_back(d.rounds[c][i] / p.rounds[c][i]);
  return ratios;
}

}  // namespace

nlohmann::json SpeedupSpread(const InferenceTiming& d, const InferenceTiming& p) {
  nlohmann::json spread = nlohmann::json::object();
  const char* names[] = {"lstm_b1", "model_b1", "lstm_b20", "model_b20"};
  for (int c = 0; c < 4; ++c) {
    const std::vector<double> ratios = RoundRatios(d, p, c);
    spread[names[c]] = {Quantile(ratios, 0.25), Quantile(ratios, 0.75)};
  }
  return spread;
}

double RelativeLstmB1Spread(const InferenceTiming& d, const InferenceTiming& p) {
  const std::vector<double> ratios = RoundRatios(d, p, 0);
  const double median = Quantile(ratios, 0.5);
  if (ratios.empty() || median <= 0) return 0;
  return (Quantile(ratios, 0.75) - Quantile(ratios, 0.25)) / median;
}

double LoadAverage1Min() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return -1;
  double load = -1;
  if (std::fscanf(f, "%lf", &load) != 1) load = -1;
  std::fclose(f);
  return load;
}

nlohmann::json Speedups(const InferenceTiming& d, const InferenceTiming& p) {
  return {{"lstm_b1", d.lstm_b1_ms / p.lstm_b1_ms},
          {"model_b1", d.model_b1_ms / p.model_b1_ms},
          {"lstm_b20", d.lstm_b20_ms / p.lstm_b20_ms},
          {"model_b20", d.model_b20_ms / p.model_b20_ms}};
}

}  // namespace rnnprune
