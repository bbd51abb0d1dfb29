// Writing a LibTorch archive (torch::serialize::OutputArchive) to a file atomically, with every
// I/O failure (a full disk, EIO) returned as a Status instead of thrown from LibTorch's writer.
#ifndef RNNPRUNE_MODELS_ARCHIVE_WRITER_H_
#define RNNPRUNE_MODELS_ARCHIVE_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "torch/serialize/output-archive.h"

namespace rnnprune {

// Streams `archive` into `path`.tmp.<pid> and renames it over `path` (common/files.h
// WriteFileAtomicallyWith), so `path` is either the previous file or the complete new one.
// LibTorch's stream writer throws from its destructor (std::terminate) when a write callback
// reports a short write; here the callback always accepts the bytes, remembers the first failed
// write and drops the rest, and the failure is returned once LibTorch has finished. On any error
// the temporary file is removed. `what` names the file in messages ("checkpoint", "training
// checkpoint"). Errors: ResourceExhausted for a full disk or quota ("No space left on device"),
// PermissionDenied, Internal for other I/O or serialisation failures; each names the path.
absl::Status WriteArchiveAtomically(torch::serialize::OutputArchive& archive,
                                    const std::string& path, const std::string& what);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_ARCHIVE_WRITER_H_
