// Test support (testonly) for the conformance suites (conformance_test.cc,
// resume_conformance_test.cc): the tiny model and the method settings every registered pruning
// method is run with.
#ifndef RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_
#define RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_

#include <cstdint>

#include "models/lstm_lm.h"
#include "pruning/method.h"

namespace rnnprune {

// A 2-layer LSTM LM of embedding 12 and hidden sizes 10 and 8 over `vocab` words.
inline LstmLmConfig ConformanceModelConfig(int64_t vocab) {
  LstmLmConfig c;
  c.vocab_size = vocab;
  c.embedding_size = 12;
  c.hidden_sizes = {10, 8};
  c.dropout = 0.1;
  c.init_scale = 0.3;
  return c;
}

// Method options for `config` and `total_steps` training steps. The settings keep every
// method's network alive in a few steps (lambda scales differ per method; that each method
// actually prunes is tested per method in baselines_test.cc and
// pruning/l0_neuron_selection_test.cc); target-size and sparsity methods must prune.
inline MethodOptions ConformanceMethodOptions(const LstmLmConfig& config, int64_t total_steps) {
  MethodOptions o;
  o.config = config;
  o.total_steps = total_steps;
  o.seed = 5;
  o.lambda = 1e-2;
  o.sparsity = 0.6;
  o.target_sizes = {7, 6, 5};
  o.zero_threshold = 1e-3;
  return o;
}

}  // namespace rnnprune

#endif  // RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_
