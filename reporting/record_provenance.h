// Where and how a run was made: the part every result record carries (PTB, SQuAD and speed
// records alike), read by every report's provenance lines.
#ifndef RNNPRUNE_REPORTING_RECORD_PROVENANCE_H_
#define RNNPRUNE_REPORTING_RECORD_PROVENANCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/run_info.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// The provenance fields of a result record (see reporting/record_fields.h); each is absent from
// records of versions that did not write it.
struct RecordProvenance {
  std::optional<std::string> git_commit;  // 40 hex digits, "+dirty" when the tree had changes
  std::optional<std::string> cpu_model;   // /proc/cpuinfo "model name"
  std::optional<int64_t> logical_cpus;
  std::optional<std::string> blas_coretype;  // $OPENBLAS_CORETYPE, "" when unset
  std::optional<std::string> hostname;
  std::optional<std::string> timestamp_utc;  // ISO 8601, when the run started
  std::optional<int64_t> threads;            // intra-op threads the run used
  std::optional<int64_t> seed;
  std::optional<std::string> device;   // "cpu" (PTB records only)
  std::optional<std::string> command;  // the command line that produced the record
  // The resolved preset of the job that made the run (benchmarks/preset_json.h PresetToJson:
  // the preset file with every override applied), and at a point of a sweep the swept fields'
  // values there (benchmarks/preset_sweep.h). Absent from records of older versions.
  std::optional<nlohmann::json> preset_config;
  std::optional<nlohmann::json> sweep_point;

  // The fields of `info` (common/run_info.h) with the run's threads, seed and command.
  static RecordProvenance Of(const RunInfo& info, int64_t threads, int64_t seed,
                             const std::string& command);

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("git_commit", self.git_commit);
    visit("cpu_model", self.cpu_model);
    visit("logical_cpus", self.logical_cpus);
    visit("blas_coretype", self.blas_coretype);
    visit("hostname", self.hostname);
    visit("timestamp_utc", self.timestamp_utc);
    visit("threads", self.threads);
    visit("seed", self.seed);
    visit("device", self.device);
    visit("command", self.command);
    visit("preset_config", self.preset_config);
    visit("sweep_point", self.sweep_point);
  }
};

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_RECORD_PROVENANCE_H_
