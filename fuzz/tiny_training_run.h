// The tiny run behind //fuzz:training_checkpoint_fuzzer: the model config and training options
// its seeds (fuzz/corpus/training_checkpoint_fuzzer, made by
// //fuzz:make_training_checkpoint_corpus) were written with, so that the fuzzer's restore step
// gets past the structure checks for inputs close to a seed.
#ifndef RNNPRUNE_FUZZ_TINY_TRAINING_RUN_H_
#define RNNPRUNE_FUZZ_TINY_TRAINING_RUN_H_

#include "models/lstm_lm.h"
#include "training/lm_trainer.h"

namespace rnnprune {

// Vocabulary 7, embedding 3, hidden sizes 4 and 2: 2 LSTM layers, 275 parameters.
inline LstmLmConfig TinyTrainingConfig() {
  LstmLmConfig c;
  c.vocab_size = 7;
  c.embedding_size = 3;
  c.hidden_sizes = {4, 2};
  c.dropout = 0.1;
  c.init_scale = 0.1;
  return c;
}

// 2 epochs of 3 windows (batch 2, BPTT 4), a checkpoint after every step; plain SGD.
inline TrainOptions TinyTrainingOptions() {
  TrainOptions o;
  o.schedule.epochs = 2;
  o.schedule.decay_after_epochs = 1;
  o.schedule.batch_size = 2;
  o.schedule.bptt = 4;
  o.schedule.learning_rate = 0.5;
  o.max_steps_per_epoch = 3;
  o.eval_each_epoch = false;
  o.checkpoint_every_steps = 1;
  o.config_hash = "fuzz-seed";
  o.log = [](const std::string&) {};
  return o;
}

}  // namespace rnnprune

#endif  // RNNPRUNE_FUZZ_TINY_TRAINING_RUN_H_
