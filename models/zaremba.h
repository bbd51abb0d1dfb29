// The named PTB configurations of Zaremba, Sutskever, Vinyals 2014 ("Recurrent Neural Network
// Regularization", arXiv 1409.2329, Section 4.1; values as in the authors' Lua code and the
// TensorFlow PTB tutorial that reproduces it).
#ifndef RNNPRUNE_MODELS_ZAREMBA_H_
#define RNNPRUNE_MODELS_ZAREMBA_H_

#include <string>

#include "absl/status/statusor.h"
#include "models/lstm_lm.h"

namespace rnnprune {

// Plain SGD hyperparameters of a Zaremba et al. run.
struct ZarembaSchedule {
  double learning_rate = 1.0;  // applies to the NLL summed over the BPTT steps, mean over batch
  double lr_decay = 0.5;       // lr of epoch e (1-based) = lr * lr_decay^max(e - decay_after, 0)
  int decay_after_epochs = 4;  // "max_epoch" in the TF tutorial
  int epochs = 13;             // "max_max_epoch"
  double max_grad_norm = 5.0;  // global L2 norm clip
  int batch_size = 20;
  int bptt = 35;  // truncated BPTT length (time steps per window)
};

// A named configuration: architecture plus schedule. (The published perplexities live with the
// reports, in reports/published.h.)
struct ZarembaConfig {
  std::string name;  // "small", "medium" or "large"
  LstmLmConfig model;
  ZarembaSchedule schedule;
};

// Returns "small" (2x200, no dropout, init 0.1, 13 epochs, decay 0.5 after 4, clip 5),
// "medium" (2x650, dropout 0.5, init 0.05, 39 epochs, decay 1/1.2 after 6, clip 5) or
// "large" (2x1500, dropout 0.65, init 0.04, 55 epochs, decay 1/1.15 after 14, clip 10); all with
// lr 1.0, batch 20, BPTT 35 and a 10,000-word vocabulary. Note: Zaremba's small model was
// unrolled for 20 steps; we use 35 for all three (as PyTorch's word_language_model example and
// this project's reference figures do); `bptt` can be overridden by the caller.
// Errors: InvalidArgument for any other name.
absl::StatusOr<ZarembaConfig> GetZarembaConfig(const std::string& name);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_ZAREMBA_H_
