// Cells of the Markdown reports, read from result records (JSON): numbers, text, counts and
// durations, with "?" for a field a record lacks. Shared by every renderer in reporting/.
#ifndef RNNPRUNE_REPORTING_FORMAT_H_
#define RNNPRUNE_REPORTING_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// j[key] printed with the printf format `fmt` (one double conversion, e.g. "%.2f"); "?" when the
// field is missing or not a number.
std::string FieldNumber(const nlohmann::json& j, const char* key, const char* fmt = "%.2f");

// `text` safe inside a Markdown table cell or list item: '|' escaped as "\|", line breaks as
// spaces (a results file's strings, e.g. an error message or a title, cannot break the table).
std::string MarkdownCellText(absl::string_view text);

// j[key] as Markdown-safe text (MarkdownCellText): a string as is, any other value as compact
// JSON; "?" when missing.
std::string FieldText(const nlohmann::json& j, const char* key);

// j[key] as an integer with thousands separators ("8,595"); "?" when missing or not a number.
std::string FieldCount(const nlohmann::json& j, const char* key);

// The cells of typed record fields (reporting/record_fields.h), "?" when the field is absent:
// a number printed with `fmt` (one double conversion); text made Markdown-safe; an integer or a
// number as JSON prints it; an integer with thousands separators; seconds as HumanDuration. The
// Field* functions above give the same cells for the fields of a JSON object.
std::string NumberCell(const std::optional<double>& value, const char* fmt = "%.2f");
std::string TextCell(const std::optional<std::string>& value);
std::string TextCell(const std::optional<int64_t>& value);
std::string TextCell(const std::optional<double>& value);
std::string CountCell(const std::optional<int64_t>& value);
std::string DurationCell(const std::optional<double>& value);

// A record's preset as a table cell: its name, followed at a point of a sweep by the swept
// fields' values (benchmarks/preset_sweep.h), e.g. "default [seed=2]".
std::string PresetCell(const std::optional<std::string>& preset,
                       const std::optional<nlohmann::json>& sweep_point);

// " [seed=2, search_learning_rate=0.5]" for a sweep point; "" for none (or an empty one).
std::string SweepSuffix(const std::optional<nlohmann::json>& sweep_point);

// A duration in seconds as "42 s", "3.5 min" or "1.2 h".
std::string HumanDuration(double seconds);

// j[key] (seconds) as HumanDuration; "?" when missing or not a number.
std::string FieldDuration(const nlohmann::json& j, const char* key);

// Order of presets in report tables, largest budget first: paper, small, default, quick, smoke,
// then any other name.
int PresetRank(const std::string& preset);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_FORMAT_H_
