// The rows of a global batch that one data-parallel process computes, and random draws that
// depend on it: each process draws the noise of the whole global batch (dropout masks, per-example
// gate noise) from the same seeded generator and keeps its own rows, so that N processes compute
// exactly what one process computes on the whole batch, and their generators stay in step.
#ifndef RNNPRUNE_MODELS_BATCH_SHARE_H_
#define RNNPRUNE_MODELS_BATCH_SHARE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "torch/types.h"

namespace rnnprune {

// Rows [first, first + count) of a global batch of `global` rows. The default (global 0) is the
// whole batch, whatever its size: one process, nothing to share.
struct BatchShare {
  int64_t first = 0;
  int64_t count = 0;
  int64_t global = 0;

  // Whether this is the whole batch (global 0, or first 0 and count == global).
  bool whole() const { return global == 0 || (first == 0 && count == global); }
  // "rows [first, first + count) of global".
  std::string ToString() const;
  // Errors: InvalidArgument when the rows do not lie in [0, global) or count < 1.
  absl::Status Validate() const;
};

// Rank `rank`'s share of `global` rows split over `world_size` ranks: contiguous, in rank order,
// the first global % world_size ranks holding one row more. Requires 0 <= rank < world_size <=
// global (checked: c10::Error).
BatchShare ShareOfRows(int64_t global, int rank, int world_size);

// Inverted dropout (as torch::dropout: keep with probability 1 - p, scale kept values by
// 1 / (1 - p)) of `x`, whose dimension `batch_dim` holds `share`'s rows of the global batch. For
// the whole batch this is torch::dropout(x, p, train), bit for bit; otherwise the mask of the
// global batch (x's sizes with the global row count, contiguous) is drawn from the default
// generator and this share's rows are kept: the same mask, row for row, as one process drawing
// for the whole batch. No-op when !train or p == 0. Throws c10::Error when x's batch dimension
// does not hold share.count rows.
torch::Tensor DropoutForShare(const torch::Tensor& x, double p, bool train, const BatchShare& share,
                              int64_t batch_dim);

// U[0, 1) float32 noise of sizes `local_sizes` whose dimension `batch_dim` holds `share`'s rows:
// torch::rand of the global sizes, this share's rows kept (see DropoutForShare).
torch::Tensor RandForShare(torch::IntArrayRef local_sizes, const BatchShare& share,
                           int64_t batch_dim);

// Puts back a model's batch share (LstmLm, Bidaf: holders with batch_share() and
// set_batch_share()) as it was when the restorer was made, when it goes out of scope: a trainer
// sets its rank's share only while it trains.
template <typename ModelHolder>
class BatchShareRestorer {
 public:
  explicit BatchShareRestorer(ModelHolder& model) : model_(model), before_(model->batch_share()) {}
  ~BatchShareRestorer() { model_->set_batch_share(before_); }
  BatchShareRestorer(const BatchShareRestorer&) = delete;
  BatchShareRestorer& operator=(const BatchShareRestorer&) = delete;

 private:
  ModelHolder& model_;
  BatchShare before_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BATCH_SHARE_H_
