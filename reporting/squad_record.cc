#include "reporting/squad_record.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "reporting/record_fields.h"

namespace rnnprune {

nlohmann::json SquadRecord::ToJson() const { return RecordToJson(*this); }

absl::StatusOr<SquadRecord> SquadRecord::FromJson(const nlohmann::json& j) {
  return RecordFromJson<SquadRecord>(j);
}

absl::StatusOr<SquadRecord> ReadSquadRecord(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  absl::StatusOr<SquadRecord> record = SquadRecord::FromJson(j);
  if (!record.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", record.status().message()));
  }
  return record;
}

}  // namespace rnnprune
