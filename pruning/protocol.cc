#include "pruning/protocol.h"

#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/checkpoint.h"
#include "pruning/agreement.h"
#include "pruning/compaction.h"
#include "pruning/lm_form.h"
#include "pruning/model_method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

std::string SearchCheckpoint(const std::string& base) { return base + ".search.train.ckpt"; }
std::string SearchedModel(const std::string& base) { return base + ".searched.pt"; }
std::string RecoveryCheckpoint(const std::string& base) { return base + ".recovery.train.ckpt"; }

TrainOptions PhaseTrainOptions(const PhaseOptions& phase, const ProtocolOptions& o,
                               const std::string& checkpoint) {
  TrainOptions to;
  to.schedule = phase.schedule;
  to.max_steps_per_epoch = phase.max_steps_per_epoch;
  to.first_window = phase.first_window;
  to.eval_each_epoch = false;
  to.log = o.log;
  if (!o.checkpoint_base.empty()) {
    to.checkpoint_path = checkpoint;
    to.checkpoint_every_steps = o.checkpoint_every_steps;
    to.resume = o.resume;
    to.config_hash = o.config_hash;
  }
  return to;
}

// What the search phase leaves for the recovery phase, besides the model.
struct Searched {
  ProtocolResult result;  // structure, search stats, agreement (model unset)
  bool has_weight_masks = false;
};

json SearchedToJson(const Searched& s, const std::string& config_hash) {
  const ProtocolResult& r = s.result;
  return {{"format", "rnnprune.searched_model"},
          {"config_hash", config_hash},
          {"structured", r.structured},
          {"has_weight_masks", s.has_weight_masks},
          {"kept_input_sizes", r.kept_input_sizes},
          {"kept_hidden_sizes", r.kept_hidden_sizes},
          {"agreement", r.agreement},
          {"search", TrainResultToJson(r.search)}};
}

absl::StatusOr<Searched> SearchedFromJson(const std::string& text, const std::string& path) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&path](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("searched model '", path, "': ", why, " (delete it to search again)"));
  };
  if (!j.is_object() || j.value("format", "") != "rnnprune.searched_model") {
    return bad("its metadata is not that of a searched model");
  }
  try {
    Searched s;
    s.result.structured = j.at("structured").get<bool>();
    s.has_weight_masks = j.at("has_weight_masks").get<bool>();
    s.result.kept_input_sizes = j.at("kept_input_sizes").get<std::vector<int64_t>>();
    s.result.kept_hidden_sizes = j.at("kept_hidden_sizes").get<std::vector<int64_t>>();
    s.result.agreement = j.at("agreement");
    absl::StatusOr<TrainResult> search = TrainResultFromJson(j.at("search"));
    if (!search.ok()) return bad(std::string(search.status().message()));
    s.result.search = *std::move(search);
    return s;
  } catch (const json::exception& e) {
    return bad(absl::StrCat("malformed metadata: ", e.what()));
  }
}

// Compacts `model` under `mask` into `out`, with the agreement check; a mask that leaves no
// network sets out->collapsed and returns OK.
absl::Status CompactChecked(LstmLm& model, const NeuronMask& mask, const torch::Tensor& valid,
                            int64_t bptt, const ProtocolOptions& o, ProtocolResult* out,
                            LstmLm* compacted) {
  out->structured = true;
  out->kept_input_sizes = mask.KeptInputs();
  out->kept_hidden_sizes = mask.KeptHidden();
  absl::StatusOr<CompactionResult> c = Compact(model, mask);
  // Compact's "every ... neuron is closed" errors mean no network is left; others are bugs.
  if (!c.ok() && absl::StrContains(c.status().message(), "is closed")) {
    out->collapsed = std::string(c.status().message());
    return absl::OkStatus();
  }
  if (!c.ok()) return c.status();
  GatedForward gated(mask);
  ASSIGN_OR_RETURN(
      out->agreement,
      CheckAgreement("compaction", "gated model (neuron mask as scaled weights)", model, &gated,
                     c->model, nullptr, valid, bptt, o.agreement_tokens));
  *compacted = c->model;
  return absl::OkStatus();
}

// The search phase: Begin, the method's training (or, for a structure fixed at the start, the
// compacted model's), Finish and compaction. Leaves the model the recovery starts from in
// `*next` (null when the structure collapsed).
absl::StatusOr<Searched> Search(const LstmLm& start, PruningMethod& method,
                                const torch::Tensor& train_ids, const torch::Tensor& valid_ids,
                                const ProtocolOptions& o, LstmLm* next) {
  Searched s;
  LstmLm model = CloneLstmLm(start);
  const int64_t bptt = o.search.schedule.bptt;
  RETURN_IF_ERROR(method.Begin(model));
  const bool fixed = method.StructureFixedAtStart();
  TrainingHooks plain;
  TrainingHooks* hooks = &method;
  if (fixed) {
    ASSIGN_OR_RETURN(PruningStructure structure, method.Finish(model));
    RETURN_IF_ERROR(ValidateStructure(model, structure));
    if (!structure.structured) {
      return absl::InvalidArgumentError("a structure fixed at the start must be structured");
    }
    LstmLm compacted{nullptr};
    RETURN_IF_ERROR(
        CompactChecked(model, structure.neurons, valid_ids, bptt, o, &s.result, &compacted));
    if (!s.result.collapsed.empty()) return s;
    model = compacted;
    hooks = &plain;
  }
  if (o.search.schedule.epochs > 0) {
    o.log(absl::StrFormat("search phase: %s", fixed ? "the compacted model (structure fixed "
                                                      "at the start)"
                                                    : "the method's own training"));
    torch::manual_seed(o.seed);
    TrainOptions to = PhaseTrainOptions(o.search, o, SearchCheckpoint(o.checkpoint_base));
    to.diagnostics_every_steps = o.diagnostics_every_steps;
    ASSIGN_OR_RETURN(s.result.search, Train(model, train_ids, torch::Tensor(), to, hooks));
  }
  if (!fixed) {
    ASSIGN_OR_RETURN(PruningStructure structure, method.Finish(model));
    RETURN_IF_ERROR(ValidateStructure(model, structure));
    if (structure.structured) {
      LstmLm compacted{nullptr};
      RETURN_IF_ERROR(
          CompactChecked(model, structure.neurons, valid_ids, bptt, o, &s.result, &compacted));
      if (!s.result.collapsed.empty()) return s;
      model = compacted;
    }
    s.has_weight_masks = structure.has_weight_masks();
  }
  *next = model;
  return s;
}

}  // namespace

absl::StatusOr<PhaseOptions> LayOutPhase(const ZarembaSchedule& schedule, int64_t steps,
                                         int64_t offset, int64_t windows) {
  if (steps < 1 || offset < 0 || windows < 1) {
    return absl::InvalidArgumentError(absl::StrCat("a phase of ", steps, " steps from window ",
                                                   offset, " of ", windows,
                                                   ": steps must be >= 1"));
  }
  PhaseOptions p;
  p.schedule = schedule;
  const int64_t first = offset % windows;
  if (first + steps <= windows) {
    p.schedule.epochs = 1;
    p.first_window = first;
    p.max_steps_per_epoch = steps;
    return p;
  }
  if (first == 0 && steps % windows == 0) {
    p.schedule.epochs = static_cast<int>(steps / windows);
    return p;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "a phase of ", steps, " steps from window ", offset, " cannot be laid out on ", windows,
      " windows per epoch: it must fit in what is left of one epoch, or be whole epochs "
      "starting at an epoch's first window"));
}

std::vector<std::string> ProtocolFiles(const std::string& base) {
  return {SearchCheckpoint(base), SearchedModel(base), RecoveryCheckpoint(base)};
}

absl::StatusOr<ProtocolResult> RunPruningProtocol(const LstmLm& start, PruningMethod& method,
                                                  const torch::Tensor& train_ids,
                                                  const torch::Tensor& valid_ids,
                                                  const ProtocolOptions& options) {
  ProtocolOptions o = options;
  if (!o.log) o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  const bool files = !o.checkpoint_base.empty();
  const std::string searched_path = SearchedModel(o.checkpoint_base);
  Searched searched;
  LstmLm model{nullptr};
  if (files && o.resume && PathExists(searched_path)) {
    ASSIGN_OR_RETURN(LstmLmCheckpoint loaded, LoadLstmLm(searched_path));
    ASSIGN_OR_RETURN(searched, SearchedFromJson(loaded.metadata_json, searched_path));
    const json meta = json::parse(loaded.metadata_json);
    if (meta.value("config_hash", "") != o.config_hash) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to resume from searched model '", searched_path, "': it was made with ",
          "config hash ", meta.value("config_hash", ""), ", this run has config hash ",
          o.config_hash, " (delete the file or pass its configuration)"));
    }
    searched.result.search_reused = true;
    model = loaded.model;
    o.log(absl::StrCat("search phase: done before, read back from ", searched_path));
  } else {
    ASSIGN_OR_RETURN(searched, Search(start, method, train_ids, valid_ids, o, &model));
    if (!searched.result.collapsed.empty()) return searched.result;
    if (files) {
      RETURN_IF_ERROR(
          SaveLstmLm(model, searched_path, SearchedToJson(searched, o.config_hash).dump()));
      std::remove(SearchCheckpoint(o.checkpoint_base).c_str());
    }
  }
  ProtocolResult r = std::move(searched.result);
  TrainingHooks plain;
  std::unique_ptr<HeldWeightMasks> held;
  std::unique_ptr<LmHooksOf> held_on_lm;
  if (searched.has_weight_masks) {
    // Every LSTM weight that is exactly 0 when the recovery starts is held at 0 (the search's
    // final mask).
    held = std::make_unique<HeldWeightMasks>(NonZeroWeightMasks(LmView(model)));
    held_on_lm = std::make_unique<LmHooksOf>(held.get());
  }
  if (o.recovery.schedule.epochs > 0) {
    o.log("recovery phase: plain fine-tuning of the final network");
    torch::manual_seed(o.seed + 1);
    TrainOptions to = PhaseTrainOptions(o.recovery, o, RecoveryCheckpoint(o.checkpoint_base));
    ASSIGN_OR_RETURN(r.recovery,
                     Train(model, train_ids, torch::Tensor(), to,
                           held_on_lm ? static_cast<TrainingHooks*>(held_on_lm.get()) : &plain));
  }
  if (held) r.weight_masks = held->masks();
  model->eval();
  r.model = model;
  return r;
}

}  // namespace rnnprune
