// The speed benchmarks on their own (the main job runs the same as its "speed" task):
//   bazel run -c opt //benchmarks:speed -- [--engines=blas,torch] [--threads=1,2]
//       [--min_time=0.2] [--benchmark_filter=zaremba_large] [--reports_dir=/tmp/speed]
// Prints Google Benchmark's table; with --reports_dir, also writes speed.md, the plot and
// results/speed_<preset>.json there, with Google Benchmark's own JSON beside it
// (results/speed_<preset>.benchmark.json); the committed reports/ come from the main job.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmark/benchmark.h"
#include "benchmarks/speed_suite.h"
#include "common/data_dir.h"
#include "reporting/speed_report.h"

ABSL_FLAG(std::string, shapes, "benchmarks/speed_shapes.json",
          "shapes file (relative to the workspace), see benchmarks/speed_shapes.h");
ABSL_FLAG(
    std::vector<std::string>, engines, {},
    "comma-separated engines (default: every registered one: auto, blas, onednn, torch, csr)");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "comma-separated thread counts, each > 0");
ABSL_FLAG(double, min_time, 0.2, "minimum seconds per benchmark (> 0)");
ABSL_FLAG(int64_t, max_parameters, 0, "skip shapes with more parameters (0: none skipped)");
ABSL_FLAG(int, seed, 1, "seed of the random weights and token ids");
ABSL_FLAG(std::string, compacted_from, "reports",
          "reports folder whose results/ptb_<preset>.jsonl gives the compacted runs' sizes");
ABSL_FLAG(std::string, preset, "default", "preset whose compacted runs are read, and report name");
ABSL_FLAG(std::string, reports_dir, "",
          "when set, write speed.md, speed_<preset>.svg, results/speed_<preset>.json and Google "
          "Benchmark's own JSON results/speed_<preset>.benchmark.json here");

int main(int argc, char** argv) {
  // The command as given (before Google Benchmark removes its --benchmark_* flags), and the
  // filter, which RunSpeedBenchmarks widens so that the machine limits always run.
  std::vector<std::string> given(argv + 1, argv + argc);
  std::string filter;
  bool help = false;
  for (const std::string& a : given) {
    if (absl::StartsWith(a, "--benchmark_filter=")) filter = a.substr(19);
    if (a == "--help" || a == "-help" || a == "--helpfull") help = true;
  }
  absl::SetProgramUsageMessage(
      "Speed benchmarks of the inference engines: bazel run -c opt //benchmarks:speed -- "
      "[flags below] [--benchmark_filter=REGEX] [other --benchmark_* flags of Google "
      "Benchmark; --min_time below replaces --benchmark_min_time]");
  if (!help) benchmark::Initialize(&argc, argv);  // consumes the --benchmark_* flags
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    std::fprintf(stderr, "error: unexpected argument '%s'\n", args[1]);
    return 2;
  }
  rnnprune::SpeedOptions o;
  o.base_dir = rnnprune::WorkspaceRoot();
  o.shapes_path = absl::GetFlag(FLAGS_shapes);
  o.engines = absl::GetFlag(FLAGS_engines);
  o.threads.clear();
  for (const std::string& t : absl::GetFlag(FLAGS_threads)) {
    int v = 0;
    if (!absl::SimpleAtoi(t, &v)) {
      std::fprintf(stderr, "error: --threads: '%s' is not an integer\n", t.c_str());
      return 2;
    }
    o.threads.push_back(v);
  }
  o.min_time = absl::GetFlag(FLAGS_min_time);
  o.max_parameters = absl::GetFlag(FLAGS_max_parameters);
  o.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  const std::string preset = absl::GetFlag(FLAGS_preset);
  const std::string reports_dir = rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_reports_dir));
  if (!reports_dir.empty()) {
    o.google_benchmark_json = reports_dir + "/results/speed_" + preset + ".benchmark.json";
  }
  o.vars = {{"reports_dir", rnnprune::ResolveUserPath(absl::GetFlag(FLAGS_compacted_from))},
            {"preset", preset}};
  o.filter = filter;
  o.command = absl::StrCat("bazel run -c opt //benchmarks:speed", given.empty() ? "" : " -- ",
                           absl::StrJoin(given, " "));
  if (absl::Status s = rnnprune::ValidateSpeedOptions(o); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  absl::StatusOr<rnnprune::SpeedRecord> doc = rnnprune::RunSpeedBenchmarks(o);
  if (!doc.ok()) {
    std::fprintf(stderr, "error: %s\n", doc.status().ToString().c_str());
    return 1;
  }
  if (!reports_dir.empty()) {
    if (absl::Status s = rnnprune::WriteSpeedReportFiles(*doc, preset, reports_dir); !s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s/speed.md\n", reports_dir.c_str());
  }
  for (const std::string& n : doc->notes.value_or(std::vector<std::string>{})) {
    std::fprintf(stderr, "note: %s\n", n.c_str());
  }
  return 0;
}
