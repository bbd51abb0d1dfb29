#include "reporting/bidaf_pruning_record.h"

#include "reporting/record_fields.h"

namespace rnnprune {

nlohmann::json BidafPruningRecord::ToJson() const { return RecordToJson(*this); }

absl::StatusOr<BidafPruningRecord> BidafPruningRecord::FromJson(const nlohmann::json& j) {
  return RecordFromJson<BidafPruningRecord>(j);
}

absl::StatusOr<BidafPruningRecord> ReadBidafPruningRecord(const std::string& path) {
  return ReadRecordFile<BidafPruningRecord>(path);
}

}  // namespace rnnprune
