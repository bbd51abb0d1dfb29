// Compaction of BiDAF on real SQuAD dev questions (issue 16, item 3): a BiDAF trained for a few
// steps on the first dev questions, random gates on every LSTM direction; the compacted model's
// start and end logits equal the gated model's within 1e-5 relative and its predictions, exact
// match and F1 are identical. Skipped when the dev set is not available.
#include <algorithm>
#include <string>
#include <vector>

#include "common/data_dir.h"
#include "datasets/squad.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "pruning/bidaf_compaction.h"
#include "pruning/neuron_gates.h"
#include "torch/torch.h"
#include "training/bidaf_trainer.h"
#include "training/squad_batch.h"

namespace rnnprune {
namespace {

// Gates: ~40% exactly zero, the rest in [0.1, 1], the last one open.
torch::Tensor RandomGates(int64_t n) {
  torch::Tensor v = torch::rand({n}) * 0.9 + 0.1;
  v.masked_fill_(torch::rand({n}) < 0.4, 0.0);
  v[n - 1] = 1.0;
  return v;
}

TEST(BidafCompactionOnDev, LogitsAndScoresOfTheCompactedModelAreTheGatedModels) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  absl::StatusOr<SquadDataset> dev = LoadSquad(data + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok()) << dev.status();
  const SquadVocab words = BuildWordVocab(*dev, 1), chars = BuildCharVocab(*dev, 1);
  absl::StatusOr<std::vector<SquadExample>> all = MakeSquadExamples(*dev, words, chars, 16);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_GE(all->size(), 600u);
  const std::vector<SquadExample> train(all->begin(), all->begin() + 400);
  const std::vector<SquadExample> eval(all->begin() + 400, all->begin() + 600);

  torch::manual_seed(5);
  BidafConfig config;
  config.word_vocab_size = words.size();
  config.char_vocab_size = chars.size();
  config.word_dim = 20;
  config.char_dim = 8;
  config.char_channels = 10;
  config.hidden_size = 12;
  config.freeze_word_embedding = false;
  Bidaf model(config);
  BidafTrainOptions train_options;
  train_options.epochs = 1;
  train_options.max_steps_per_epoch = 20;
  train_options.batch_size = 20;
  train_options.optimizer = "adam";
  train_options.ema_decay = 0;
  ASSERT_TRUE(TrainBidaf(model, train, train_options).ok());
  model->eval();

  NeuronGates gates =
      NeuronGates::AllOpen(model->PruningLayout(), ParameterMap(model->named_parameters()));
  for (auto* set : {&gates.input, &gates.hidden}) {
    for (auto& [name, z] : *set) z = RandomGates(z.size(0));
  }
  gates.hidden["modelling.1.bw"].zero_();
  gates.hidden["modelling.1.bw"][3] = 0.6;  // a direction reduced to one unit
  absl::StatusOr<BidafCompaction> compacted = CompactBidaf(model, gates);
  ASSERT_TRUE(compacted.ok()) << compacted.status();

  torch::NoGradGuard no_grad;
  for (size_t from = 0; from < eval.size(); from += 40) {
    std::vector<int64_t> indices;
    for (size_t i = from; i < std::min(eval.size(), from + 40); ++i) {
      indices.push_back(static_cast<int64_t>(i));
    }
    absl::StatusOr<BidafBatch> batch = MakeBidafBatch(eval, indices);
    ASSERT_TRUE(batch.ok()) << batch.status();
    const BidafOutput want = RunGatedBidaf(model, gates, *batch);
    const BidafOutput got = compacted->model->forward(*batch);
    for (const auto& [g, w] : {std::make_pair(got.start_logits, want.start_logits),
                               std::make_pair(got.end_logits, want.end_logits)}) {
      const torch::Tensor real = batch->context_mask;
      const double err = (g.masked_select(real) - w.masked_select(real)).abs().max().item<double>();
      const double scale = w.masked_select(real).abs().max().item<double>();
      EXPECT_LE(err, 1e-5 * scale) << "questions from " << from;
    }
  }

  // The gated model as a BiDAF of the dense sizes: the gates folded into its own weights.
  for (const auto& [name, t] :
       ApplyNeuronGates(model->PruningLayout(), ParameterMap(model->named_parameters()), gates)) {
    model->named_parameters()[name].copy_(t);
  }
  absl::StatusOr<BidafEvalResult> gated = EvaluateBidaf(model, eval, 32, 30);
  absl::StatusOr<BidafEvalResult> small = EvaluateBidaf(compacted->model, eval, 32, 30);
  ASSERT_TRUE(gated.ok()) << gated.status();
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_GT(gated->f1, 0);  // trained enough to predict some overlap
  EXPECT_EQ(small->predictions, gated->predictions);
  EXPECT_EQ(small->exact_match, gated->exact_match);
  EXPECT_EQ(small->f1, gated->f1);
}

}  // namespace
}  // namespace rnnprune
