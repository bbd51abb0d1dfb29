// The shapes the speed benchmarks time, read from a JSON data file (benchmarks/speed_shapes.json)
// so that adding a shape needs no code. Issue: practical speedup (Wen et al. 2020, Section 4).
//
// File format (nlohmann-json):
//   {"shapes": [ {"name": "zaremba_large", "source": "...", "vocab_size": 10000,
//                 "embedding_size": 1500, "hidden_sizes": [1500, 1500],
//                 "input_sizes": [...]      (optional, compacted models; models/lstm_lm.h)
//                 "parent": "zaremba_large" (optional: the dense model it was pruned from)
//                 "sparsity": 0.9           (optional: irregular sparsity of the LSTM weights in
//                                           [0, 1); the sizes are then the parent's) }, ...],
//    "compacted_runs": [ {"results": "${reports_dir}/results/ptb_${preset}.jsonl",
//                         "parents": {"small": "zaremba_small"}} ] }
// Every structured, non-collapsed record of a results file (method != "dense") becomes a shape
// named "<method>_<setting>" with the record's compacted config and the parent named by its
// config_name; records with identical sizes are merged into one shape (the others are listed in
// `also`). In a results path, ${name} is replaced by vars[name] (an unknown name is an error).
// Relative paths are resolved against `base_dir` (the workspace root).
#ifndef RNNPRUNE_BENCHMARKS_SPEED_SHAPES_H_
#define RNNPRUNE_BENCHMARKS_SPEED_SHAPES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"

namespace rnnprune {

struct SpeedShape {
  std::string name;    // [A-Za-z0-9_.:-]+, unique
  std::string source;  // where the shape comes from, for the report
  std::string parent;  // dense parent's shape name; empty for a dense model
  LstmLmConfig config;
  double sparsity = 0.0;          // > 0: LSTM weights magnitude-pruned to this sparsity, in CSR
  std::vector<std::string> also;  // compacted runs with the same sizes, merged into this one
  int64_t NumParameters() const { return config.NumParameters(); }
};

struct SpeedShapes {
  std::vector<SpeedShape> shapes;  // file order, then compacted runs in results order
  std::vector<std::string> notes;  // e.g. a results file that was not found (then skipped)
};

// Reads and validates the shapes file. Errors: NotFound / InvalidArgument naming the file and the
// field (missing or ill-typed field, duplicate or malformed name, unknown parent, a parent that is
// itself pruned, sparsity outside [0, 1), invalid sizes per LstmLmConfig::Validate). A results
// file that does not exist is skipped with a note; one that exists but cannot be parsed is an
// error.
absl::StatusOr<SpeedShapes> LoadSpeedShapes(const std::string& path, const std::string& base_dir,
                                            const std::map<std::string, std::string>& vars);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SPEED_SHAPES_H_
