// The speed benchmarks (issue: practical speedup): every shape of the shapes file
// (benchmarks/speed_shapes.h) run by every inference engine (models/engines/engine.h), for the
// LSTM stack alone and the whole LM, in three modes, at each thread count, with Google Benchmark;
// plus the machine limits (benchmarks/machine_limits.h) and the roofline bound of each
// configuration. Wen et al. 2020 (Section 4) report speedups of compacted LSTMs on a CPU; this
// measures ours the same way.
//
// Engines: every dense engine on every dense shape; the sparse engine (csr) on sparse shapes.
//
// Modes (each benchmark iteration processes one sequence of 35 tokens per batch element, with
// the state carried over from the previous iteration):
//   b1_seq   - batch 1, one call of 35 tokens (the input projection can be one GEMM);
//   b1_token - batch 1, 35 calls of one token (generation and streaming);
//   b20      - batch 20, one call of 35 x 20 tokens (throughput).
// Scopes: "lstm" = embedding lookup + LSTM stack; "model" = the same plus the decoder's logits.
// Console counters of each benchmark (Google Benchmark rates): tokens/s, FLOP/s and
// weight_bytes/s (the FLOPs and weight bytes per token defined below, times tokens/s).
//
// Roofline bound per token = max(weight bytes read per token / bandwidth, FLOPs per token /
// sgemm peak) at the run's thread count, with the triad bandwidth of the level that holds the
// weights of the scope (L3 when they fit in the last-level cache, else DRAM). Weight bytes per
// token are the least any engine must read in the mode: every weight once per token for b1_token;
// W_hh once per step, W_ih, the biases and the decoder once per call for b1_seq and b20 (divided
// by the tokens of the call); plus one embedding row. Dense weights are 4 bytes each; CSR ones
// 8 bytes per non-zero plus 4 bytes per row offset. FLOPs = 2 x multiply-adds (element-wise gate
// math not counted).
#ifndef RNNPRUNE_BENCHMARKS_SPEED_SUITE_H_
#define RNNPRUNE_BENCHMARKS_SPEED_SUITE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/speed_shapes.h"
#include "common/run_info.h"
#include "reporting/speed_record.h"

namespace rnnprune {

struct SpeedOptions {
  std::string shapes_path = "benchmarks/speed_shapes.json";  // relative to base_dir
  std::string base_dir;                                      // workspace root for relative paths
  // ${name} in the shapes file's results paths is replaced by vars[name]; the main job sets
  // reports_dir and preset so that the compacted runs are those it has just made.
  std::map<std::string, std::string> vars = {{"reports_dir", "reports"}, {"preset", "default"}};
  std::vector<std::string> engines;   // empty: every registered engine
  std::vector<int> threads = {1, 2};  // each > 0
  double min_time = 0.2;              // seconds per benchmark, split over the repetitions, > 0
  // Independent repetitions of each benchmark (Google Benchmark's Repetitions), >= 1: each
  // result is their median, with their interquartile range beside it (issue 17.5).
  int repetitions = 5;
  int64_t max_parameters = 0;  // > 0: skip shapes with more parameters (smoke)
  uint64_t seed = 1;           // weights and token ids
  // Regex over benchmark names (Google Benchmark's filter syntax); empty: all. The machine
  // limits always run (the roofline needs them).
  std::string filter;
  std::string command;  // the command line, recorded in the results
  // When set, Google Benchmark's own JSON report of the run (its JSONReporter: the context, every
  // repetition and aggregate of every benchmark) is written to this path (atomically; its folder
  // is created), for Google Benchmark's comparison tooling (tools/compare.py).
  std::string google_benchmark_json;
  // Provenance recorded in the results; when empty, collected at the start of the run. The main
  // job passes the one it took at its own start (its ptb task rewrites tracked result files,
  // which would otherwise mark the tree dirty before the speed task starts).
  std::optional<RunInfo> run_info;
};

// Errors: InvalidArgument naming the option and the rule (threads <= 0, repetitions < 1,
// min_time <= 0, max_parameters < 0, an unknown engine).
absl::Status ValidateSpeedOptions(const SpeedOptions& options);

// Runs the machine limits and the speed benchmarks (printing Google Benchmark's console table as
// it goes) and returns the results document (reporting/speed_record.h): the machine and the
// protocol, its measured limits, the engines, the shapes measured and one SpeedRunRecord per
// benchmark (ms per token: the median of the repetitions, with their interquartile range; the
// roofline bound where the limits were measured), notes, and the default engine with the engines
// it runs in each regime. Units: ms per token, tokens/s, GFLOP/s, GB/s (1e9 bytes). Errors: those
// of LoadSpeedShapes and ValidateSpeedOptions, and of writing google_benchmark_json; a benchmark
// that fails (e.g. an engine cannot be built) is recorded in the notes and left out of the runs.
absl::StatusOr<SpeedRecord> RunSpeedBenchmarks(const SpeedOptions& options);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SPEED_SUITE_H_
