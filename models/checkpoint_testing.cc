#include "models/checkpoint_testing.h"

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/serialize.h"

namespace rnnprune {

RawCheckpoint RawCheckpointOf(const LstmLm& model, const std::string& metadata_json) {
  RawCheckpoint raw;
  raw.format = c10::IValue(std::string("rnnprune.lstm_lm.v1"));
  raw.config = c10::IValue(model->config().ToJson());
  raw.metadata = c10::IValue(metadata_json);
  torch::NoGradGuard no_grad;
  for (const auto& p : model->named_parameters()) {
    raw.params[p.key()] = p.value().detach().to(torch::kCPU).clone();
  }
  return raw;
}

absl::Status WriteRawCheckpoint(const RawCheckpoint& raw, const std::string& path) {
  return CatchTorch(absl::StrCat("WriteRawCheckpoint '", path, "'"), [&]() -> absl::Status {
    torch::serialize::OutputArchive archive;
    if (raw.format) archive.write("format", *raw.format);
    if (raw.config) archive.write("config", *raw.config);
    if (raw.metadata) archive.write("metadata", *raw.metadata);
    for (const auto& [name, tensor] : raw.params) {
      archive.write(absl::StrCat("param.", name), tensor);
    }
    archive.save_to(path);
    return absl::OkStatus();
  });
}

}  // namespace rnnprune
