// Machine limits as Google Benchmark benchmarks, for the roofline bound of every speed
// configuration (Williams, Waterman, Patterson 2009, "Roofline"):
//   - sustained memory bandwidth: the STREAM triad a[i] = b[i] + s * c[i] (McCalpin 1995),
//     counted as 3 x 4 bytes per element (write-allocate traffic not counted, as in STREAM), on
//     arrays far larger than the last-level cache (DRAM) and on arrays that fit in it (L3);
//   - the sgemm peak of the BLAS in use (cblas_sgemm, 2048 x 2048 x 2048, float32).
// Each at every requested thread count (OpenMP).
#ifndef RNNPRUNE_BENCHMARKS_MACHINE_LIMITS_H_
#define RNNPRUNE_BENCHMARKS_MACHINE_LIMITS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace rnnprune {

// Size of the last-level (L3) cache in bytes, from /sys/devices/system/cpu/cpu0/cache/index3
// (falls back to sysconf, then to 32 MiB when neither reports it).
int64_t LastLevelCacheBytes();

// Benchmark names registered by RegisterMachineLimitBenchmarks, one per kind and thread count:
// "limits/triad_dram/threads:N", "limits/triad_l3/threads:N" (counter "bytes_per_second") and
// "limits/sgemm/threads:N" (counter "flops_per_second").
std::string MachineLimitName(const std::string& kind, int threads);

// Registers the triad and sgemm benchmarks for each thread count, each run for at least
// `min_time` seconds. DRAM arrays: 3 x max(4 x L3, 64 MiB); L3 arrays: 3 x (L3 / 8).
void RegisterMachineLimitBenchmarks(const std::vector<int>& threads, int64_t l3_bytes,
                                    double min_time);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_MACHINE_LIMITS_H_
