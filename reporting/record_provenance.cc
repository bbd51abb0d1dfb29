#include "reporting/record_provenance.h"

namespace rnnprune {

RecordProvenance RecordProvenance::Of(const RunInfo& info, int64_t threads, int64_t seed,
                                      const std::string& command) {
  RecordProvenance p;
  p.git_commit = info.git_commit;
  p.cpu_model = info.cpu_model;
  p.logical_cpus = info.logical_cpus;
  p.blas_coretype = info.blas_coretype;
  p.hostname = info.hostname;
  p.timestamp_utc = info.timestamp_utc;
  p.threads = threads;
  p.seed = seed;
  p.command = command;
  return p;
}

}  // namespace rnnprune
