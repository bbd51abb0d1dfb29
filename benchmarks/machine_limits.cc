#include "benchmarks/machine_limits.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "models/engines/engine.h"

namespace rnnprune {
namespace {

void Triad(benchmark::State& state, int64_t n, int threads) {
  (void)SetInferenceThreads(threads);
  // Touched once before timing (the reference machine has one NUMA node, so placement is moot).
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n)),
      c(static_cast<size_t>(n));
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  const float s = 3.0f;
  for (auto _ : state) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    benchmark::DoNotOptimize(pa);
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 3.0 * 4.0 * static_cast<double>(n),
      benchmark::Counter::kIsRate);
}

void Sgemm(benchmark::State& state, int threads) {
  (void)SetInferenceThreads(threads);
  const int n = 2048;
  std::vector<float> a(static_cast<size_t>(n) * n, 0.5f), b(static_cast<size_t>(n) * n, 0.25f),
      c(static_cast<size_t>(n) * n, 0.0f);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["flops_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * n * static_cast<double>(n) * n,
      benchmark::Counter::kIsRate);
}

}  // namespace

int64_t LastLevelCacheBytes() {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index3/size");
  std::string text;
  if (in >> text && !text.empty()) {
    int64_t scale = 1;
    if (text.back() == 'K') scale = 1024;
    if (text.back() == 'M') scale = 1024 * 1024;
    if (scale != 1) text.pop_back();
    int64_t value = 0;
    if (absl::SimpleAtoi(text, &value) && value > 0) return value * scale;
  }
  const long sc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (sc > 0) return sc;
  return int64_t{32} << 20;
}

std::string MachineLimitName(const std::string& kind, int threads) {
  return absl::StrCat("limits/", kind, "/threads:", threads);
}

void RegisterMachineLimitBenchmarks(const std::vector<int>& threads, int64_t l3_bytes,
                                    double min_time) {
  const int64_t dram_n = std::max<int64_t>(4 * l3_bytes, int64_t{64} << 20) / 4;
  const int64_t l3_n = std::max<int64_t>(l3_bytes / 8, 4096) / 4;
  for (int t : threads) {
    benchmark::RegisterBenchmark(MachineLimitName("triad_dram", t).c_str(),
                                 [dram_n, t](benchmark::State& s) { Triad(s, dram_n, t); })
        ->UseRealTime()
        ->MinTime(min_time)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(MachineLimitName("triad_l3", t).c_str(),
                                 [l3_n, t](benchmark::State& s) { Triad(s, l3_n, t); })
        ->UseRealTime()
        ->MinTime(min_time)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(MachineLimitName("sgemm", t).c_str(),
                                 [t](benchmark::State& s) { Sgemm(s, t); })
        ->UseRealTime()
        ->MinTime(min_time)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace rnnprune
