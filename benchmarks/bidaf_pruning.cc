#include "benchmarks/bidaf_pruning.h"

#include <utility>

#include "common/status_macros.h"
#include "models/bidaf_checkpoint.h"
#include "pruning/bidaf_compaction.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

int64_t Count(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const torch::Tensor& t : tensors) n += t.numel();
  return n;
}

int64_t LstmParameters(const Bidaf& model) {
  int64_t n = 0;
  for (const BidafLstm* l : model->lstms()) {
    for (const LstmLayerWeights* w : {&l->forward, &l->backward}) {
      n += Count({w->w_ih, w->w_hh, w->b_ih, w->b_hh});
    }
  }
  return n;
}

// The compacted model of `model` under the plan's final gates.
absl::StatusOr<Bidaf> Compacted(Bidaf& model, BidafPruningPlan& plan, BidafPruningOutcome* out) {
  ASSIGN_OR_RETURN(out->gates, plan.final_gates(model->View()));
  ASSIGN_OR_RETURN(BidafCompaction c, CompactBidaf(model, out->gates));
  for (const auto& [name, units] : c.hidden_units) {
    out->kept_hidden[name] = static_cast<int64_t>(units.size());
  }
  out->kept_inputs = c.kept_inputs;
  return c.model;
}

}  // namespace

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
  const bool searches = plan.hooks != nullptr && !plan.fixed_at_start;
  if (!searches) recovery.epochs = plan.search.epochs + plan.recovery.epochs;  // one budget
  if (searches) {
    BidafTrainOptions search = plan.search;
    search.hooks = plan.hooks;
    search.validation = recovery.validation;
    ASSIGN_OR_RETURN(out.search, TrainBidaf(model, train, search));
  }
  if (plan.final_gates) {
    ASSIGN_OR_RETURN(model, Compacted(model, plan, &out));
    model->train();
  }
  ASSIGN_OR_RETURN(out.recovery, TrainBidaf(model, train, recovery));
  ASSIGN_OR_RETURN(out.eval,
                   EvaluateBidaf(model, eval, plan.eval_batch_size, plan.max_answer_tokens));
  out.lstm_parameters = LstmParameters(model);
  out.parameters = Count(model->parameters());
  model->eval();
  out.model = model;
  return out;
}

}  // namespace rnnprune
