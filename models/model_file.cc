#include "models/model_file.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "models/torch_archive.h"
#include "torch/torch.h"

namespace rnnprune {

void WriteModelContents(torch::serialize::OutputArchive& archive, const std::string& format,
                        const std::string& config_json, const std::string& metadata_json,
                        const torch::OrderedDict<std::string, torch::Tensor>& parameters) {
  archive.write("format", c10::IValue(format));
  archive.write("config", c10::IValue(config_json));
  archive.write("metadata", c10::IValue(metadata_json));
  torch::NoGradGuard no_grad;
  for (const auto& p : parameters) {
    archive.write(absl::StrCat("param.", p.key()), p.value().detach().to(torch::kCPU));
  }
}

absl::StatusOr<ModelFile> OpenModelFile(const std::string& path, const std::string& format,
                                        const std::string& what) {
  if (!PathExists(path)) return absl::NotFoundError(absl::StrCat("no ", what, " at '", path, "'"));
  // The whole file is checked before LibTorch parses it, then handed to LibTorch from memory.
  ASSIGN_OR_RETURN(const std::string bytes, ReadFile(path));
  const absl::Status archive_ok = CheckTorchArchive(bytes);
  if (!archive_ok.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not an rnnprune ", what, ": ", archive_ok.message()));
  }
  ModelFile file;
  file.bytes = bytes.size();
  file.archive.load_from(bytes.data(), bytes.size());
  c10::IValue f, config, metadata;
  if (!file.archive.try_read("format", f) || !f.isString() || f.toStringRef() != format) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not an rnnprune ", what, " (", format, ")"));
  }
  if (!file.archive.try_read("config", config) || !config.isString()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': no config"));
  }
  file.config_json = config.toStringRef();
  file.metadata_json = "{}";
  if (file.archive.try_read("metadata", metadata) && metadata.isString()) {
    file.metadata_json = metadata.toStringRef();
  }
  return file;
}

}  // namespace rnnprune
