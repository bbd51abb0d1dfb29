// File helpers shared by every package: whole-file reads and atomic writes, with absl::Status.
#ifndef RNNPRUNE_COMMON_FILES_H_
#define RNNPRUNE_COMMON_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rnnprune {

// Reads the whole file at `path` as bytes. Errors: NotFound when it does not exist,
// PermissionDenied / Internal for other I/O failures; each message names the path.
absl::StatusOr<std::string> ReadFile(absl::string_view path);

// Writes `contents` to `path` atomically: writes `path`.tmp.<pid>, fsyncs, then renames over
// `path`, so a reader sees either the old file or the new one, never a half-written file. Creates
// missing parent folders. Errors name the path and the failing call (e.g. "No space left on
// device"); on error the previous file at `path` is untouched and the temporary file is removed.
// After a successful write, temporaries of `path` left by killed processes (`path`.tmp.<pid> of a
// pid that no longer runs on this machine) are removed too.
absl::Status WriteFileAtomically(absl::string_view path, absl::string_view contents);

// Appends bytes to the file being written; returns an error (naming the file) when the write
// fails, e.g. ResourceExhausted for "No space left on device".
using FileAppender = std::function<absl::Status(absl::string_view bytes)>;

// Like WriteFileAtomically, for contents produced piece by piece (e.g. a LibTorch archive,
// without holding all of it in memory): `produce` is called once with an appender that writes to
// the temporary file `path`.tmp.<pid>; once it returns OK, the file is fsynced, renamed over
// `path`, and the folder is fsynced so that the rename itself survives a crash. When `produce`
// or any step fails, the temporary file is removed, the previous file at `path` is untouched,
// and the first error is returned (a killed process may leave `path`.tmp.<pid> behind, never a
// partial `path`).
absl::Status WriteFileAtomicallyWith(
    absl::string_view path, const std::function<absl::Status(const FileAppender&)>& produce);

// An exclusive advisory lock (flock(2)) on a lock file, held until the object is destroyed or the
// process ends (a killed process releases it: no stale lock is left). Move-only.
class FileLock {
 public:
  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // The lock file's path ("" when not holding a lock).
  const std::string& path() const { return path_; }

 private:
  friend absl::StatusOr<FileLock> LockFile(absl::string_view, absl::string_view);
  int fd_ = -1;
  std::string path_;
};

// Takes the lock on `lock_path` (created when missing, with its folders) without waiting, and
// writes this process's pid into it. `user` says what the lock guards, for the message. Errors:
// FailedPrecondition when another process (or another FileLock of this one) holds it, naming the
// file, `user` and the holder's pid; the errors of MakeDirs / open otherwise.
absl::StatusOr<FileLock> LockFile(absl::string_view lock_path, absl::string_view user);

// Creates `dir` and its parents (like `mkdir -p`). Errors name the folder and the reason.
absl::Status MakeDirs(absl::string_view dir);

// Returns true when `path` names an existing file or folder.
bool PathExists(absl::string_view path);

// A temporary file `target_name`.tmp.<pid> of WriteFileAtomically(With) that is still on disk:
// its write is running, or its process was killed mid-write.
struct TemporaryFile {
  std::string path;         // `dir`/`target_name`.tmp.<pid>
  std::string target_name;  // the file being written, without its folder
  int pid = 0;              // the writing process
};

// Every such temporary file in `dir`, by path; empty when there is none or `dir` cannot be read.
std::vector<TemporaryFile> TemporaryFilesIn(const std::string& dir);

// The paths of the files in `dir` whose names start with `prefix` and end with `suffix` (e.g. the
// result records "squad_", ".json"), sorted; empty when there is none or `dir` cannot be read.
std::vector<std::string> FilesIn(const std::string& dir, absl::string_view prefix,
                                 absl::string_view suffix);

// Returns the SHA-256 of `bytes` as 64 lowercase hex digits (FIPS 180-4).
std::string Sha256Hex(absl::string_view bytes);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_FILES_H_
