// Test support (testonly) for the conformance suites (conformance_test.cc,
// resume_conformance_test.cc): the tiny model and the method settings every registered pruning
// method is run with.
#ifndef RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_
#define RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_

#include <cstdint>

#include "models/lstm_lm.h"
#include "pruning/method.h"
#include "torch/torch.h"

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
  // The default gate rate (0.5, chosen for 400 search steps on PTB) closes a tiny model's
  // gates within these few steps; a slower one keeps L0's network alive here.
  o.given_options["l0_gate_learning_rate"] = "0.02";
  o.sparsity = 0.6;
  o.target_sizes = {7, 6, 5};
  o.given_options["zero_threshold"] = "1e-3";
  return o;
}

// The token stream both suites train on: a repeated pattern of 9 words with 10% noise over
// `vocab` words (1250 tokens; 1200 for training = 37 windows of 8 at batch 4, 50 for
// validation), from a generator of its own (torch's global one is left alone).
inline torch::Tensor ConformanceStream(int64_t vocab) {
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(11);
  const torch::Tensor base = torch::arange(0, 1250, torch::kInt64).remainder(9);
  const torch::Tensor noise = torch::randint(0, vocab, {1250}, gen, torch::kInt64);
  return torch::where(torch::rand({1250}, gen) < 0.1, noise, base);
}

}  // namespace rnnprune

#endif  // RNNPRUNE_BASELINES_CONFORMANCE_FIXTURE_H_
