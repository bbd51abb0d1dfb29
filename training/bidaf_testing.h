// For tests of BiDAF training (training/bidaf_trainer.h): six tiny SQuAD questions, a tiny BiDAF
// config for them, and helpers shared by squad_trainer_test and squad_resume_test.
#ifndef RNNPRUNE_TRAINING_BIDAF_TESTING_H_
#define RNNPRUNE_TRAINING_BIDAF_TESTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/squad.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "torch/torch.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {

// Six questions over three paragraphs; q2 has two gold answers.
inline constexpr char kTinySquad[] = R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
  {"context": "The Broncos beat the Panthers 24 to 10 in Santa Clara, California.", "qas": [
    {"id": "q1", "question": "Who beat the Panthers?",
     "answers": [{"answer_start": 4, "text": "Broncos"}]},
    {"id": "q2", "question": "Where was the game played?",
     "answers": [{"answer_start": 42, "text": "Santa Clara, California"},
                 {"answer_start": 42, "text": "Santa Clara"}]}]},
  {"context": "Beyonce was born in Houston, Texas, and rose to fame in the late 1990s.", "qas": [
    {"id": "q3", "question": "Where was Beyonce born?",
     "answers": [{"answer_start": 20, "text": "Houston, Texas"}]},
    {"id": "q4", "question": "When did she become famous?",
     "answers": [{"answer_start": 60, "text": "late 1990s"}]}]},
  {"context": "Oxygen is a chemical element with symbol O and atomic number 8.", "qas": [
    {"id": "q5", "question": "What is the symbol of oxygen?",
     "answers": [{"answer_start": 41, "text": "O"}]},
    {"id": "q6", "question": "What is the atomic number of oxygen?",
     "answers": [{"answer_start": 61, "text": "8"}]}]}]}]})";

// A tiny training set with a BiDAF config that fits it (dropout 0; set it to use the RNG).
struct TinyTask {
  std::vector<SquadExample> examples;
  BidafConfig config;
};

// The examples of `json` (SQuAD v1.1 format; vocabularies built from it, words cut to 8
// characters) and a tiny BiDAF config (d 8, one highway and one modelling layer) for them.
// Failures are reported as test failures (EXPECT), leaving `examples` empty.
inline TinyTask MakeTinyTask(const std::string& json = kTinySquad) {
  TinyTask task;
  absl::StatusOr<SquadDataset> data = ParseSquad(json, "tiny");
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return task;
  const SquadVocab words = BuildWordVocab(*data, 1), chars = BuildCharVocab(*data, 1);
  absl::StatusOr<std::vector<SquadExample>> examples = MakeSquadExamples(*data, words, chars, 8);
  EXPECT_TRUE(examples.ok()) << examples.status();
  if (examples.ok()) task.examples = *examples;
  task.config.word_vocab_size = words.size();
  task.config.char_vocab_size = chars.size();
  task.config.word_dim = 8;
  task.config.char_dim = 4;
  task.config.char_channels = 8;
  task.config.char_kernel_width = 3;
  task.config.hidden_size = 8;
  task.config.highway_layers = 1;
  task.config.modelling_layers = 1;
  task.config.dropout = 0.0;
  return task;
}

// A fresh model drawn after torch::manual_seed(seed), on one thread (bit-identical runs).
inline Bidaf MakeModel(const BidafConfig& config, uint64_t seed) {
  torch::set_num_threads(1);
  torch::manual_seed(seed);
  return Bidaf(config);
}

// `options` with its progress lines dropped.
inline BidafTrainOptions Quiet(BidafTrainOptions options) {
  options.log = [](const std::string&) {};
  return options;
}

// Deep copies of every parameter, in parameters() order.
inline std::vector<torch::Tensor> Snapshot(const Bidaf& model) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& p : model->parameters()) out.push_back(p.detach().clone());
  return out;
}

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_BIDAF_TESTING_H_
