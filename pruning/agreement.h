// The agreement check: a pruned model that will be timed and evaluated (compacted, or run
// through CSR) must give the perplexity of its reference (the gated model, or the dense model
// with exact zeros) on the first tokens of the validation stream; a gap means compaction or the
// sparse path is wrong.
#ifndef RNNPRUNE_PRUNING_AGREEMENT_H_
#define RNNPRUNE_PRUNING_AGREEMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "nlohmann/json.hpp"
#include "pruning/neuron_mask.h"
#include "torch/types.h"
#include "training/lm_trainer.h"

namespace rnnprune {

// Forward pass through a fixed NeuronMask applied as scaled weights (RunGated): the reference
// a compacted model must match.
class GatedForward : public TrainingHooks {
 public:
  explicit GatedForward(NeuronMask mask) : mask_(std::move(mask)) {}
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override {
    return RunGated(model, mask_, input, state);
  }

 private:
  NeuronMask mask_;
};

// Perplexity of `reference_model` through `reference` hooks and of `pruned` through
// `pruned_hooks` (either may be null: the plain forward) on the first `tokens` of `valid` [N]
// int64 (batch 1, windows of `bptt`, state carried). Returns {"reference": reference_name,
// "tokens", "reference_perplexity", "perplexity"}. Errors: Internal when they differ by more
// than 1e-3 relative, naming `what`, both perplexities and the tokens; EvaluatePerplexity's.
absl::StatusOr<nlohmann::json> CheckAgreement(const std::string& what,
                                              const std::string& reference_name,
                                              LstmLm& reference_model, TrainingHooks* reference,
                                              LstmLm& pruned, TrainingHooks* pruned_hooks,
                                              const torch::Tensor& valid, int64_t bptt,
                                              int64_t tokens = 5000);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_AGREEMENT_H_
