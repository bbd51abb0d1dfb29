// Reading and writing typed result records (reporting/*_record.h) as the JSON objects of the
// results files. A record type lists its fields once, in a static member template
//
//   template <class Self, class Visit> static void Fields(Self& self, Visit& visit) {
//     visit("exact_match", self.exact_match);  // std::optional<double>
//     ...
//   }
//
// and RecordToJson / RecordFromJson walk that list. Every field is a std::optional: a results
// file written by an older version may lack any of them, and the reports print "?" for what is
// missing. Keys the type does not list (fields of other versions) are kept in the record's
// `extra` object and written back unchanged, so that reading and writing a results file loses
// nothing; so is a listed field whose value is null (older versions wrote null for "none"): the
// field stays absent.
#ifndef RNNPRUNE_REPORTING_RECORD_FIELDS_H_
#define RNNPRUNE_REPORTING_RECORD_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace record_fields_internal {

using json = nlohmann::json;

// A nested record: a struct with its own Fields list and `extra` (for example one benchmark of a
// speed record), held as a JSON object.
template <class T, class = void>
struct IsRecord : std::false_type {};
template <class T>
struct IsRecord<T, std::void_t<decltype(std::declval<T&>().extra)>> : std::true_type {};

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

class Writer;
class Reader;

// The JSON of a value of a listed field.
template <class T>
json ToJsonValue(const T& value);

// `j` as a T, or an error naming `key` (with the index or nested field where it went wrong).
template <class T>
absl::StatusOr<T> FromJsonValue(const json& j, const std::string& key);

// Whether `j` holds a scalar of the C++ type T as ToJsonValue writes it, and its name.
inline bool HoldsScalar(const json& j, const std::string*) { return j.is_string(); }
inline bool HoldsScalar(const json& j, const int64_t*) { return j.is_number_integer(); }
inline bool HoldsScalar(const json& j, const double*) { return j.is_number(); }
inline bool HoldsScalar(const json& j, const bool*) { return j.is_boolean(); }
inline bool HoldsScalar(const json&, const json*) { return true; }
inline const char* ScalarName(const std::string*) { return "a string"; }
inline const char* ScalarName(const int64_t*) { return "an integer"; }
inline const char* ScalarName(const double*) { return "a number"; }
inline const char* ScalarName(const bool*) { return "true or false"; }
inline const char* ScalarName(const json*) { return "any JSON value"; }

// Writes each present field into `out`.
class Writer {
 public:
  explicit Writer(json* out) : out_(out) {}
  template <class T>
  void operator()(const char* key, const std::optional<T>& value) {
    if (value) (*out_)[key] = ToJsonValue(*value);
  }

 private:
  json* out_;
};

// Reads each listed field out of `rest` (which keeps what no field names); the first field of
// the wrong type sets `status`.
class Reader {
 public:
  explicit Reader(json* rest) : rest_(rest) {}
  template <class T>
  void operator()(const char* key, std::optional<T>& value) {
    auto it = rest_->find(key);
    // A null (written by older versions for "none") leaves the field absent and stays in
    // `extra`, so that it is written back as it was.
    if (it == rest_->end() || it->is_null() || !status_.ok()) return;
    absl::StatusOr<T> v = FromJsonValue<T>(*it, key);
    if (!v.ok()) {
      status_ = v.status();
      return;
    }
    value = *std::move(v);
    rest_->erase(it);
  }
  const absl::Status& status() const { return status_; }

 private:
  json* rest_;
  absl::Status status_;
};

template <class T>
json ToJsonValue(const T& value) {
  if constexpr (IsRecord<T>::value) {
    json out = value.extra.is_object() ? value.extra : json::object();
    Writer writer(&out);
    T::Fields(value, writer);
    return out;
  } else if constexpr (IsVector<T>::value) {
    json out = json::array();
    for (const auto& e : value) out.push_back(ToJsonValue(e));
    return out;
  } else {
    return json(value);
  }
}

template <class T>
absl::StatusOr<T> FromJsonValue(const json& j, const std::string& key) {
  if constexpr (IsRecord<T>::value) {
    if (!j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field \"", key, "\" is ", j.dump().substr(0, 80), ", but must be an object"));
    }
    T record;
    record.extra = j;
    Reader reader(&record.extra);
    T::Fields(record, reader);
    if (!reader.status().ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("in \"", key, "\": ", reader.status().message()));
    }
    return record;
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field \"", key, "\" is ", j.dump().substr(0, 80), ", but must be an array"));
    }
    T out;
    for (size_t i = 0; i < j.size(); ++i) {
      absl::StatusOr<typename T::value_type> e =
          FromJsonValue<typename T::value_type>(j[i], absl::StrCat(key, "[", i, "]"));
      if (!e.ok()) return e.status();
      out.push_back(*std::move(e));
    }
    return out;
  } else {
    if (!HoldsScalar(j, static_cast<const T*>(nullptr))) {
      return absl::InvalidArgumentError(absl::StrCat("field \"", key, "\" is ",
                                                     j.dump().substr(0, 80), ", but must be ",
                                                     ScalarName(static_cast<const T*>(nullptr))));
    }
    return j.template get<T>();
  }
}

}  // namespace record_fields_internal

// The JSON object of `record`: its present fields, then its `extra` keys (a listed field wins
// over an extra key of the same name).
template <class Record>
nlohmann::json RecordToJson(const Record& record) {
  return record_fields_internal::ToJsonValue(record);
}

// The record held by the JSON object `j`; keys the record does not list go to its `extra`.
// Errors: InvalidArgument when `j` is not an object, or naming the first listed field whose
// value has the wrong type (for example a string where a number must be; a nested field as
// "in \"runs[3]\": field \"ms_per_token\" ...").
template <class Record>
absl::StatusOr<Record> RecordFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a result record must be a JSON object, not ", j.dump().substr(0, 80)));
  }
  Record record;
  record.extra = j;
  record_fields_internal::Reader reader(&record.extra);
  Record::Fields(record, reader);
  if (!reader.status().ok()) return reader.status();
  return record;
}

// The record in the results file at `path` (one JSON object). Errors: the file's read errors
// (common/files.h ReadFile); InvalidArgument naming the file when it is not JSON or a field has
// the wrong type.
template <class Record>
absl::StatusOr<Record> ReadRecordFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  absl::StatusOr<Record> record = RecordFromJson<Record>(j);
  if (!record.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", record.status().message()));
  }
  return record;
}

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_RECORD_FIELDS_H_
