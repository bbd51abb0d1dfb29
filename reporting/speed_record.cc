#include "reporting/speed_record.h"

#include "reporting/record_fields.h"

namespace rnnprune {

nlohmann::json SpeedRecord::ToJson() const { return RecordToJson(*this); }

absl::StatusOr<SpeedRecord> SpeedRecord::FromJson(const nlohmann::json& j) {
  return RecordFromJson<SpeedRecord>(j);
}

}  // namespace rnnprune
