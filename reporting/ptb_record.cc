#include "reporting/ptb_record.h"

#include "absl/strings/str_cat.h"
#include "reporting/record_fields.h"

namespace rnnprune {

nlohmann::json PtbRecord::ToJson() const { return RecordToJson(*this); }

absl::StatusOr<PtbRecord> PtbRecord::FromJson(const nlohmann::json& j) {
  return RecordFromJson<PtbRecord>(j);
}

absl::StatusOr<std::vector<PtbRecord>> PtbRecordsFromJson(const std::vector<nlohmann::json>& lines,
                                                          const std::string& source) {
  std::vector<PtbRecord> records;
  records.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StatusOr<PtbRecord> r = PtbRecord::FromJson(lines[i]);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", i + 1, ": ", r.status().message()));
    }
    records.push_back(*std::move(r));
  }
  return records;
}

}  // namespace rnnprune
