#include "common/files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnprune {
namespace {

absl::Status ErrnoError(absl::string_view what, absl::string_view path, int err) {
  const std::string msg = absl::StrCat(what, " '", path, "': ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:  // the file size limit (RLIMIT_FSIZE) or the file system's
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// Removes `dir`/`base`.tmp.<pid> files whose pid is not a running process (left by a process
// killed while writing `base`). Best effort: errors are ignored.
void RemoveStaleTemporaries(const std::string& dir, const std::string& base) {
  for (const TemporaryFile& t : TemporaryFilesIn(dir)) {
    if (t.target_name != base || t.pid == ::getpid()) continue;
    if (::kill(t.pid, 0) != 0 && errno == ESRCH) {
      std::error_code ec;
      std::filesystem::remove(t.path, ec);
    }
  }
}

}  // namespace

std::vector<std::string> FilesIn(const std::string& dir, absl::string_view prefix,
                                 absl::string_view suffix) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (absl::StartsWith(name, prefix) && absl::EndsWith(name, suffix)) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<TemporaryFile> TemporaryFilesIn(const std::string& dir) {
  std::vector<TemporaryFile> found;
  std::error_code ec;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    int pid = 0;
    if (at == std::string::npos || at == 0 ||
        !absl::SimpleAtoi(absl::string_view(name).substr(at + 5), &pid) || pid <= 0) {
      continue;
    }
    found.push_back({e.path().string(), name.substr(0, at), pid});
  }
  std::sort(found.begin(), found.end(),
            [](const TemporaryFile& a, const TemporaryFile& b) { return a.path < b.path; });
  return found;
}

absl::StatusOr<std::string> ReadFile(absl::string_view path) {
  const std::string p(path);
  std::ifstream in(p, std::ios::binary);
  if (!in) return ErrnoError("cannot open", path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return ErrnoError("cannot read", path, errno);
  return ss.str();
}

absl::Status MakeDirs(absl::string_view dir) {
  const std::filesystem::path d{std::string(dir)};
  if (d.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(d, ec);
  // create_directories fails with EEXIST when a file stands where a folder should.
  if (ec && ec != std::errc::file_exists) {
    return ErrnoError("cannot create folder", dir, ec.value());
  }
  if (!std::filesystem::is_directory(d, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("'", dir, "' exists and is not a folder"));
  }
  return absl::OkStatus();
}

bool PathExists(absl::string_view path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path{std::string(path)}, ec);
}

absl::Status WriteFileAtomically(absl::string_view path, absl::string_view contents) {
  return WriteFileAtomicallyWith(
      path, [contents](const FileAppender& append) { return append(contents); });
}

absl::Status WriteFileAtomicallyWith(
    absl::string_view path, const std::function<absl::Status(const FileAppender&)>& produce) {
  const std::string target(path);
  const size_t slash = target.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : target.substr(0, slash));
  if (slash != std::string::npos && slash > 0) {
    absl::Status s = MakeDirs(dir);
    if (!s.ok()) return s;
  }
  const std::string tmp = absl::StrCat(target, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp, errno);
  const FileAppender append = [fd, &tmp](absl::string_view bytes) -> absl::Status {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("cannot write", tmp, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  };
  absl::Status status = produce(append);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot fsync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("cannot close", tmp, errno);
  if (status.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
    status = ErrnoError("cannot rename temporary file onto", target, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // Make the rename durable: fsync the folder that holds the new directory entry (some file
  // systems answer EINVAL: they cannot sync folders, and there is nothing more to do).
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoError("cannot open folder", dir, errno);
  const bool synced = ::fsync(dir_fd) == 0;
  const int err = errno;
  ::close(dir_fd);
  if (!synced && err != EINVAL) return ErrnoError("cannot fsync folder", dir, err);
  RemoveStaleTemporaries(dir, slash == std::string::npos ? target : target.substr(slash + 1));
  return absl::OkStatus();
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
  other.path_.clear();
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
    other.path_.clear();
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

absl::StatusOr<FileLock> LockFile(absl::string_view lock_path, absl::string_view user) {
  const std::string path(lock_path);
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    absl::Status s = MakeDirs(path.substr(0, slash));
    if (!s.ok()) return s;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open lock file", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {0};
    if (::pread(fd, buf, sizeof(buf) - 1, 0) > 0) {
      holder = absl::StrCat(" (pid ", absl::StripAsciiWhitespace(buf), ")");
    }
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat(user, " is in use by another run", holder, ": '", path,
                       "' is locked; wait for that run to end, or give this one other folders"));
    }
    return ErrnoError("cannot lock", path, err);
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError("cannot write lock file", path, err);
  }
  FileLock lock;
  lock.fd_ = fd;
  lock.path_ = path;
  return lock;
}

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

}  // namespace rnnprune
