// The one protocol every pruning method is run with, so that methods differ only in what they
// choose to remove (issue 14): a budget of T = S + M optimizer steps from the same starting
// model, on the same windows of training data, at the same learning rates.
//
//  * Search phase, S steps: the method's own training (its gates, penalties, pruning schedule)
//    through its TrainingHooks, then Finish gives the final structure.
//  * Recovery phase, M steps: plain fine-tuning of exactly the network that will be deployed,
//    with no penalty and no gates:
//      - structured methods (a NeuronMask): the model is compacted (pruning/compaction.h) after
//        the search, and the compacted dense model is what gets the M steps; the agreement
//        check (gated model == compacted model) runs before them;
//      - unstructured methods (weight masks): the weights that are exactly 0 after the search
//        stay 0 through the M steps (the mask is final after S steps);
//      - the dense control (no structure): M more plain steps, T in all.
//  * Methods whose structure is fixed at the start (PruningMethod::StructureFixedAtStart:
//    structured magnitude, random removal) choose it from the starting model, are compacted at
//    once (agreement checked), and the compacted model trains for both phases: all T steps.
//
// The recovery phase reads the training windows that follow the search phase's, so every
// method sees the same T windows. Each phase seeds torch's generator from the seed (dropout,
// gate noise) and can be resumed after a kill: the search phase from its training checkpoint,
// then its outcome (<base>.searched.pt: the model the recovery starts from and what the search
// found), then the recovery phase from its own training checkpoint. On one thread a resumed
// run ends bit-identical to an uninterrupted one.
#ifndef RNNPRUNE_PRUNING_PROTOCOL_H_
#define RNNPRUNE_PRUNING_PROTOCOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"
#include "models/zaremba.h"
#include "nlohmann/json.hpp"
#include "pruning/method.h"
#include "torch/types.h"
#include "training/lm_trainer.h"

namespace rnnprune {

// One phase of training: its schedule (learning rate, epochs, decay, batch size, BPTT, clip)
// and which windows of the training split each epoch reads (TrainOptions' fields).
struct PhaseOptions {
  ZarembaSchedule schedule;
  int64_t max_steps_per_epoch = 0;  // 0: every window from first_window on
  int64_t first_window = 0;
};

// The phase of `steps` optimizer steps that starts at window `offset` (counted over the stream
// of windows, wrapping at the end of the split's `windows`), as PhaseOptions fields: either
// part of one epoch (offset mod windows + steps <= windows) or whole epochs from a split's
// start. Errors: InvalidArgument naming the values when neither fits (steps < 1 included).
absl::StatusOr<PhaseOptions> LayOutPhase(const ZarembaSchedule& schedule, int64_t steps,
                                         int64_t offset, int64_t windows);

struct ProtocolOptions {
  PhaseOptions search;
  PhaseOptions recovery;
  // Hooks' Diagnostics() every this many search steps (TrainOptions); 0: at the end only.
  int64_t diagnostics_every_steps = 100;
  // The agreement check's tokens: the first this-many of the validation stream, batch 1.
  int64_t agreement_tokens = 5000;
  // Files of the run: <checkpoint_base>.search.train.ckpt, <checkpoint_base>.searched.pt and
  // <checkpoint_base>.recovery.train.ckpt (ProtocolFiles); empty: none, no resume.
  std::string checkpoint_base;
  int64_t checkpoint_every_steps = 0;  // as TrainOptions
  bool resume = false;                 // continue from the files above when they exist
  std::string config_hash;             // required with checkpoint_base (TrainOptions)
  uint64_t seed = 1;
  std::function<void(const std::string&)> log;  // progress lines (stderr when empty)
};

// What the protocol produced.
struct ProtocolResult {
  // The model to evaluate and deploy: compacted (structured), dense with exact zeros
  // (unstructured), or dense (no structure); eval mode.
  LstmLm model{nullptr};
  bool structured = false;
  // Structured: the kept sizes, as NeuronMask::KeptInputs / KeptHidden of the final mask.
  std::vector<int64_t> kept_input_sizes, kept_hidden_sizes;
  // Unstructured: the final masks of the LSTM weight matrices (true = kept), as
  // PruningStructure::weight_masks; the model's weights are exactly 0 where they are false.
  std::map<std::string, torch::Tensor> weight_masks;
  TrainResult search;    // the search phase (its diagnostics included)
  TrainResult recovery;  // the recovery phase
  // Structured: {"reference", "tokens", "reference_perplexity", "perplexity"} of the agreement
  // check; null otherwise.
  nlohmann::json agreement;
  // Non-empty when the structure left no network (a layer with every neuron closed): the
  // reason; `model` is then null and there was no recovery phase.
  std::string collapsed;
  bool search_reused = false;  // the search phase's outcome was read back from its file
};

// Runs `method` (created for `start`'s config) on `start` (the dense parent, or a fresh model;
// not modified: the phases train copies) with `train_ids` / `valid_ids` [N] int64 (valid only
// for the agreement check). Errors: those of Train (bad options, divergence, checkpoints of
// another config hash), of the method (Begin, Finish, an invalid structure), Internal when the
// compacted model disagrees with the gated one by more than 1e-3 relative perplexity (naming
// both), and I/O errors naming the file; a searched-model file of another config hash is
// FailedPrecondition (the file is left as it is).
absl::StatusOr<ProtocolResult> RunPruningProtocol(const LstmLm& start, PruningMethod& method,
                                                  const torch::Tensor& train_ids,
                                                  const torch::Tensor& valid_ids,
                                                  const ProtocolOptions& options);

// The files RunPruningProtocol writes under `checkpoint_base` (to remove once the run's result
// is safely recorded).
std::vector<std::string> ProtocolFiles(const std::string& checkpoint_base);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_PROTOCOL_H_
