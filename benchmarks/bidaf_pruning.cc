#include "benchmarks/bidaf_pruning.h"

#include <utility>

#include "common/status_macros.h"
#include "models/bidaf_checkpoint.h"
#include "pruning/bidaf_compaction.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// The compacted model of `model` under `gates`, its kept sizes in `out`.
absl::StatusOr<Bidaf> Compacted(Bidaf& model, BidafPruningOutcome* out) {
  ASSIGN_OR_RETURN(BidafCompaction c, CompactBidaf(model, out->gates));
  for (const auto& [name, units] : c.hidden_units) {
    out->kept_hidden[name] = static_cast<int64_t>(units.size());
  }
  out->kept_inputs = c.kept_inputs;
  return c.model;
}

}  // namespace

int64_t CountParameters(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const torch::Tensor& t : tensors) n += t.numel();
  return n;
}

int64_t BidafLstmParameters(const Bidaf& model) {
  int64_t n = 0;
  for (const BidafLstm* l : model->lstms()) {
    for (const LstmLayerWeights* w : {&l->forward, &l->backward}) {
      n += CountParameters({w->w_ih, w->w_hh, w->b_ih, w->b_hh});
    }
  }
  return n;
}

int64_t BidafLstmNonZeroParameters(const Bidaf& model) {
  int64_t n = 0;
  for (const BidafLstm* l : model->lstms()) {
    for (const LstmLayerWeights* w : {&l->forward, &l->backward}) {
      for (const torch::Tensor& t : {w->w_ih, w->w_hh, w->b_ih, w->b_hh}) {
        n += t.ne(0).sum().item<int64_t>();
      }
    }
  }
  return n;
}

absl::StatusOr<BidafPruningOutcome> RunBidafPruning(const Bidaf& parent,
                                                    const std::vector<SquadExample>& train,
                                                    const std::vector<SquadExample>& validation,
                                                    const std::vector<SquadExample>& eval,
                                                    BidafPruningPlan plan) {
  BidafPruningOutcome out;
  ASSIGN_OR_RETURN(Bidaf model, CloneBidaf(parent));
  BidafTrainOptions recovery = plan.recovery;
  recovery.hooks = nullptr;
  recovery.validation = validation.empty() ? nullptr : &validation;
  ModelMethod* method = plan.method;
  if (method != nullptr) {
    PrunableModelView view = model->View();
    RETURN_IF_ERROR(method->Begin(view));
  }
  const bool searches = method != nullptr && !method->StructureFixedAtStart();
  if (!searches) recovery.epochs = plan.search.epochs + plan.recovery.epochs;  // one budget
  if (searches) {
    BidafTrainOptions search = plan.search;
    search.hooks = method;
    search.validation = recovery.validation;
    ASSIGN_OR_RETURN(out.search, TrainBidaf(model, train, search));
  }
  std::optional<HeldWeightMasks> held;
  if (method != nullptr) {
    ASSIGN_OR_RETURN(out.gates, method->FinalGates(model->View()));
    ASSIGN_OR_RETURN(out.weight_masks, method->FinalWeightMasks(model->View()));
    if (!out.weight_masks.empty()) {
      RETURN_IF_ERROR(ApplyWeightMasks(out.weight_masks, model->View().parameters));
      held.emplace(out.weight_masks);
      recovery.hooks = &*held;
    } else if (!out.gates.hidden.empty()) {
      ASSIGN_OR_RETURN(model, Compacted(model, &out));
      model->train();
    }
  }
  ASSIGN_OR_RETURN(out.recovery, TrainBidaf(model, train, recovery));
  if (!eval.empty()) {
    ASSIGN_OR_RETURN(out.eval,
                     EvaluateBidaf(model, eval, plan.eval_batch_size, plan.max_answer_tokens));
  }
  out.lstm_parameters = BidafLstmParameters(model);
  out.lstm_nonzero_parameters = BidafLstmNonZeroParameters(model);
  int64_t masked = 0, pruned = 0;
  for (const auto& [name, mask] : out.weight_masks) {
    masked += mask.numel();
    pruned += mask.logical_not().sum().item<int64_t>();
  }
  if (masked > 0) out.lstm_weight_sparsity = static_cast<double>(pruned) / masked;
  out.parameters = CountParameters(model->parameters());
  model->eval();
  out.model = model;
  return out;
}

}  // namespace rnnprune
