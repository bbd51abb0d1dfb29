#include "fuzz/fuzz_util.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace rnnprune {
namespace {

std::string* temp_dirs_root = nullptr;

void RemoveTempDirs() {
  if (temp_dirs_root == nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(*temp_dirs_root, ignored);
}

}  // namespace

std::string MakeFuzzTempDir(const std::string& name) {
  if (temp_dirs_root == nullptr) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/rnnprune_fuzz.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    temp_dirs_root = new std::string(pattern);
    std::atexit(RemoveTempDirs);
  }
  const std::string dir = *temp_dirs_root + "/" + name;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), error.message().c_str());
    std::abort();
  }
  return dir;
}

}  // namespace rnnprune
