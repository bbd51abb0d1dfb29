// Order statistics of timing samples, shared by the interleaved speedup timing
// (benchmarks/inference_timing) and the speed task's repetitions (benchmarks/speed_suite).
#ifndef RNNPRUNE_COMMON_QUANTILE_H_
#define RNNPRUNE_COMMON_QUANTILE_H_

#include <vector>

namespace rnnprune {

// Quantile q in [0, 1] of `v` with linear interpolation between order statistics (type 7 of
// Hyndman & Fan 1996, numpy's default); 0 for an empty `v`.
double Quantile(std::vector<double> v, double q);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_QUANTILE_H_
