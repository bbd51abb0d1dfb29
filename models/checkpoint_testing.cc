#include "models/checkpoint_testing.h"

#include <zlib.h>

#include <cstdint>

#include "absl/strings/match.h"
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

namespace {

uint64_t Le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

}  // namespace

absl::Status EditStoredEntry(std::string* archive, const std::string& name_suffix,
                             const std::function<void(std::string* data)>& edit) {
  std::string& b = *archive;
  if (b.size() < 22) return absl::NotFoundError("no end-of-central-directory record");
  const size_t end = b.size() - 22;
  size_t at = Le(b, end + 16, 4);
  for (uint64_t k = 0; k < Le(b, end + 10, 2) && at + 46 <= end; ++k) {
    const size_t name_len = Le(b, at + 28, 2);
    const std::string name = b.substr(at + 46, name_len);
    if (Le(b, at + 10, 2) == 0 && absl::EndsWith(name, name_suffix)) {
      const size_t local = Le(b, at + 42, 4), size = Le(b, at + 20, 4);
      const size_t data = local + 30 + Le(b, local + 26, 2) + Le(b, local + 28, 2);
      std::string bytes = b.substr(data, size);
      edit(&bytes);
      if (bytes.size() != size) {
        return absl::InvalidArgumentError(absl::StrCat("the edit changed the size of ", name));
      }
      b.replace(data, size, bytes);
      const uint32_t crc = static_cast<uint32_t>(
          crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
      for (int i = 0; i < 4; ++i) b[at + 16 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
      return absl::OkStatus();
    }
    at += 46 + name_len + Le(b, at + 30, 2) + Le(b, at + 32, 2);
  }
  return absl::NotFoundError(absl::StrCat("no stored entry ending in ", name_suffix));
}

}  // namespace rnnprune
