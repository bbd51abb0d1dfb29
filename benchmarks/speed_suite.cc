#include "benchmarks/speed_suite.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "benchmarks/machine_limits.h"
#include "common/files.h"
#include "common/quantile.h"
#include "common/run_info.h"
#include "common/status_macros.h"
#include "models/engines/engine.h"
#include "reporting/speed_record.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using nlohmann::json;

constexpr int64_t kSteps = 35;
const char* const kModes[] = {"b1_seq", "b1_token", "b20"};
const char* const kScopes[] = {"lstm", "model"};

int64_t ModeBatch(const std::string& mode) { return mode == "b20" ? 20 : 1; }

// Weight traffic and work of one shape, per matrix kind (see the header for the rules).
struct Traffic {
  double ih_bytes = 0, hh_bytes = 0, bias_bytes = 0, decoder_bytes = 0, embedding_row_bytes = 0;
  double lstm_macs = 0, decoder_macs = 0;

  double WorkingSet(bool model) const {
    return ih_bytes + hh_bytes + bias_bytes + (model ? decoder_bytes : 0.0);
  }
  // Bytes per token in `mode`.
  double BytesPerToken(const std::string& mode, bool model) const {
    const double once_per_call = ih_bytes + bias_bytes + (model ? decoder_bytes : 0.0);
    if (mode == "b1_token") return hh_bytes + once_per_call + embedding_row_bytes;
    const double tokens = static_cast<double>(kSteps * ModeBatch(mode));
    return (kSteps * hh_bytes + once_per_call) / tokens + embedding_row_bytes;
  }
  double FlopsPerToken(bool model) const {
    return 2.0 * (lstm_macs + (model ? decoder_macs : 0.0));
  }
};

double MatrixBytes(const torch::Tensor& w, bool sparse) {
  if (!sparse) return 4.0 * static_cast<double>(w.numel());
  return 8.0 * static_cast<double>(w.count_nonzero().item<int64_t>()) +
         4.0 * static_cast<double>(w.size(0) + 1);
}

Traffic ComputeTraffic(const LstmLm& model, bool sparse) {
  Traffic t;
  const LstmLmConfig& c = model->config();
  for (int64_t l = 0; l < model->num_layers(); ++l) {
    const LstmLayerWeights& w = model->layer(l);
    t.ih_bytes += MatrixBytes(w.w_ih, sparse);
    t.hh_bytes += MatrixBytes(w.w_hh, sparse);
    t.bias_bytes += 4.0 * static_cast<double>(w.b_ih.numel());
    t.lstm_macs += sparse ? static_cast<double>(w.w_ih.count_nonzero().item<int64_t>() +
                                                w.w_hh.count_nonzero().item<int64_t>())
                          : static_cast<double>(w.w_ih.numel() + w.w_hh.numel());
  }
  t.decoder_bytes = 4.0 * static_cast<double>(c.vocab_size * (c.hidden_sizes.back() + 1));
  t.decoder_macs = static_cast<double>(c.vocab_size * c.hidden_sizes.back());
  t.embedding_row_bytes = 4.0 * static_cast<double>(c.embedding_size);
  return t;
}

// Random weights U(-0.1, 0.1) (seeded); for a sparse shape each LSTM matrix keeps its
// (1 - sparsity) largest magnitudes, as magnitude pruning would.
LstmLm BuildModel(const SpeedShape& shape, uint64_t seed) {
  torch::manual_seed(seed);
  LstmLm model(shape.config);
  model->eval();
  if (shape.sparsity > 0.0) {
    torch::NoGradGuard no_grad;
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      LstmLayerWeights& w = model->mutable_layer(l);
      for (torch::Tensor* m : {&w.w_ih, &w.w_hh}) {
        torch::Tensor mag = m->abs().flatten();
        const int64_t k = std::max<int64_t>(
            1,
            static_cast<int64_t>(std::llround(shape.sparsity * static_cast<double>(mag.numel()))));
        const float threshold = std::get<0>(mag.kthvalue(k)).item<float>();
        m->masked_fill_(m->abs() <= threshold, 0.0);
      }
    }
  }
  return model;
}

// The model and engine the running benchmark needs. Benchmarks are registered grouped by shape
// and engine, so only the latest are kept (the large models take hundreds of MiB each).
struct EngineCache {
  const SpeedShape* shape = nullptr;
  LstmLm model{nullptr};
  Traffic traffic;  // of `model`, in the storage of the engines that run it
  std::string engine_name;
  std::unique_ptr<InferenceEngine> engine;
  uint64_t seed = 1;

  absl::StatusOr<InferenceEngine*> Get(const SpeedShape& s, const std::string& name) {
    if (shape != &s) {
      engine.reset();
      model = BuildModel(s, seed);
      traffic = ComputeTraffic(model, s.sparsity > 0.0);
      shape = &s;
      engine_name.clear();
    }
    if (engine_name != name || engine == nullptr) {
      engine.reset();
      absl::StatusOr<std::unique_ptr<InferenceEngine>> e = CreateInferenceEngine(name, model);
      if (!e.ok()) return e.status();
      engine = std::move(*e);
      engine_name = name;
    }
    return engine.get();
  }
  void Clear() {
    engine.reset();
    model = LstmLm(nullptr);
    shape = nullptr;
  }
};

EngineCache& Cache() {
  static auto* cache = new EngineCache();
  return *cache;
}

void RunEngineBenchmark(benchmark::State& state, const SpeedShape* shape,
                        const std::string& engine_name, const std::string& scope,
                        const std::string& mode, int threads, uint64_t seed) {
  if (absl::Status s = SetInferenceThreads(threads); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  absl::StatusOr<InferenceEngine*> engine = Cache().Get(*shape, engine_name);
  if (!engine.ok()) {
    state.SkipWithError(std::string(engine.status().message()).c_str());
    return;
  }
  const int64_t batch = ModeBatch(mode);
  const bool logits = scope == "model", token = mode == "b1_token";
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> id(0, shape->config.vocab_size - 1);
  std::vector<int64_t> tokens(static_cast<size_t>(kSteps * batch));
  for (int64_t& t : tokens) t = id(rng);
  if (absl::Status s = (*engine)->Reset(batch, kSteps); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  auto one_sequence = [&]() -> absl::Status {
    if (!token) return (*engine)->Run(tokens, logits);
    for (int64_t t = 0; t < kSteps; ++t) {
      absl::Status s =
          (*engine)->Run(absl::MakeConstSpan(tokens.data() + t * batch, batch), logits);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
  if (absl::Status s = one_sequence(); !s.ok()) {  // warm-up: caches, lazily built primitives
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  for (auto _ : state) {
    absl::Status s = one_sequence();
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    benchmark::DoNotOptimize((*engine)->hidden());
  }
  const double done = static_cast<double>(state.iterations() * kSteps * batch);  // tokens
  const Traffic& traffic = Cache().traffic;
  state.counters["tokens/s"] = benchmark::Counter(done, benchmark::Counter::kIsRate);
  state.counters["FLOP/s"] =
      benchmark::Counter(done * traffic.FlopsPerToken(logits), benchmark::Counter::kIsRate);
  state.counters["weight_bytes/s"] =
      benchmark::Counter(done * traffic.BytesPerToken(mode, logits), benchmark::Counter::kIsRate);
}

// Console output as usual, Google Benchmark's JSON report in memory, and every run kept for the
// results document.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (logs stay plain text).
  CollectingReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {
    json_.SetOutputStream(&json_text_);
    json_.SetErrorStream(&json_errors_);
  }
  bool ReportContext(const Context& context) override {
    json_.ReportContext(context);
    return ConsoleReporter::ReportContext(context);
  }
  void Finalize() override {
    json_.Finalize();
    ConsoleReporter::Finalize();
  }
  // Google Benchmark's JSON report of the runs so far (complete after Finalize).
  std::string GoogleBenchmarkJson() const { return json_text_.str(); }
  struct Result {
    double seconds_per_iteration = 0;
    std::map<std::string, double> counters;
    std::string error;
  };
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    json_.ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred && run.iterations > 0) {
        repetition_seconds[run.run_name.function_name].push_back(
            run.real_accumulated_time / static_cast<double>(run.iterations));
      }
      // With repetitions, keep the median of the repetitions (reported after them), never
      // another aggregate (mean, stddev, cv).
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      Result r;
      if (run.error_occurred) {
        r.error = run.error_message;
      } else if (run.iterations > 0) {
        r.seconds_per_iteration = run.real_accumulated_time / static_cast<double>(run.iterations);
        for (const auto& [name, counter] : run.counters) r.counters[name] = counter.value;
      }
      results[run.run_name.function_name] = r;  // the registered name, without suffixes
    }
  }
  std::map<std::string, Result> results;
  // Seconds per iteration of every repetition, by registered name (the spread of each result).
  std::map<std::string, std::vector<double>> repetition_seconds;

 private:
  benchmark::JSONReporter json_;
  std::ostringstream json_text_, json_errors_;
};

std::string RunName(const std::string& shape, const std::string& engine, const std::string& scope,
                    const std::string& mode, int threads) {
  return absl::StrCat("speed/", shape, "/", engine, "/", scope, "/", mode, "/threads:", threads);
}

}  // namespace

absl::Status ValidateSpeedOptions(const SpeedOptions& o) {
  if (o.threads.empty()) return absl::InvalidArgumentError("threads: give at least one count");
  for (int t : o.threads) {
    if (t <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("threads: ", t, " must be > 0"));
    }
  }
  if (o.repetitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("repetitions: ", o.repetitions, " must be >= 1"));
  }
  if (!(o.min_time > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_time: ", o.min_time, " seconds must be > 0"));
  }
  if (o.max_parameters < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_parameters ", o.max_parameters, " must be >= 0"));
  }
  for (const std::string& e : o.engines) {
    if (absl::Status s = GetInferenceEngineInfo(e).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--engines: ", s.message()));
    }
  }
  return absl::OkStatus();
}

namespace {

// The machine, the build and the protocol of this run.
SpeedMachineRecord MachineRecord(const SpeedOptions& options, const RunInfo& info,
                                 int64_t l3_bytes) {
  SpeedMachineRecord m;
  m.cpu_model = info.cpu_model;
  m.logical_cpus = info.logical_cpus;
  m.l3_bytes = l3_bytes;
  m.blas_config = openblas_get_config();
  m.blas_corename = openblas_get_corename();
  m.openblas_coretype = info.blas_coretype;
  m.git_commit = info.git_commit;
  m.hostname = info.hostname;
  m.timestamp_utc = info.timestamp_utc;
  m.command = options.command;
  m.min_time = options.min_time;
  m.repetitions = options.repetitions;
  m.seed = static_cast<int64_t>(options.seed);
  m.threads = std::vector<int64_t>(options.threads.begin(), options.threads.end());
  m.steps_per_sequence = kSteps;
  return m;
}

}  // namespace

absl::StatusOr<SpeedRecord> RunSpeedBenchmarks(const SpeedOptions& options) {
  if (absl::Status s = ValidateSpeedOptions(options); !s.ok()) return s;
  // The tree as it is when we start (or as the caller found it).
  const RunInfo info = options.run_info ? *options.run_info : CollectRunInfo(options.base_dir);
  absl::StatusOr<SpeedShapes> loaded =
      LoadSpeedShapes(options.shapes_path, options.base_dir, options.vars);
  if (!loaded.ok()) return loaded.status();
  std::vector<std::string> notes;
  for (const std::string& n : loaded->notes) notes.push_back(n);

  std::vector<std::string> engines = options.engines;
  if (engines.empty()) engines = RegisteredInferenceEngines();
  std::vector<std::string> dense_engines;
  std::string sparse_engine;
  for (const std::string& e : engines) {
    if (GetInferenceEngineInfo(e)->sparse) {
      if (sparse_engine.empty()) sparse_engine = e;
    } else {
      dense_engines.push_back(e);
    }
  }

  // Shapes kept, with the engines that run each: dense engines on dense shapes, the sparse
  // engine on sparse shapes. (The CSR engine on a dense parent would time a dense matrix stored
  // as CSR, a baseline nobody deploys, and takes minutes on the large model at batch 20: sparse
  // shapes are compared with the default dense engine on their parent instead.)
  std::vector<const SpeedShape*> shapes;
  std::map<std::string, std::vector<std::string>> shape_engines;
  for (const SpeedShape& s : loaded->shapes) {
    if (options.max_parameters > 0 && s.NumParameters() > options.max_parameters) {
      notes.push_back(absl::StrCat("shape ", s.name, " skipped: ", s.NumParameters(),
                                   " parameters > the preset's limit ", options.max_parameters));
      continue;
    }
    shapes.push_back(&s);
    if (s.sparsity > 0.0) {
      if (!sparse_engine.empty()) shape_engines[s.name] = {sparse_engine};
    } else {
      shape_engines[s.name] = dense_engines;
    }
  }
  const int64_t l3_bytes = LastLevelCacheBytes();
  benchmark::ClearRegisteredBenchmarks();
  RegisterMachineLimitBenchmarks(options.threads, l3_bytes, options.min_time);
  Cache().seed = options.seed;
  for (const SpeedShape* s : shapes) {
    for (const std::string& e : shape_engines[s->name]) {
      for (const char* scope : kScopes) {
        for (const char* mode : kModes) {
          for (int t : options.threads) {
            const std::string name = RunName(s->name, e, scope, mode, t);
            const uint64_t seed = options.seed;
            std::string sc = scope, md = mode;
            benchmark::RegisterBenchmark(name.c_str(),
                                         [s, e, sc, md, t, seed](benchmark::State& st) {
                                           RunEngineBenchmark(st, s, e, sc, md, t, seed);
                                         })
                ->UseRealTime()
                ->Repetitions(options.repetitions)
                ->MinTime(options.min_time / options.repetitions)
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
  CollectingReporter reporter;
  // The machine limits always run: every roofline bound needs them.
  benchmark::RunSpecifiedBenchmarks(
      &reporter,
      options.filter.empty() ? std::string(".") : absl::StrCat("limits/|(", options.filter, ")"));
  benchmark::ClearRegisteredBenchmarks();
  Cache().Clear();
  if (!options.google_benchmark_json.empty()) {
    const std::string& path = options.google_benchmark_json;
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
    RETURN_IF_ERROR(WriteFileAtomically(path, reporter.GoogleBenchmarkJson()));
  }

  // Machine limits.
  std::vector<SpeedLimitRecord> limits;
  std::map<std::pair<std::string, int>, double> limit;  // (kind, threads) -> bytes/s or flop/s
  for (int t : options.threads) {
    for (const char* kind : {"triad_dram", "triad_l3", "sgemm"}) {
      auto it = reporter.results.find(MachineLimitName(kind, t));
      if (it == reporter.results.end() || !it->second.error.empty()) continue;
      const bool flops = std::string(kind) == "sgemm";
      const double v = it->second.counters[flops ? "flops_per_second" : "bytes_per_second"];
      limit[{kind, t}] = v;
      SpeedLimitRecord l;
      l.kind = kind;
      l.threads = t;
      (flops ? l.gflops : l.gbytes_per_s) = v / 1e9;
      limits.push_back(std::move(l));
    }
  }

  std::vector<SpeedShapeRecord> shape_records;
  std::vector<SpeedRunRecord> runs;
  for (const SpeedShape* s : shapes) {
    bool measured = false;  // a filter may have left this shape out
    for (const auto& [name, result] : reporter.results) {
      measured = measured || absl::StartsWith(name, absl::StrCat("speed/", s->name, "/"));
    }
    if (!measured) continue;
    LstmLm model = BuildModel(*s, options.seed);
    const Traffic sparse_traffic = ComputeTraffic(model, true);
    const Traffic dense_traffic = ComputeTraffic(model, false);
    SpeedShapeRecord shape;
    shape.name = s->name;
    shape.source = s->source;
    shape.parent = s->parent;
    shape.sparsity = s->sparsity;
    shape.also = s->also;
    shape.config = json::parse(s->config.ToJson());
    const Traffic& lstm_traffic = s->sparsity > 0 ? sparse_traffic : dense_traffic;
    shape.lstm_weight_bytes = lstm_traffic.WorkingSet(false);
    shape.decoder_weight_bytes = dense_traffic.decoder_bytes;
    shape.lstm_macs_per_token = lstm_traffic.lstm_macs;
    shape.decoder_macs_per_token = dense_traffic.decoder_macs;
    shape_records.push_back(std::move(shape));
    for (const std::string& e : shape_engines[s->name]) {
      const bool sparse = GetInferenceEngineInfo(e)->sparse;
      const Traffic& traffic = sparse ? sparse_traffic : dense_traffic;
      for (const char* scope : kScopes) {
        const bool whole = std::string(scope) == "model";
        for (const char* mode : kModes) {
          for (int t : options.threads) {
            const std::string name = RunName(s->name, e, scope, mode, t);
            auto it = reporter.results.find(name);
            if (it == reporter.results.end()) continue;  // filtered out
            if (!it->second.error.empty()) {
              notes.push_back(absl::StrCat(name, " failed: ", it->second.error));
              continue;
            }
            const double tokens = static_cast<double>(kSteps * ModeBatch(mode));
            const std::vector<double>& reps = reporter.repetition_seconds[name];
            const double s_per_token = it->second.seconds_per_iteration / tokens;
            const double bytes = traffic.BytesPerToken(mode, whole);
            const double flops = traffic.FlopsPerToken(whole);
            const bool fits = traffic.WorkingSet(whole) <= static_cast<double>(l3_bytes);
            const std::string level = fits ? "L3" : "DRAM";
            SpeedRunRecord run;
            run.shape = s->name;
            run.engine = e;
            run.scope = scope;
            run.mode = mode;
            run.threads = t;
            run.ms_per_token = 1e3 * s_per_token;
            run.repetitions = static_cast<int64_t>(reps.size());
            run.ms_per_token_iqr = std::vector<double>{1e3 * Quantile(reps, 0.25) / tokens,
                                                       1e3 * Quantile(reps, 0.75) / tokens};
            run.tokens_per_s = 1.0 / s_per_token;
            run.gflops = flops / s_per_token / 1e9;
            run.weight_gbytes_per_s = bytes / s_per_token / 1e9;
            run.bytes_per_token = bytes;
            run.flops_per_token = flops;
            run.level = level;
            const auto bw = limit.find({fits ? "triad_l3" : "triad_dram", t});
            const auto peak = limit.find({"sgemm", t});
            if (bw != limit.end() && peak != limit.end()) {
              const double bound = std::max(bytes / bw->second, flops / peak->second);
              run.bound_ms_per_token = 1e3 * bound;
              run.ratio_to_bound = s_per_token / bound;
            }
            runs.push_back(std::move(run));
          }
        }
      }
    }
  }

  SpeedRecord doc;
  doc.machine = MachineRecord(options, info, l3_bytes);
  doc.limits = std::move(limits);
  doc.engines.emplace();
  for (const std::string& e : engines) {
    SpeedEngineRecord engine;
    engine.name = e;
    engine.description = GetInferenceEngineInfo(e)->description;
    engine.sparse = GetInferenceEngineInfo(e)->sparse;
    doc.engines->push_back(std::move(engine));
  }
  doc.shapes = std::move(shape_records);
  doc.runs = std::move(runs);
  doc.notes = notes;
  doc.default_engine = kDefaultInferenceEngine;
  doc.default_engine_regimes.emplace();
  doc.default_engine_regimes->batch_1 = kBatchOneEngine;
  doc.default_engine_regimes->batch_20 = kBatchedEngine;
  return doc;
}

}  // namespace rnnprune
