// Inference engines for LSTM language models: one interface, several back ends, so that the
// speed benchmarks (benchmarks/speed_*) compare them on identical weights and the reports time
// every model with the fastest. The paper's claim is a practical speedup of the *compacted*
// dense LSTM on a CPU (Wen et al. 2020, Section 4); an engine is how that speedup is realised.
//
// Engines registered (see engines/README.md for the design of each):
//   torch  - LibTorch 1.13's fused LSTM (at::lstm), at::embedding and at::linear.
//   onednn - oneDNN 2.6's LSTM primitive (Debian's libdnnl-dev) and its matmul for the decoder.
//   blas   - ours: one sgemm for the input projection of a whole sequence, one matrix-vector
//            product per step over weights packed in panels of 8 rows (AVX2/FMA; OpenBLAS sgemv
//            without AVX2) or sgemm at batch > 1, one vectorised gate update, preallocated
//            buffers. The fastest at batch 1.
//   auto   - the default (kDefaultInferenceEngine): blas at batch 1, onednn at batch > 1, the
//            fastest engine of each regime as measured in reports/speed.md.
//   csr    - irregularly sparse LSTM weights in CSR through Eigen (models/sparse_lstm.h).
//
// Every engine computes, for token ids x_t [B] and the state (h, c) of each layer, exactly the
// forward pass of LstmLm in eval mode (no dropout): gates in the order i, f, g, o; outputs match
// LibTorch's within 1e-5 relative (engines_test).
#ifndef RNNPRUNE_MODELS_ENGINES_ENGINE_H_
#define RNNPRUNE_MODELS_ENGINES_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/lstm_lm.h"

namespace rnnprune {

// The engine the reports and exports use unless told otherwise: the fastest of the engines
// compared in reports/speed.md on this project's reference machine, per regime (auto_engine.cc).
inline constexpr char kDefaultInferenceEngine[] = "auto";
// The engines "auto" runs at batch 1 and at batch > 1.
inline constexpr char kBatchOneEngine[] = "blas";
inline constexpr char kBatchedEngine[] = "onednn";

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;

  // Sizes every buffer for batch size `batch` and calls of up to `max_steps` time steps and sets
  // the recurrent state to zero. All allocation happens here, none in Run().
  // Errors: InvalidArgument naming the value when batch <= 0 or max_steps <= 0.
  virtual absl::Status Reset(int64_t batch, int64_t max_steps) = 0;

  // Runs `tokens.size() / batch` time steps on token ids tokens[t * batch + b] (time-major,
  // int64), carrying the recurrent state across calls (streaming / generation: call it with one
  // token per sequence at a time). Afterwards hidden() holds the last layer's output
  // [T, B, H_L] and, when `logits`, logits() holds the decoder's output [T, B, V] (unnormalised,
  // float32). Errors: FailedPrecondition before Reset(); InvalidArgument when tokens.size() is
  // not a positive multiple of the batch, exceeds max_steps * batch, or an id is outside [0, V).
  virtual absl::Status Run(absl::Span<const int64_t> tokens, bool logits) = 0;

  // Row-major float32 outputs of the last successful Run() (see Run); valid until the next Run
  // or Reset. Calling them before a successful Run() is a programming error (undefined).
  virtual const float* hidden() const = 0;  // [T, B, H_L]
  virtual const float* logits() const = 0;  // [T, B, V]

  // A copy of the current state of layer `layer`: h (cell = false) or c (cell = true), float32
  // [B, H_l] row-major. For tests; not for the hot path. Only after Reset().
  virtual std::vector<float> State(int64_t layer, bool cell) const = 0;

  // Bytes of weights this engine reads per time step for the LSTM stack (all layers) and for
  // the decoder, in its own storage format (float32 dense: 4 bytes per weight; CSR: values,
  // column indices and row offsets). Biases are included. Used for the roofline bound.
  virtual int64_t LstmWeightBytes() const = 0;
  virtual int64_t DecoderWeightBytes() const = 0;

  const LstmLmConfig& config() const { return config_; }

 protected:
  explicit InferenceEngine(LstmLmConfig config) : config_(std::move(config)) {}
  // Shared argument checks of Run(): returns the number of time steps T. `batch` = 0 means
  // Reset() was not called.
  absl::StatusOr<int64_t> CheckRun(absl::Span<const int64_t> tokens, int64_t batch,
                                   int64_t max_steps) const;
  // Shared argument checks of Reset().
  static absl::Status CheckReset(int64_t batch, int64_t max_steps);

 private:
  LstmLmConfig config_;
};

// Builds an engine from a float32 CPU model (its weights are copied or converted; the engine
// does not keep a reference to `model`). Errors: InvalidArgument for a model the engine cannot
// run (dtype, device), Internal for a back-end failure.
using InferenceEngineFactory =
    std::function<absl::StatusOr<std::unique_ptr<InferenceEngine>>(const LstmLm& model)>;

struct InferenceEngineInfo {
  std::string name;         // [a-z0-9_]+, the value of --engine flags
  std::string description;  // one line, for reports
  bool sparse = false;      // stores irregularly sparse weights (CSR); dense engines otherwise
  InferenceEngineFactory factory;
};

// Adds an engine at static initialisation (RNNPRUNE_REGISTER_INFERENCE_ENGINE). Returns true;
// aborts on a duplicate or malformed name (a programming error).
bool RegisterInferenceEngine(InferenceEngineInfo info);
// Names of the registered engines, dense engines first, each group sorted.
std::vector<std::string> RegisteredInferenceEngines();
// Errors: NotFound naming the unknown engine and listing the registered ones.
absl::StatusOr<InferenceEngineInfo> GetInferenceEngineInfo(const std::string& name);
// GetInferenceEngineInfo(name)->factory(model), with c10::Error caught.
absl::StatusOr<std::unique_ptr<InferenceEngine>> CreateInferenceEngine(const std::string& name,
                                                                       const LstmLm& model);

// Sets the number of threads of every back end (LibTorch intra-op, OpenMP, so OpenBLAS-openmp,
// oneDNN and Eigen). Errors: InvalidArgument when threads <= 0.
absl::Status SetInferenceThreads(int threads);

#define RNNPRUNE_REGISTER_INFERENCE_ENGINE(info_expr) \
  RNNPRUNE_REGISTER_INFERENCE_ENGINE_IMPL(info_expr, __COUNTER__)
#define RNNPRUNE_REGISTER_INFERENCE_ENGINE_IMPL(info_expr, n) \
  RNNPRUNE_REGISTER_INFERENCE_ENGINE_IMPL2(info_expr, n)
#define RNNPRUNE_REGISTER_INFERENCE_ENGINE_IMPL2(info_expr, n) \
  static const bool rnnprune_inference_engine_registered_##n = \
      ::rnnprune::RegisterInferenceEngine(info_expr)

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_ENGINES_ENGINE_H_
