// Presets of the main job (`bazel run //benchmarks:all -- --preset=NAME`): how much of each
// Zaremba et al. 2014 schedule to run, the pruning methods and their protocol, BiDAF's sizes and
// schedule, the speed task's options. The built-in presets are files (benchmarks/presets/*.json,
// read by benchmarks/preset_files.h); this struct is their C++ form and its defaults are what a
// field absent from a file takes.
#ifndef RNNPRUNE_BENCHMARKS_PRESETS_H_
#define RNNPRUNE_BENCHMARKS_PRESETS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace rnnprune {

struct Preset {
  std::string name;
  std::string description;  // one line for --help and the README
  // Seed of every random number of the job (--seed sets it too): the same seed on one thread
  // gives the same numbers. A list of seeds in a preset file is a sweep (one run per seed).
  int seed = 1;
  std::vector<std::string> configs;  // Zaremba configs trained ("small", "medium", "large")
  int epochs = 0;                    // 0: the published schedule's epochs
  int decay_after_epochs = 0;        // 0: the published schedule's; else lr decays after this epoch
  int64_t max_steps_per_epoch = 0;   // 0: whole epochs
  std::string budget;                // wall time of the PTB stage on 2 cores, as measured
  // Pruning methods (pruning/method.h), each run on the dense checkpoint with the same
  // protocol and budget: the default --methods list and, per method, its settings (lambdas per
  // epoch of training tokens, or sparsities; methods not listed here use their registered
  // defaults; target-size methods use the sizes the L0 runs reached).
  std::vector<std::string> methods;
  std::map<std::string, std::vector<std::string>> settings;  // as in --settings
  // Target sizes "E:H1:H2" or "E:I2:H1:H2" for every size-taking method without its own entry
  // in `settings` (empty: the sizes the L0 runs reach).
  std::vector<std::string> target_sizes;
  // The pruning protocol (pruning/protocol.h), the same for every method: a search phase of S
  // optimizer steps (the method's own training) at a constant search_learning_rate, then a
  // recovery phase of M steps (plain fine-tuning of the final network) at a constant
  // recovery_learning_rate, on the training windows that follow. Each phase is given in steps
  // (*_steps) or in whole epochs of the training split (*_epochs > 0; the other must be 0).
  int64_t search_steps = 0;
  int search_epochs = 0;
  int64_t recovery_steps = 0;
  int recovery_epochs = 0;
  double search_learning_rate = 0.25;
  double recovery_learning_rate = 0.25;
  // Gate statistics (and any method's Diagnostics) every this many search steps.
  int64_t diagnostics_every_steps = 100;
  // > 0: the pruned models' valid/test perplexities use only the first this-many tokens (smoke
  // only; labelled in the results). 0: whole splits.
  int64_t max_eval_tokens = 0;
  int timing_repeats = 50;  // inference timing: median of this many calls
  // Task "speed" (benchmarks/speed_suite.h): Google Benchmark's minimum time per benchmark (s),
  // the thread counts, and a cap on the parameters of the shapes timed (0: every shape).
  double speed_min_time = 0.2;
  std::vector<int> speed_threads = {1, 2};
  int64_t speed_max_parameters = 0;
  // Task "squad" (benchmarks/squad_task.h): BiDAF's sizes (models/bidaf_config.h) and training
  // schedule (Seo et al. 2017, Section 4: d = 100, batch 60, 12 epochs, AdaDelta lr 0.5, EMA
  // 0.999), and how many evaluation (and validation) questions are scored (0: all).
  int64_t squad_hidden_size = 100;
  int64_t squad_word_dim = 100;
  int64_t squad_char_channels = 100;
  int squad_epochs = 12;
  int64_t squad_max_steps_per_epoch = 0;  // 0: whole epochs
  int64_t squad_batch_size = 60;
  std::string squad_optimizer = "adadelta";
  // Drop probability on the character CNN's, every LSTM's and the output layer's inputs
  // (models/bidaf_config.h; the paper's 0.2, Section 4).
  double squad_dropout = 0.2;
  double squad_learning_rate = 0.5;
  int64_t squad_max_eval_questions = 0;
  // Longest answer the span decoding may return, in tokens (0: no cap, the paper's decoding).
  int64_t squad_max_answer_tokens = 0;
  // The word vocabulary: "train", the words of the training articles (every other word is
  // <unk>, a row no training step updates); "all", the words of the training, validation and
  // evaluation articles, each with a row of its own, so that a word met only outside training
  // keeps a distinct (random or GloVe) vector that the attention can still match between
  // question and context, as the GloVe rows of dev words do in the paper. Only text is read for
  // it, never an answer.
  std::string squad_word_vocabulary = "train";
  // Whether the word embedding is trained: "auto", fixed when at least half of the vocabulary
  // comes from GloVe (the paper keeps its GloVe rows fixed) and trained otherwise; "fixed", never
  // updated (random rows stay random: every word keeps a distinct vector that training cannot
  // fit to the training articles); "trained", updated by every step.
  std::string squad_word_embedding = "auto";
  // How word rows without a GloVe vector are drawn: "uniform", U(-0.1, 0.1); "normal", N(0, 1),
  // PyTorch's nn.Embedding default, the scale a from-scratch embedding has, so that rows no
  // training step reaches (words met only outside training) stay on the trained rows' scale.
  std::string squad_random_word_rows = "uniform";
  // Decay of the weights' moving average used for evaluation (0: off). The paper's 0.999
  // averages over ~1,000 steps and starts from the initial weights: runs of a few hundred steps
  // need a shorter window.
  double squad_ema_decay = 0.999;
  std::string squad_budget;  // wall time of the squad task on 2 cores, as measured
  // BiDAF pruning (benchmarks/squad_pruning.h; issue 16), run from the squad task's trained
  // parent with the protocol of benchmarks/bidaf_pruning.h: the methods (model-agnostic forms,
  // pruning/model_method.h; empty: no pruning runs), each kLambda method's lambdas per epoch of
  // training questions (a batch's loss adds lambda / training questions times the penalty), and
  // the budget: squad_search_epochs of the method's search, then squad_recovery_epochs of
  // fine-tuning the compacted network, at the parent's optimizer, learning rate and batch size.
  // Methods taking sizes (structured magnitude, random) run at every L0 run's kept sizes.
  std::vector<std::string> squad_methods;
  std::map<std::string, std::vector<std::string>> squad_settings;
  int squad_search_epochs = 2;
  int squad_recovery_epochs = 1;
};

// Checks the fields whose values form a closed set or a range: the name ([a-z0-9_]+, it is part
// of file names), the SQuAD word vocabulary and embedding, optimizer, epochs, batch size,
// learning rates, EMA decay, the pruning protocol's learning rates and phase lengths. Errors:
// InvalidArgument naming the field, the value and the rule (e.g. "squad_epochs=0 must be >= 1").
absl::Status ValidatePreset(const Preset& p);

// Whether `name` may name a preset: non-empty [a-z0-9_]+ (it is part of file names).
bool IsValidPresetName(const std::string& name);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PRESETS_H_
