#include "reporting/format.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace rnnprune {

using json = nlohmann::json;

namespace {

// j[key] when it is a number, else nullopt.
std::optional<double> NumberField(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

std::optional<int64_t> IntegerField(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<int64_t>();
}

}  // namespace

std::string NumberCell(const std::optional<double>& value, const char* fmt) {
  if (!value) return "?";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, *value);
  return buf;
}

std::string FieldNumber(const json& j, const char* key, const char* fmt) {
  return NumberCell(NumberField(j, key), fmt);
}

std::string MarkdownCellText(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string FieldText(const json& j, const char* key) {
  if (!j.contains(key)) return "?";
  return MarkdownCellText(j[key].is_string() ? j[key].get<std::string>() : j[key].dump());
}

std::string TextCell(const std::optional<std::string>& value) {
  return value ? MarkdownCellText(*value) : "?";
}

std::string TextCell(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : "?";
}

std::string TextCell(const std::optional<double>& value) {
  return value ? MarkdownCellText(json(*value).dump()) : "?";
}

std::string CountCell(const std::optional<int64_t>& value) {
  if (!value) return "?";
  const std::string digits = std::to_string(*value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

std::string FieldCount(const json& j, const char* key) { return CountCell(IntegerField(j, key)); }

std::string HumanDuration(double seconds) {
  if (seconds >= 3600) return absl::StrFormat("%.1f h", seconds / 3600);
  if (seconds >= 60) return absl::StrFormat("%.1f min", seconds / 60);
  return absl::StrFormat("%.0f s", seconds);
}

std::string DurationCell(const std::optional<double>& value) {
  return value ? HumanDuration(*value) : "?";
}

std::string FieldDuration(const json& j, const char* key) {
  return DurationCell(NumberField(j, key));
}

int PresetRank(const std::string& preset) {
  static const char* kOrder[] = {"paper", "small", "default", "quick", "smoke"};
  for (int i = 0; i < 5; ++i) {
    if (preset == kOrder[i]) return i;
  }
  return 5;
}

std::string SweepSuffix(const std::optional<nlohmann::json>& sweep_point) {
  if (!sweep_point || !sweep_point->is_object() || sweep_point->empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [field, value] : sweep_point->items()) {
    parts.push_back(absl::StrCat(field, "=", value.dump()));
  }
  return MarkdownCellText(absl::StrCat(" [", absl::StrJoin(parts, ", "), "]"));
}

std::string PresetCell(const std::optional<std::string>& preset,
                       const std::optional<nlohmann::json>& sweep_point) {
  return absl::StrCat(TextCell(preset), SweepSuffix(sweep_point));
}

}  // namespace rnnprune
