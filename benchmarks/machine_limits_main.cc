// Machine limits alone (triad bandwidth in DRAM and L3, sgemm peak; 1 and 2 threads):
//   bazel run -c opt //benchmarks:machine_limits [-- --benchmark_filter=triad]
// Each benchmark runs for at least 0.5 s (set per benchmark; --benchmark_min_time does not
// override it).
#include "benchmark/benchmark.h"
#include "benchmarks/machine_limits.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  rnnprune::RegisterMachineLimitBenchmarks({1, 2}, rnnprune::LastLevelCacheBytes(), 0.5);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
