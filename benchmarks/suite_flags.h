// The main job's command line: the absl flags behind SuiteOptions (benchmarks/suite_flags.cc;
// each flag's name and help there, its default the SuiteOptions field's, its rule in
// ValidateSuiteOptions). Linked only into //benchmarks:all.
#ifndef RNNPRUNE_BENCHMARKS_SUITE_FLAGS_H_
#define RNNPRUNE_BENCHMARKS_SUITE_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"

namespace rnnprune {

// The options the parsed flags give, with `method_flags` (the methods' own --FLAG=VALUE, taken
// out of argv before absl parsed it) and `given` (the arguments as typed, for the record's
// command). Paths are resolved against the user's working folder; --reports_dir and --output_dir
// default to <workspace>/reports and <workspace>/runs; --threads=0 means every core. data_dir is
// left empty (DataDirFlag). Errors: InvalidArgument for a malformed --settings entry.
absl::StatusOr<SuiteOptions> SuiteOptionsFromFlags(std::map<std::string, std::string> method_flags,
                                                   const std::vector<std::string>& given);

// --render_only.
bool RenderOnlyRequested();
// --print_config.
bool PrintConfigRequested();

// --data_dir, resolved against the user's working folder ("" when not given).
std::string DataDirFlag();

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SUITE_FLAGS_H_
