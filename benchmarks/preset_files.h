// The built-in presets of the main job: one JSON file per preset in benchmarks/presets/
// (`--preset=NAME` reads benchmarks/presets/NAME.json), shipped beside the binaries as Bazel
// runfiles, so that changing an experiment is editing a file (README.md, "A preset of your own").
#ifndef RNNPRUNE_BENCHMARKS_PRESET_FILES_H_
#define RNNPRUNE_BENCHMARKS_PRESET_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/presets.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// The folder of the built-in preset files: $RNNPRUNE_PRESETS_DIR when set, else
// benchmarks/presets in the runfiles of the running binary (bazel run, bazel test, or
// bazel-bin/... started by hand). Errors: NotFound when neither exists, naming both.
absl::StatusOr<std::string> PresetsDir();

// Names of the built-in presets (the files' names without .json), sorted by name; empty when
// PresetsDir() fails.
std::vector<std::string> PresetNames();

// The built-in preset `name` as JSON (comments removed), before any override or sweep
// expansion. Errors: InvalidArgument naming the value and the valid names for an unknown (or
// not [a-z0-9_]+) name; LoadPresetJson's errors; InvalidArgument when the file's "name" is not
// `name`.
absl::StatusOr<nlohmann::json> GetPresetJson(const std::string& name);

// The built-in preset `name` (GetPresetJson read by PresetFromJson). Errors: those of
// GetPresetJson and PresetFromJson (a file that holds a sweep is refused here: the suite expands
// sweeps, benchmarks/preset_sweep.h).
absl::StatusOr<Preset> GetPreset(const std::string& name);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PRESET_FILES_H_
