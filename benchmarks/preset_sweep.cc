#include "benchmarks/preset_sweep.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmarks/preset_json.h"
#include "common/config_hash.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// Preset's fields in declaration order, and whether each one's own value is a list.
std::vector<std::pair<std::string, bool>> FieldsInOrder() {
  std::vector<std::pair<std::string, bool>> fields;
  const Preset p;
  VisitPresetFields(p, [&](const char* name, const auto& value) {
    fields.emplace_back(name, json(value).is_array());
  });
  return fields;
}

// Whether `value` of a field sweeps it (see the header).
bool Sweeps(const json& value, bool list_field) {
  if (!value.is_array()) return false;
  if (!list_field) return true;
  if (value.empty()) return false;
  for (const json& v : value) {
    if (!v.is_array()) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<PresetPoint>> ExpandPresetSweeps(const json& j) {
  std::vector<std::pair<std::string, json>> swept;  // field, its values
  size_t points = 1;
  if (j.is_object()) {
    for (const auto& [field, list_field] : FieldsInOrder()) {
      if (field == "settings" || !j.contains(field) || !Sweeps(j[field], list_field)) continue;
      if (j[field].empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "preset field '", field, "': [] sweeps no value (give at least one, or a value)"));
      }
      points *= j[field].size();
      if (points > kMaxSweepPoints) {
        return absl::InvalidArgumentError(absl::StrCat("the preset's sweeps make more than ",
                                                       kMaxSweepPoints, " points (at '", field,
                                                       "'): sweep fewer fields or values"));
      }
      swept.emplace_back(field, j[field]);
    }
  }
  std::vector<PresetPoint> out;
  for (size_t index = 0; index < points; ++index) {
    json point = j;
    json values = json::object();
    size_t rest = index;
    for (auto it = swept.rbegin(); it != swept.rend(); ++it) {  // the last field varies fastest
      const json& value = it->second[rest % it->second.size()];
      rest /= it->second.size();
      point[it->first] = value;
      values[it->first] = value;
    }
    absl::StatusOr<Preset> preset = PresetFromJson(point);
    if (!preset.ok()) {
      if (swept.empty()) return preset.status();
      return absl::InvalidArgumentError(
          absl::StrCat("sweep point ", SweepLabel(values), ": ", preset.status().message()));
    }
    out.push_back({*std::move(preset), std::move(values)});
  }
  return out;
}

std::string SweepPointId(const json& swept) { return ConfigHash(swept).substr(0, 12); }

std::string SweepLabel(const json& swept) {
  std::vector<std::string> parts;
  for (const auto& [field, list_field] : FieldsInOrder()) {
    if (swept.contains(field)) parts.push_back(absl::StrCat(field, "=", swept[field].dump()));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace rnnprune
