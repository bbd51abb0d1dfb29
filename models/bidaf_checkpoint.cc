#include "models/bidaf_checkpoint.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/torch_rng.h"
#include "models/archive_writer.h"
#include "models/model_file.h"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

constexpr char kFormat[] = "rnnprune.bidaf.v1";

// The input index of every compacted direction, keyed by direction name ("modelling.0.fw").
std::map<std::string, torch::Tensor> InputIndices(const Bidaf& model) {
  std::map<std::string, torch::Tensor> out;
  for (const BidafLstm* l : model->lstms()) {
    if (l->forward_input.defined()) out[l->name + ".fw"] = l->forward_input;
    if (l->backward_input.defined()) out[l->name + ".bw"] = l->backward_input;
  }
  return out;
}

}  // namespace

absl::StatusOr<Bidaf> CloneBidaf(const Bidaf& model) {
  const torch::Tensor rng_state = CaptureTorchCpuRng();
  Bidaf copy(model->config());
  RestoreTorchCpuRng(rng_state);
  std::map<std::string, torch::Tensor> parameters;
  for (const auto& p : model->named_parameters()) parameters[p.key()] = p.value().detach();
  RETURN_IF_ERROR(copy->SetCompacted(parameters, InputIndices(model)));  // clones
  copy->train(model->is_training());
  return copy;
}

absl::Status SaveBidaf(const Bidaf& model, const std::string& path,
                       const std::string& metadata_json) {
  torch::serialize::OutputArchive archive;
  try {
    WriteModelContents(archive, kFormat, model->config().ToJson(), metadata_json,
                       model->named_parameters());
    for (const auto& [name, index] : InputIndices(model)) {
      archive.write(absl::StrCat("input.", name), index);
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("cannot serialise BiDAF '", path, "': ", e.what_without_backtrace()));
  }
  return WriteArchiveAtomically(archive, path, "BiDAF checkpoint");
}

absl::StatusOr<BidafCheckpoint> LoadBidaf(const std::string& path) {
  try {
    ASSIGN_OR_RETURN(ModelFile file, OpenModelFile(path, kFormat, "BiDAF checkpoint"));
    absl::StatusOr<BidafConfig> cfg = BidafConfig::FromJson(file.config_json);
    if (!cfg.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", cfg.status().message()));
    }
    BidafCheckpoint ckpt;
    {
      // Every drawn value is overwritten below: loading consumes no random numbers.
      const torch::Tensor rng_state = CaptureTorchCpuRng();
      ckpt.model = Bidaf(*cfg);
      RestoreTorchCpuRng(rng_state);
    }
    ckpt.metadata_json = file.metadata_json;
    std::map<std::string, torch::Tensor> parameters, inputs;
    for (const auto& p : ckpt.model->named_parameters()) {
      torch::Tensor t;
      if (!file.archive.try_read(absl::StrCat("param.", p.key()), t)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", path, "': parameter '", p.key(), "' is missing"));
      }
      parameters[p.key()] = t;
    }
    for (const BidafLstm* l : ckpt.model->lstms()) {
      for (const std::string& name : {l->name + ".fw", l->name + ".bw"}) {
        torch::Tensor index;
        if (file.archive.try_read(absl::StrCat("input.", name), index)) inputs[name] = index;
      }
    }
    const absl::Status set = ckpt.model->SetCompacted(parameters, inputs);
    if (!set.ok()) return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", set.message()));
    ckpt.model->eval();
    return ckpt;
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read BiDAF '", path, "' (truncated or corrupt?): ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read BiDAF '", path, "': ", e.what()));
  }
}

}  // namespace rnnprune
