#include "benchmarks/preset_files.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmarks/preset_json.h"
#include "common/status_macros.h"
#include "tools/cpp/runfiles/runfiles.h"

namespace rnnprune {
namespace {

using ::bazel::tools::cpp::runfiles::Runfiles;

constexpr char kRunfilesPath[] = "rnnprune/benchmarks/presets";

bool IsDir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

// The running binary's path (its runfiles tree sits beside it).
std::string SelfPath() {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

absl::StatusOr<std::string> PresetsDir() {
  if (const char* env = std::getenv("RNNPRUNE_PRESETS_DIR"); env != nullptr && *env != '\0') {
    if (IsDir(env)) return std::string(env);
    return absl::NotFoundError(
        absl::StrCat("RNNPRUNE_PRESETS_DIR=", env, " is not a folder of preset files"));
  }
  std::string error;
  std::unique_ptr<Runfiles> runfiles(Runfiles::Create(SelfPath(), &error));
  const std::string dir = runfiles ? runfiles->Rlocation(kRunfilesPath) : "";
  if (!dir.empty() && IsDir(dir)) return dir;
  return absl::NotFoundError(absl::StrCat(
      "the built-in presets (", kRunfilesPath, " in the runfiles of ", SelfPath(),
      ") are not there", error.empty() ? "" : absl::StrCat(" (", error, ")"),
      ": run the binary through bazel run, or set RNNPRUNE_PRESETS_DIR to benchmarks/presets"));
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  absl::StatusOr<std::string> dir = PresetsDir();
  if (!dir.ok()) return names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(*dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (!absl::EndsWith(file, ".json")) continue;
    const std::string name = file.substr(0, file.size() - 5);
    if (IsValidPresetName(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<nlohmann::json> GetPresetJson(const std::string& name) {
  ASSIGN_OR_RETURN(const std::string dir, PresetsDir());
  const std::vector<std::string> names = PresetNames();
  if (!IsValidPresetName(name) || std::find(names.begin(), names.end(), name) == names.end()) {
    return absl::InvalidArgumentError(absl::StrCat("--preset='", name, "' is not one of ",
                                                   absl::StrJoin(names, ", "), " (files in ", dir,
                                                   "; --config=PATH reads any other)"));
  }
  const std::string path = absl::StrCat(dir, "/", name, ".json");
  ASSIGN_OR_RETURN(nlohmann::json j, LoadPresetJson(path));
  if (!j.is_object() || !j.contains("name") || j["name"] != name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "preset file ", path, ": \"name\" must be \"", name, "\" (the file's name), not ",
        j.is_object() && j.contains("name") ? j["name"].dump() : "absent"));
  }
  return j;
}

absl::StatusOr<Preset> GetPreset(const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json j, GetPresetJson(name));
  return PresetFromJson(j);
}

}  // namespace rnnprune
