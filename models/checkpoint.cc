#include "models/checkpoint.h"

#include <cstdint>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/torch_rng.h"
#include "models/archive_writer.h"
#include "models/model_file.h"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

constexpr char kFormat[] = "rnnprune.lstm_lm.v1";

}  // namespace

absl::Status SaveLstmLm(const LstmLm& model, const std::string& path,
                        const std::string& metadata_json) {
  torch::serialize::OutputArchive archive;
  try {
    WriteModelContents(archive, kFormat, model->config().ToJson(), metadata_json,
                       model->named_parameters());
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("cannot serialise checkpoint '", path, "': ", e.what_without_backtrace()));
  }
  return WriteArchiveAtomically(archive, path, "checkpoint");
}

absl::StatusOr<LstmLmCheckpoint> LoadLstmLm(const std::string& path) {
  try {
    ASSIGN_OR_RETURN(ModelFile file, OpenModelFile(path, kFormat, "LSTM LM checkpoint"));
    auto cfg = LstmLmConfig::FromJson(file.config_json);
    if (!cfg.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", cfg.status().message()));
    }
    // Every parameter is stored in the file, so a config needing more than the file holds is
    // corrupt: refused before the model is allocated.
    if (static_cast<uint64_t>(cfg->NumParameters()) > file.bytes / sizeof(float)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", path, "': the config needs ", cfg->NumParameters(),
          " float32 parameters, more than the file's ", file.bytes, " bytes can hold"));
    }
    LstmLmCheckpoint ckpt;
    {
      // The module's initialisation draws from torch's global generator, and every draw is
      // overwritten below: put the generator back, so that loading consumes no random numbers.
      const torch::Tensor rng_state = CaptureTorchCpuRng();
      ckpt.model = LstmLm(*cfg);
      RestoreTorchCpuRng(rng_state);
    }
    ckpt.metadata_json = file.metadata_json;
    torch::NoGradGuard no_grad;
    for (auto& p : ckpt.model->named_parameters()) {
      torch::Tensor t;
      if (!file.archive.try_read(absl::StrCat("param.", p.key()), t)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", path, "': parameter '", p.key(), "' is missing"));
      }
      if (!t.sizes().equals(p.value().sizes()) || t.scalar_type() != p.value().scalar_type()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", path, "': parameter '", p.key(), "' has shape ", c10::str(t.sizes()),
                         " ", c10::toString(t.scalar_type()), ", the config needs ",
                         c10::str(p.value().sizes()), " ", c10::toString(p.value().scalar_type())));
      }
      p.value().copy_(t);
    }
    ckpt.model->eval();
    return ckpt;
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read checkpoint '", path,
                     "' (truncated or corrupt?): ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read checkpoint '", path, "': ", e.what()));
  }
}

}  // namespace rnnprune
