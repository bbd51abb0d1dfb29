#include "pruning/method_option.h"

#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rnnprune {
namespace {

// "(0, 1)", "[0, inf)", ...
std::string Interval(double lower, bool lower_open, double upper, bool upper_open) {
  auto bound = [](double v) {
    return std::isinf(v) ? std::string(v < 0 ? "-inf" : "inf") : absl::StrCat(v);
  };
  return absl::StrCat(lower_open ? "(" : "[", bound(lower), ", ", bound(upper),
                      upper_open ? ")" : "]");
}

}  // namespace

MethodOptionSpec NumberOption(std::string flag, double default_value, std::string help,
                              double lower, bool lower_open, double upper, bool upper_open) {
  MethodOptionSpec spec;
  spec.default_value = default_value;
  spec.help = absl::StrCat(help, " (default ", default_value, ", in ",
                           Interval(lower, lower_open, upper, upper_open), ")");
  spec.parse = [flag, lower, lower_open, upper,
                upper_open](const std::string& text) -> absl::StatusOr<nlohmann::json> {
    double v = 0;
    if (!absl::SimpleAtod(text, &v)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, "='", text, "' is not a number"));
    }
    const bool above = lower_open ? v > lower : v >= lower;
    const bool below = upper_open ? v < upper : v <= upper;
    if (!std::isfinite(v) || !above || !below) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", text, " must be finite and in ",
                       Interval(lower, lower_open, upper, upper_open)));
    }
    return nlohmann::json(v);
  };
  spec.flag = std::move(flag);
  return spec;
}

MethodOptionSpec ChoiceOption(std::string flag, std::string default_value, std::string help,
                              std::vector<std::string> choices) {
  MethodOptionSpec spec;
  spec.default_value = default_value;
  spec.help =
      absl::StrCat(help, " (", absl::StrJoin(choices, " | "), "; default ", default_value, ")");
  spec.parse = [flag, choices](const std::string& text) -> absl::StatusOr<nlohmann::json> {
    for (const std::string& c : choices) {
      if (c == text) return nlohmann::json(text);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "='", text, "' must be ", absl::StrJoin(choices, " or ")));
  };
  spec.flag = std::move(flag);
  return spec;
}

absl::StatusOr<nlohmann::json> ResolveMethodOptions(
    const std::vector<MethodOptionSpec>& specs, const std::map<std::string, std::string>& given) {
  nlohmann::json values = nlohmann::json::object();
  for (const MethodOptionSpec& spec : specs) {
    auto it = given.find(spec.flag);
    if (it == given.end()) {
      values[spec.flag] = spec.default_value;
      continue;
    }
    absl::StatusOr<nlohmann::json> v = spec.parse(it->second);
    if (!v.ok()) return v.status();
    values[spec.flag] = *std::move(v);
  }
  return values;
}

}  // namespace rnnprune
