// Facts about the machine and the source tree that every report line carries.
#ifndef RNNPRUNE_COMMON_RUN_INFO_H_
#define RNNPRUNE_COMMON_RUN_INFO_H_

#include <string>

namespace rnnprune {

// Provenance of a run: enough to reproduce it and to judge its timings.
struct RunInfo {
  std::string git_commit;     // 40 hex digits, "+dirty" appended when the tree has changes;
                              // "unknown" outside a git checkout.
  std::string cpu_model;      // "model name" from /proc/cpuinfo.
  int logical_cpus = 0;       // std::thread::hardware_concurrency().
  std::string blas_coretype;  // $OPENBLAS_CORETYPE, or "" when unset (OpenBLAS picks the kernel).
  std::string hostname;
  std::string timestamp_utc;  // ISO 8601, when the run started.
};

// Collects RunInfo; `source_dir` is the checkout to ask git about (e.g. the workspace root from
// $BUILD_WORKSPACE_DIRECTORY). Never fails: unknown fields read "unknown".
RunInfo CollectRunInfo(const std::string& source_dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_RUN_INFO_H_
