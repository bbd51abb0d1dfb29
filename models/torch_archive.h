// Checks of a LibTorch archive (the zip file written by torch::serialize::OutputArchive, as in
// SaveLstmLm) made before LibTorch parses it. LibTorch 1.13 does not make them itself: its miniz is
// built without CRC-32 checks, so a corrupt tensor loads with wrong values and no error, and its
// unpickler allocates (and zero-fills) whatever length a string or bytes opcode declares before it
// reads them, so a 4 KB corrupt file can make it allocate gigabytes, and it trusts the element
// count a pickle gives each tensor storage, so a crafted file makes it read past a buffer.
#ifndef RNNPRUNE_MODELS_TORCH_ARCHIVE_H_
#define RNNPRUNE_MODELS_TORCH_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rnnprune {

// Checks the zip archive `bytes`: the end-of-central-directory record (zip64 too, read as
// LibTorch's miniz reads it) and the central directory lie inside the file; every entry is stored
// or deflated, unencrypted, inside the file, with a local header that matches its central entry,
// and its data has the declared sizes and CRC-32; every pickle entry (name ending in ".pkl" or
// "_pkl") passes CheckPickle, its storages being the entries "<dir>/<name>/<key>" next to
// "<dir>/<name>.pkl". Returns InvalidArgument naming the entry and the rule it broke. Reads only
// `bytes`; allocates at most an inflated pickle entry.
absl::Status CheckTorchArchive(absl::string_view bytes);

// Runs `pickle` as LibTorch's unpickler would, on an abstract stack that builds no object, and
// checks what the unpickler trusts: every opcode is known and its argument (a length-prefixed
// string, for one) fits before the end; every opcode finds the values and MARK it pops; memo
// indices are the consecutive ones a pickler writes and reads of them are in range; it ends with
// STOP; and every storage reference ('storage', torch.<T>Storage, key, location, numel) names a
// record of `record_bytes(key)` >= numel * sizeof(T) bytes (-1: no such record). LibTorch 1.13
// checks none of this: a longer claimed storage makes it read past the record's buffer.
// Errors: InvalidArgument naming the opcode's byte offset.
absl::Status CheckPickle(absl::string_view pickle,
                         const std::function<int64_t(const std::string& key)>& record_bytes);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_TORCH_ARCHIVE_H_
