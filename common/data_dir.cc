#include "common/data_dir.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace rnnprune {

std::string WorkspaceRoot() {
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws != nullptr && *ws != '\0') return ws;
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) != nullptr) return buf;
  return ".";
}

std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (cwd == nullptr || *cwd == '\0') return path;
  return absl::StrCat(cwd, "/", path);
}

absl::StatusOr<std::string> ResolveDataDir(const std::string& flag_value) {
  if (!flag_value.empty()) {
    if (!PathExists(flag_value)) {
      return absl::NotFoundError(absl::StrCat("--data_dir='", flag_value, "' does not exist"));
    }
    return flag_value;
  }
  const char* env = std::getenv("RNNPRUNE_DATA");
  if (env != nullptr && *env != '\0') {
    if (!PathExists(env)) {
      return absl::NotFoundError(absl::StrCat("RNNPRUNE_DATA='", env, "' does not exist"));
    }
    return std::string(env);
  }
  const std::string shared = WorkspaceRoot() + "/../shared/data";
  if (PathExists(shared)) return shared;
  return absl::NotFoundError(
      absl::StrCat("no data folder: --data_dir is empty, RNNPRUNE_DATA is unset and '", shared,
                   "' does not exist; run tools/fetch_data.sh or point one of them at the data"));
}

std::string TestDataDir(const std::string& relative_file) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return "";
  const std::string dir = absl::StrCat(srcdir, "/rnnprune_data");
  return PathExists(dir + "/" + relative_file) ? dir : "";
}

}  // namespace rnnprune
