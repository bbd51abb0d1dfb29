#include "benchmarks/preset_json.h"

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

absl::Status WrongType(const std::string& key, const json& value, const std::string& rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("preset field '", key, "': ", value.dump(), " must be ", rule));
}

// Strict readers, one per field type: the JSON value's type must be the field's.
absl::Status Read(const std::string& key, const json& v, std::string* out) {
  if (!v.is_string()) return WrongType(key, v, "a string");
  *out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status Read(const std::string& key, const json& v, int64_t* out) {
  if (!v.is_number_integer()) return WrongType(key, v, "an integer");
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return WrongType(key, v, "an integer that fits 64 bits");
  }
  *out = v.get<int64_t>();
  return absl::OkStatus();
}

absl::Status Read(const std::string& key, const json& v, int* out) {
  int64_t wide = 0;
  RETURN_IF_ERROR(Read(key, v, &wide));
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    return WrongType(key, v, "an integer that fits 32 bits");
  }
  *out = static_cast<int>(wide);
  return absl::OkStatus();
}

absl::Status Read(const std::string& key, const json& v, double* out) {
  if (!v.is_number()) return WrongType(key, v, "a number");
  *out = v.get<double>();
  return absl::OkStatus();
}

template <typename T>
absl::Status Read(const std::string& key, const json& v, std::vector<T>* out) {
  if (!v.is_array()) return WrongType(key, v, "an array");
  std::vector<T> values(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    RETURN_IF_ERROR(Read(absl::StrCat(key, "[", i, "]"), v[i], &values[i]));
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status Read(const std::string& key, const json& v,
                  std::map<std::string, std::vector<std::string>>* out) {
  if (!v.is_object()) return WrongType(key, v, "an object of METHOD: [settings]");
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [method, settings] : v.items()) {
    RETURN_IF_ERROR(Read(absl::StrCat(key, ".", method), settings, &values[method]));
  }
  *out = std::move(values);
  return absl::OkStatus();
}

// How an override's text becomes JSON, by the type of the field it sets.
enum class Kind { kScalar, kText, kTexts, kInts, kSettings };

struct KindOf {
  Kind operator()(const std::string&) const { return Kind::kText; }
  Kind operator()(const std::vector<std::string>&) const { return Kind::kTexts; }
  Kind operator()(const std::vector<int>&) const { return Kind::kInts; }
  Kind operator()(const std::map<std::string, std::vector<std::string>>&) const {
    return Kind::kSettings;
  }
  template <typename Number>
  Kind operator()(const Number&) const {
    return Kind::kScalar;
  }
};

std::optional<Kind> FieldKind(const std::string& field) {
  std::optional<Kind> kind;
  const Preset defaults;
  VisitPresetFields(defaults, [&](const char* name, const auto& value) {
    if (field == name) kind = KindOf()(value);
  });
  return kind;
}

// JSON when `text` parses as JSON, else nullopt.
std::optional<json> ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// A list given as "a,b" (or "a/b" for settings), or as a JSON array.
json ListValue(const std::string& text, char separator, bool numbers) {
  if (std::optional<json> j = ParseJson(text); j && j->is_array()) return *j;
  json list = json::array();
  for (absl::string_view item : absl::StrSplit(text, separator)) {
    std::optional<json> number = numbers ? ParseJson(std::string(item)) : std::nullopt;
    list.push_back(number ? *number : json(std::string(item)));
  }
  return list;
}

json OverrideValue(Kind kind, const std::string& text) {
  switch (kind) {
    case Kind::kText: {
      std::optional<json> j = ParseJson(text);  // a JSON list of texts sweeps the field
      return j && (j->is_string() || j->is_array()) ? *j : json(text);
    }
    case Kind::kTexts:
      return ListValue(text, ',', /*numbers=*/false);
    case Kind::kInts:
      return ListValue(text, ',', /*numbers=*/true);
    case Kind::kSettings:  // "settings.METHOD=V1/V2" sets one entry (below)
      return ListValue(text, '/', /*numbers=*/false);
    case Kind::kScalar:
      break;
  }
  std::optional<json> j = ParseJson(text);
  return j ? *j : json(text);  // text for a number field: refused by name in PresetFromJson
}

absl::Status ApplyOverride(const std::string& assignment, json* j) {
  const std::vector<std::string> kv = absl::StrSplit(assignment, absl::MaxSplits('=', 1));
  if (kv.size() != 2 || kv[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set '", assignment, "' must be FIELD=VALUE (e.g. squad_epochs=8)"));
  }
  const std::vector<std::string> path = absl::StrSplit(kv[0], absl::MaxSplits('.', 1));
  const std::optional<Kind> kind = FieldKind(path[0]);
  if (!kind) {
    return absl::InvalidArgumentError(absl::StrCat("--set '", assignment, "': '", path[0],
                                                   "' is not a preset field (the fields: "
                                                   "benchmarks/presets.h)"));
  }
  if (path.size() == 2 && *kind != Kind::kSettings) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set '", assignment,
                     "': only settings and squad_settings have entries (settings.METHOD=V1/V2)"));
  }
  if (path.size() == 2) {
    (*j)[path[0]][path[1]] = OverrideValue(Kind::kSettings, kv[1]);
  } else if (*kind == Kind::kSettings) {
    std::optional<json> whole = ParseJson(kv[1]);
    (*j)[path[0]] = whole ? *whole : json(kv[1]);
  } else {
    (*j)[path[0]] = OverrideValue(*kind, kv[1]);
  }
  return absl::OkStatus();
}

}  // namespace

json PresetToJson(const Preset& p) {
  json j = json::object();
  VisitPresetFields(p, [&](const char* name, const auto& value) { j[name] = value; });
  return j;
}

absl::StatusOr<Preset> PresetFromJson(const json& j) {
  if (!j.is_object()) return WrongType("(preset)", j, "an object of fields");
  std::set<std::string> known;
  Preset p;
  absl::Status status;
  VisitPresetFields(p, [&](const char* name, auto& value) {
    known.insert(name);
    if (!status.ok() || !j.contains(name)) return;
    status = Read(name, j.at(name), &value);
  });
  RETURN_IF_ERROR(status);
  for (const auto& [key, value] : j.items()) {
    if (known.count(key) == 0 && !absl::StartsWith(key, "_")) {
      return absl::InvalidArgumentError(
          absl::StrCat("preset field '", key, "' (", value.dump(),
                       ") is unknown; the fields: ", absl::StrJoin(known, ", ")));
    }
  }
  RETURN_IF_ERROR(ValidatePreset(p));
  return p;
}

absl::Status ApplyPresetOverridesToJson(const std::vector<std::string>& overrides, json* j) {
  for (const std::string& assignment : overrides) RETURN_IF_ERROR(ApplyOverride(assignment, j));
  return absl::OkStatus();
}

absl::Status ApplyPresetOverrides(const std::vector<std::string>& overrides, Preset* p) {
  if (overrides.empty()) return absl::OkStatus();
  json j = PresetToJson(*p);
  RETURN_IF_ERROR(ApplyPresetOverridesToJson(overrides, &j));
  absl::StatusOr<Preset> overridden = PresetFromJson(j);
  if (!overridden.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", absl::StrJoin(overrides, " --set "),
                                                   ": ", overridden.status().message()));
  }
  *p = *std::move(overridden);
  return absl::OkStatus();
}

absl::StatusOr<json> LoadPresetJson(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  try {
    return json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("preset file ", path, " is not valid JSON: ", e.what()));
  }
}

absl::StatusOr<Preset> LoadPresetFile(const std::string& path) {
  ASSIGN_OR_RETURN(const json j, LoadPresetJson(path));
  absl::StatusOr<Preset> p = PresetFromJson(j);
  if (!p.ok()) {
    return absl::Status(p.status().code(),
                        absl::StrCat("preset file ", path, ": ", p.status().message()));
  }
  return p;
}

}  // namespace rnnprune
