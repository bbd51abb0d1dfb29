// The options a pruning method declares beyond its setting (for example L0's gate learning rate
// or initial keep probability): each is declared once, in the method's own file, with its
// command-line name, default, help and rule, and reaches the method through MethodOptions::own
// without any shared code naming it. The main job turns `--NAME=VALUE` for every declared NAME
// into a value (benchmarks/suite_options.h) and lists them in --help.
#ifndef RNNPRUNE_PRUNING_METHOD_OPTION_H_
#define RNNPRUNE_PRUNING_METHOD_OPTION_H_

#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// One declared option.
struct MethodOptionSpec {
  // The command-line name (--flag=VALUE) and the key in MethodOptions::own; [a-z0-9_]+. Methods
  // that share an option (l0 and l0_speed) declare the same spec.
  std::string flag;
  // One line for --help: meaning, unit and range.
  std::string help;
  // The value when the option is not given: a JSON number or string.
  nlohmann::json default_value;
  // Parses and checks `text` (the command line's value). Errors: InvalidArgument naming
  // --flag, the value and the rule it broke.
  std::function<absl::StatusOr<nlohmann::json>(const std::string& text)> parse;
};

// A number option: parses a finite double within [lower, upper] (each bound excluded when its
// `*_open` is true; +-infinity for none). The default must satisfy the rule.
MethodOptionSpec NumberOption(std::string flag, double default_value, std::string help,
                              double lower, bool lower_open,
                              double upper = std::numeric_limits<double>::infinity(),
                              bool upper_open = true);

// A text option that takes one of `choices` (the default among them).
MethodOptionSpec ChoiceOption(std::string flag, std::string default_value, std::string help,
                              std::vector<std::string> choices);

// The values of `specs`: each one given in `given` (flag -> text), parsed and checked, else its
// default, as a JSON object keyed by flag. Entries of `given` that no spec declares are ignored
// (they belong to other methods). Errors: the first spec's parse error.
absl::StatusOr<nlohmann::json> ResolveMethodOptions(
    const std::vector<MethodOptionSpec>& specs, const std::map<std::string, std::string>& given);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_METHOD_OPTION_H_
