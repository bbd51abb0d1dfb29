// Sweeps: a preset field holding a list of values runs the job once per value (issue 18). A
// field whose value is a single number or text sweeps when it holds a list ("seed": [1, 2],
// "squad_learning_rate": [0.001, 0.002]); a field whose value is itself a list sweeps when it
// holds a list of lists ("configs": [["small"], ["medium"]]). `settings` is already one run per
// entry and never sweeps. Several swept fields run every combination (the first field in
// Preset's order varies slowest). Each point is a preset of its own; its runs are keyed by
// their config hashes as any run is, and their records name the point (`sweep_point`).
#ifndef RNNPRUNE_BENCHMARKS_PRESET_SWEEP_H_
#define RNNPRUNE_BENCHMARKS_PRESET_SWEEP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/presets.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// One point of a sweep: the preset it runs and the swept fields' values at it (an empty object
// when the preset sweeps nothing).
struct PresetPoint {
  Preset preset;
  nlohmann::json swept = nlohmann::json::object();
};

// Most points one preset may expand to: a typo such as a list of 10,000 seeds fails at once.
inline constexpr size_t kMaxSweepPoints = 1000;

// The points of the preset `j` (a preset's JSON, benchmarks/preset_json.h), each read by
// PresetFromJson. Errors: InvalidArgument for a swept field with an empty list, more than
// kMaxSweepPoints points, or a point that PresetFromJson refuses (the message names the point).
absl::StatusOr<std::vector<PresetPoint>> ExpandPresetSweeps(const nlohmann::json& j);

// The short id of a point (12 hex digits of the config hash of `swept`), which names its files:
// <output_dir>/sweep_<id>/, results/squad_<preset>_<id>.json.
std::string SweepPointId(const nlohmann::json& swept);

// "seed=2, squad_learning_rate=0.002" for a point's `swept` (fields in Preset's order); "" when
// it sweeps nothing.
std::string SweepLabel(const nlohmann::json& swept);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PRESET_SWEEP_H_
