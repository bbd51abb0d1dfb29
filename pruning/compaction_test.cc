#include "pruning/compaction.h"

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "pruning/neuron_mask.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig Dense() {
  LstmLmConfig c;
  c.vocab_size = 17;
  c.embedding_size = 6;
  c.hidden_sizes = {7, 5, 4};
  c.dropout = 0.2;
  c.init_scale = 0.5;
  return c;
}

// Random gate values: ~40% exactly zero, the rest in (0, 1] (deterministic hard concrete gates
// can be fractional).
torch::Tensor RandomGates(int64_t n) {
  torch::Tensor v = torch::rand({n}) * 0.9 + 0.1;
  v.masked_fill_(torch::rand({n}) < 0.4, 0.0);
  v[n - 1] = 1.0;  // never close a whole set by chance
  return v;
}

// Logits of the compacted model equal those of the gated model within 1e-5 relative.
void ExpectSameLogits(LstmLm& dense, const NeuronMask& mask, CompactionResult& c) {
  dense->eval();
  auto input = torch::randint(0, 17, {9, 3}, torch::kInt64);
  LstmState s1 = dense->InitialState(3), s2 = c.model->InitialState(3);
  torch::NoGradGuard g;
  // Two windows, so the carried state is checked too.
  for (int w = 0; w < 2; ++w) {
    auto want = RunGated(dense, mask, input, &s1).Logits();
    auto got = c.model->forward(input, &s2);
    const double err = (got - want).abs().max().item<double>();
    const double scale = want.abs().max().item<double>();
    EXPECT_LE(err, 1e-5 * scale) << "window " << w << ": max abs error " << err;
  }
}

TEST(Compaction, MatchesGatedModelWithRandomMasks) {
  for (int seed = 0; seed < 5; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    torch::manual_seed(seed);
    LstmLm dense(Dense());
    NeuronMask mask = NeuronMask::AllOpen(dense->config());
    for (auto& t : mask.input) t = RandomGates(t.size(0));
    for (auto& t : mask.hidden) t = RandomGates(t.size(0));
    auto c = Compact(dense, mask);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->model->config().hidden_sizes, mask.KeptHidden());
    EXPECT_EQ(c->model->config().embedding_size, mask.KeptInputs()[0]);
    EXPECT_LT(c->model->config().NumParameters(), dense->config().NumParameters());
    ExpectSameLogits(dense, mask, *c);
  }
}

TEST(Compaction, InputGateClosedButHiddenUnitOpen) {
  torch::manual_seed(9);
  LstmLm dense(Dense());
  NeuronMask mask = NeuronMask::AllOpen(dense->config());
  mask.input[1][2] = 0.0;  // layer 2 does not read unit 2 of layer 1 ...
  mask.input[1][4] = 0.0;
  mask.hidden[0][5] = 0.0;  // ... and unit 5 of layer 1 is gone altogether
  auto c = Compact(dense, mask);
  ASSERT_TRUE(c.ok()) << c.status();
  const LstmLmConfig& cfg = c->model->config();
  EXPECT_EQ(cfg.hidden_sizes[0], 6);  // units 2 and 4 stay for the recurrence
  EXPECT_EQ(cfg.input_sizes[1], 4);   // layer 2 reads 4 of them
  // Layer 1's units read by layer 2 come first.
  EXPECT_EQ(c->hidden_units[0], (std::vector<int64_t>{0, 1, 3, 6, 2, 4}));
  ExpectSameLogits(dense, mask, *c);
}

TEST(Compaction, AllOpenIsTheIdentity) {
  LstmLm dense(Dense());
  auto c = Compact(dense, NeuronMask::AllOpen(dense->config()));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->model->config().NumParameters(), dense->config().NumParameters());
  ExpectSameLogits(dense, NeuronMask::AllOpen(dense->config()), *c);
}

TEST(Compaction, ClosedLayerIsAClearError) {
  LstmLm dense(Dense());
  NeuronMask mask = NeuronMask::AllOpen(dense->config());
  mask.hidden[1].zero_();
  auto c = Compact(dense, mask);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("LSTM 'lstm1': every hidden neuron"));
  mask = NeuronMask::AllOpen(dense->config());
  mask.input[2].zero_();
  EXPECT_THAT(std::string(Compact(dense, mask).status().message()),
              HasSubstr("LSTM 'lstm2': every input neuron"));
  mask = NeuronMask::AllOpen(dense->config());
  mask.input[0].zero_();
  EXPECT_THAT(std::string(Compact(dense, mask).status().message()), HasSubstr("embedding"));
  mask = NeuronMask::AllOpen(dense->config());
  mask.hidden[0] = torch::ones({3});
  EXPECT_FALSE(Compact(dense, mask).ok());
}

TEST(Compaction, CompactedModelSavesAndLoadsWithItsSizes) {
  torch::manual_seed(4);
  LstmLm dense(Dense());
  NeuronMask mask = NeuronMask::AllOpen(dense->config());
  mask.input[1][0] = 0.0;
  mask.hidden[2][1] = 0.0;
  auto c = Compact(dense, mask);
  ASSERT_TRUE(c.ok());
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/compact.pt";
  ASSERT_TRUE(SaveLstmLm(c->model, path).ok());
  auto back = LoadLstmLm(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model->config().input_sizes, c->model->config().input_sizes);
  EXPECT_EQ(back->model->config().hidden_sizes, c->model->config().hidden_sizes);
  auto input = torch::randint(0, 17, {5, 2}, torch::kInt64);
  LstmState s1 = c->model->InitialState(2), s2 = back->model->InitialState(2);
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::equal(c->model->forward(input, &s1), back->model->forward(input, &s2)));
}

}  // namespace
}  // namespace rnnprune
