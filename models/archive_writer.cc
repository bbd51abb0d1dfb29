#include "models/archive_writer.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/files.h"

namespace rnnprune {

absl::Status WriteArchiveAtomically(torch::serialize::OutputArchive& archive,
                                    const std::string& path, const std::string& what) {
  return WriteFileAtomicallyWith(path, [&](const FileAppender& append) -> absl::Status {
    absl::Status write_status;
    try {
      archive.save_to([&](const void* data, size_t n) -> size_t {
        // Never report a short write to LibTorch: it would throw from a destructor.
        if (write_status.ok()) {
          write_status = append(absl::string_view(static_cast<const char*>(data), n));
        }
        return n;
      });
    } catch (const std::exception& e) {  // c10::Error derives from std::exception
      if (!write_status.ok()) return write_status;
      return absl::InternalError(absl::StrCat("cannot write ", what, " '", path, "': ", e.what()));
    }
    return write_status;
  });
}

}  // namespace rnnprune
