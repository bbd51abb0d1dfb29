#include "benchmarks/ptb_settings.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// "E:I2:..:IL:H1:..:HL" of every successful run in `done` of a method whose sizes are targets,
// for this config, each once.
std::vector<std::string> SizesReachedByTargetRuns(const std::vector<json>& done,
                                                  const std::string& config_name) {
  std::vector<std::string> texts;
  for (const json& r : done) {
    // Only this config's runs: a preset may train several configs.
    absl::StatusOr<PruningMethodInfo> source = GetPruningMethodInfo(r.value("method", ""));
    if (!source.ok() || !source->sizes_are_targets || r.contains("collapsed") ||
        !r.contains("sizes") || r.value("config_name", "") != config_name) {
      continue;
    }
    // E:I2:..:IL:H1:..:HL, so that the inputs of the upper layers match too.
    std::vector<int64_t> sizes = r["sizes"]["input_sizes"].get<std::vector<int64_t>>();
    for (int64_t h : r["sizes"]["hidden_sizes"].get<std::vector<int64_t>>()) sizes.push_back(h);
    const std::string text = absl::StrJoin(sizes, ":");
    if (std::find(texts.begin(), texts.end(), text) == texts.end()) texts.push_back(text);
  }
  return texts;
}

}  // namespace

absl::StatusOr<RunSetting> ParseSetting(const std::string& name, SettingKind kind,
                                        const std::string& text) {
  RunSetting s;
  s.label = text;
  if (kind == SettingKind::kTargetSizes) {
    for (absl::string_view part : absl::StrSplit(text, ':')) {
      int64_t n = 0;
      if (!absl::SimpleAtoi(part, &n)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "settings of ", name, ": target sizes must read E:H1:...:HL, got '", text, "'"));
      }
      s.sizes.push_back(n);
    }
  } else if (!absl::SimpleAtod(text, &s.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings of ", name, ": '", text, "' is not a number"));
  }
  return s;
}

std::vector<std::string> CommandLineSettings(const SuiteOptions& o, const std::string& name,
                                             const PruningMethodInfo& info) {
  if (auto it = o.settings.find(name); it != o.settings.end()) return it->second;
  if (info.settings_flag.empty()) return {};
  auto flag = o.method_flags.find(info.settings_flag);
  if (flag == o.method_flags.end()) return {};
  return absl::StrSplit(flag->second, ',', absl::SkipEmpty());
}

std::vector<std::string> MethodsToRun(const SuiteOptions& o, const Preset& preset) {
  return !o.methods.empty()        ? o.methods
         : !preset.methods.empty() ? preset.methods
                                   : RegisteredPruningMethods();
}

std::vector<std::string> MethodOrder(const SuiteOptions& o, const Preset& preset) {
  std::vector<std::string> first, last;
  for (const std::string& m : MethodsToRun(o, preset)) {
    absl::StatusOr<PruningMethodInfo> info = GetPruningMethodInfo(m);
    (info.ok() && info->setting == SettingKind::kTargetSizes ? last : first).push_back(m);
  }
  first.insert(first.end(), last.begin(), last.end());
  return first;
}

absl::StatusOr<std::vector<RunSetting>> ResolveSettings(const SuiteOptions& o, const Preset& preset,
                                                        const std::string& name,
                                                        const PruningMethodInfo& info,
                                                        const std::string& config_name,
                                                        const std::vector<json>& done) {
  std::vector<std::string> texts = CommandLineSettings(o, name, info);
  std::vector<RunSetting> out;
  if (texts.empty()) {
    if (auto p = preset.settings.find(name); p != preset.settings.end()) {
      texts = p->second;
    } else if (info.setting == SettingKind::kTargetSizes && !preset.target_sizes.empty()) {
      texts = preset.target_sizes;
    } else if (info.setting == SettingKind::kTargetSizes) {
      texts = SizesReachedByTargetRuns(done, config_name);
    } else if (info.setting != SettingKind::kNone) {
      // Numbers that come as doubles keep their exact value; the label is for display.
      for (double v : info.default_settings) out.push_back({v, {}, absl::StrFormat("%g", v)});
    }
  }
  if (info.setting == SettingKind::kNone) {
    if (!texts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("settings of ", name, ": the method takes no setting"));
    }
    out.push_back({0, {}, "-"});
    return out;
  }
  for (const std::string& t : texts) {
    ASSIGN_OR_RETURN(RunSetting s, ParseSetting(name, info.setting, t));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rnnprune
