#include "reporting/squad_record.h"

#include "reporting/record_fields.h"

namespace rnnprune {

nlohmann::json SquadRecord::ToJson() const { return RecordToJson(*this); }

absl::StatusOr<SquadRecord> SquadRecord::FromJson(const nlohmann::json& j) {
  return RecordFromJson<SquadRecord>(j);
}

absl::StatusOr<SquadRecord> ReadSquadRecord(const std::string& path) {
  return ReadRecordFile<SquadRecord>(path);
}

}  // namespace rnnprune
