// Which pruning runs the PTB task makes: the methods in order and each method's settings
// (lambdas, sparsities or target sizes) from the command line, the preset, the L0 runs' sizes
// or the registry, with no method named in this code.
#ifndef RNNPRUNE_BENCHMARKS_PTB_SETTINGS_H_
#define RNNPRUNE_BENCHMARKS_PTB_SETTINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/presets.h"
#include "benchmarks/suite_options.h"
#include "nlohmann/json.hpp"
#include "pruning/method.h"

namespace rnnprune {

// One run of a method: its numeric setting (kLambda / kSparsity) or target sizes.
struct RunSetting {
  double value = 0;
  std::vector<int64_t> sizes;  // kTargetSizes: [E, H_0, ..., H_{L-1}] or [E, I_2.., H_0..]
  std::string label;           // for logs, file names and the report ("1e-4", "21:200:68")
};

// Parses one setting of method `name` of kind `kind` ("1e-4", "0.9", "21:200:68"). Errors:
// InvalidArgument naming the method and the text (not a number, sizes not E:H1:...:HL).
absl::StatusOr<RunSetting> ParseSetting(const std::string& name, SettingKind kind,
                                        const std::string& text);

// The setting texts given on the command line for method `name`: its --settings entry, else
// the values of its settings flag (PruningMethodInfo::settings_flag, comma-separated); empty
// when neither is given.
std::vector<std::string> CommandLineSettings(const SuiteOptions& o, const std::string& name,
                                             const PruningMethodInfo& info);

// The methods the suite runs: --methods, else the preset's, else every registered one.
std::vector<std::string> MethodsToRun(const SuiteOptions& o, const Preset& preset);

// MethodsToRun in run order: as listed, except that target-size methods come after the others
// (they take their sizes from the L0 runs).
std::vector<std::string> MethodOrder(const SuiteOptions& o, const Preset& preset);

// The settings of method `name` for Zaremba config `config_name`: CommandLineSettings, else the
// preset's, else (target sizes) the sizes the successful runs in `done` of the methods whose
// sizes are targets (L0) reached for this config, else the registered defaults. A method of
// kind kNone gets one run labelled "-". Errors: InvalidArgument for an unparsable setting or a
// setting given to a method that takes none.
absl::StatusOr<std::vector<RunSetting>> ResolveSettings(const SuiteOptions& o, const Preset& preset,
                                                        const std::string& name,
                                                        const PruningMethodInfo& info,
                                                        const std::string& config_name,
                                                        const std::vector<nlohmann::json>& done);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PTB_SETTINGS_H_
