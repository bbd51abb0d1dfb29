// Machine limits alone (triad bandwidth in DRAM and L3, sgemm peak; 1 and 2 threads):
//   bazel run -c opt //benchmarks:machine_limits [-- --benchmark_min_time=1]
#include "benchmark/benchmark.h"
#include "benchmarks/machine_limits.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  rnnprune::RegisterMachineLimitBenchmarks({1, 2}, rnnprune::LastLevelCacheBytes(), 0.5);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
