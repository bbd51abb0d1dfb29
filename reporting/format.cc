#include "reporting/format.h"

#include <cstdint>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace rnnprune {

using json = nlohmann::json;

std::string FieldNumber(const json& j, const char* key, const char* fmt) {
  if (!j.contains(key) || !j[key].is_number()) return "?";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, j[key].get<double>());
  return buf;
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

std::string FieldCount(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return "?";
  const std::string digits = std::to_string(j[key].get<int64_t>());
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

std::string HumanDuration(double seconds) {
  if (seconds >= 3600) return absl::StrFormat("%.1f h", seconds / 3600);
  if (seconds >= 60) return absl::StrFormat("%.1f min", seconds / 60);
  return absl::StrFormat("%.0f s", seconds);
}

std::string FieldDuration(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return "?";
  return HumanDuration(j[key].get<double>());
}

int PresetRank(const std::string& preset) {
  static const char* kOrder[] = {"paper", "small", "default", "quick", "smoke"};
  for (int i = 0; i < 5; ++i) {
    if (preset == kOrder[i]) return i;
  }
  return 5;
}

}  // namespace rnnprune
