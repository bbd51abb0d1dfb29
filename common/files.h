// File helpers shared by every package: whole-file reads and atomic writes, with absl::Status.
#ifndef RNNPRUNE_COMMON_FILES_H_
#define RNNPRUNE_COMMON_FILES_H_

#include <string>

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
absl::Status WriteFileAtomically(absl::string_view path, absl::string_view contents);

// Creates `dir` and its parents (like `mkdir -p`). Errors name the folder and the reason.
absl::Status MakeDirs(absl::string_view dir);

// Returns true when `path` names an existing file or folder.
bool PathExists(absl::string_view path);

// Returns the SHA-256 of `bytes` as 64 lowercase hex digits (FIPS 180-4).
std::string Sha256Hex(absl::string_view bytes);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_FILES_H_
