#include "common/run_info.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rnnprune {
namespace {

// Runs a shell command and returns its stdout with surrounding whitespace removed ("" on error).
std::string Capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  if (rc != 0) return "";
  return std::string(absl::StripAsciiWhitespace(out));
}

// `text` as one word of a POSIX shell command: single-quoted, each ' written as '\''.
std::string ShellQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

RunInfo CollectRunInfo(const std::string& source_dir) {
  RunInfo info;
  const std::string git = absl::StrCat("git -C ", ShellQuoted(source_dir), " ");
  info.git_commit = Capture(git + "rev-parse HEAD 2>/dev/null");
  if (info.git_commit.empty()) {
    info.git_commit = "unknown";
  } else if (!Capture(git + "status --porcelain 2>/dev/null").empty()) {
    absl::StrAppend(&info.git_commit, "+dirty");
  }
  info.cpu_model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        info.cpu_model = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
      break;
    }
  }
  info.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  info.blas_coretype = core ? core : "";
  char host[256] = {0};
  info.hostname = ::gethostname(host, sizeof(host) - 1) == 0 ? host : "unknown";
  info.timestamp_utc = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  return info;
}

}  // namespace rnnprune
