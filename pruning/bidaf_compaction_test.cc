#include "pruning/bidaf_compaction.h"

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "models/bidaf_checkpoint.h"
#include "models/bidaf_testing.h"
#include "pruning/neuron_gates.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

BidafConfig Tiny() { return bidaf_testing::TinyConfig(); }

// Three questions of different lengths (so that every side is padded somewhere).
BidafBatch Batch(uint32_t seed, const BidafConfig& c) {
  std::mt19937 rng(seed);
  return bidaf_testing::ToBatch({bidaf_testing::RandomExample(&rng, c, 9, 4),
                                 bidaf_testing::RandomExample(&rng, c, 6, 5),
                                 bidaf_testing::RandomExample(&rng, c, 11, 3)});
}

// Gate values: ~40% exactly zero, the rest in [0.1, 1] (deterministic hard concrete gates can be
// fractional); the last one open so that no set closes by chance.
torch::Tensor RandomGates(int64_t n) {
  torch::Tensor v = torch::rand({n}) * 0.9 + 0.1;
  v.masked_fill_(torch::rand({n}) < 0.4, 0.0);
  v[n - 1] = 1.0;
  return v;
}

std::map<std::string, torch::Tensor> Parameters(const Bidaf& model) {
  return ParameterMap(model->named_parameters());
}

NeuronGates RandomNeuronGates(const Bidaf& model) {
  NeuronGates g = NeuronGates::AllOpen(model->PruningLayout(), Parameters(model));
  for (auto* set : {&g.input, &g.hidden}) {
    for (auto& [name, z] : *set) z = RandomGates(z.size(0));
  }
  return g;
}

// got within 1e-5 of want relative to want's largest magnitude, on the real context positions.
void ExpectSameLogits(const BidafOutput& got, const BidafOutput& want, const BidafBatch& batch) {
  const torch::Tensor real = batch.context_mask;
  for (const auto& [g, w, what] : {std::make_tuple(got.start_logits, want.start_logits, "start"),
                                   std::make_tuple(got.end_logits, want.end_logits, "end")}) {
    ASSERT_EQ(g.sizes(), w.sizes()) << what;
    const torch::Tensor gr = g.masked_select(real), wr = w.masked_select(real);
    const double err = (gr - wr).abs().max().item<double>();
    const double scale = wr.abs().max().item<double>();
    EXPECT_LE(err, 1e-5 * scale) << what << " logits: max abs error " << err << " of " << scale;
    EXPECT_TRUE(torch::equal(g.masked_select(~real), w.masked_select(~real))) << what;
  }
}

TEST(BidafPruningLayout, DescribesEveryDirectionAndWhatReadsIt) {
  torch::manual_seed(1);
  Bidaf model(Tiny());
  const LstmPruningLayout layout = model->PruningLayout();
  const auto params = Parameters(model);
  ASSERT_TRUE(layout.Validate(params).ok()) << layout.Validate(params);
  std::vector<std::string> names;
  for (const PrunableLstm& l : layout.lstms) names.push_back(l.name);
  EXPECT_THAT(names, ::testing::ElementsAre("contextual.fw", "contextual.bw", "modelling.0.fw",
                                            "modelling.0.bw", "modelling.1.fw", "modelling.1.bw",
                                            "output.fw", "output.bw"));
  EXPECT_EQ(layout.RunsSize(layout.lstms[0].input, params), 6 + 5);  // the highway outputs
  EXPECT_EQ(layout.RunsSize(layout.lstms[2].input, params), 8 * 7);  // G
  EXPECT_EQ(layout.RunsSize(layout.lstms[6].input, params), 2 * 7);  // M
  ASSERT_EQ(layout.readers.size(), 3u);
  EXPECT_EQ(layout.readers[0].at.parameter, "w_similarity");
  EXPECT_EQ(layout.readers[2].layout.back().space, "output.bw");
}

// The folded gates (ApplyNeuronGates over the layout, the powers included) compute what gating
// the neurons' activations computes (ForwardWithNeuronGates: every output of a direction times
// its z_h, every input times its z_x): the layout's claims about who reads what, at which power,
// checked against the forward pass itself.
TEST(BidafNeuronGates, FoldedIntoTheWeightsTheyEqualGatesOnActivations) {
  for (int seed = 0; seed < 3; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    torch::manual_seed(seed);
    Bidaf model(Tiny());
    model->eval();
    const BidafBatch batch = Batch(static_cast<uint32_t>(seed), Tiny());
    const NeuronGates gates = RandomNeuronGates(model);
    std::vector<BidafLayerGates> per_example;
    const int64_t b = batch.context_words.size(0);
    auto rows = [&](const torch::Tensor& z) { return z.unsqueeze(0).expand({b, z.size(0)}); };
    for (const BidafLstm* l : model->lstms()) {
      per_example.push_back(
          {rows(gates.input.at(l->name + ".fw")), rows(gates.hidden.at(l->name + ".fw")),
           rows(gates.input.at(l->name + ".bw")), rows(gates.hidden.at(l->name + ".bw"))});
    }
    torch::NoGradGuard no_grad;
    ExpectSameLogits(RunGatedBidaf(model, gates, batch),
                     model->ForwardWithNeuronGates(batch, per_example), batch);
  }
}

TEST(CompactBidaf, AllOpenIsTheIdentity) {
  torch::manual_seed(2);
  Bidaf model(Tiny());
  model->eval();
  const NeuronGates open = NeuronGates::AllOpen(model->PruningLayout(), Parameters(model));
  absl::StatusOr<BidafCompaction> c = CompactBidaf(model, open);
  ASSERT_TRUE(c.ok()) << c.status();
  for (const BidafLstm* l : c->model->lstms()) {
    EXPECT_FALSE(l->forward_input.defined()) << l->name;
    EXPECT_FALSE(l->backward_input.defined()) << l->name;
  }
  const BidafBatch batch = Batch(2, Tiny());
  torch::NoGradGuard no_grad;
  ExpectSameLogits(c->model->forward(batch), model->forward(batch), batch);
}

// Random gates on every direction, one direction left with a single hidden unit (a different
// one per seed): the compacted BiDAF's logits equal the gated model's, and it is smaller.
TEST(CompactBidaf, MatchesTheGatedModelWithRandomGates) {
  const std::vector<std::string> single = {"contextual.bw", "modelling.0.fw", "modelling.1.bw",
                                           "output.fw", "contextual.fw"};
  for (int seed = 0; seed < 5; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    torch::manual_seed(seed);
    Bidaf model(Tiny());
    model->eval();
    NeuronGates gates = RandomNeuronGates(model);
    torch::Tensor& one = gates.hidden.at(single[static_cast<size_t>(seed)]);
    one.zero_();
    one[seed % one.size(0)] = 0.7;
    absl::StatusOr<BidafCompaction> c = CompactBidaf(model, gates);
    ASSERT_TRUE(c.ok()) << c.status();
    for (const auto& [name, z] : gates.hidden) {
      EXPECT_EQ(static_cast<int64_t>(c->hidden_units.at(name).size()),
                z.count_nonzero().item<int64_t>())
          << name;
    }
    EXPECT_EQ(c->hidden_units.at(single[static_cast<size_t>(seed)]).size(), 1u);
    int64_t dense = 0, compacted = 0;
    for (const torch::Tensor& p : model->parameters()) dense += p.numel();
    for (const torch::Tensor& p : c->model->parameters()) compacted += p.numel();
    EXPECT_LT(compacted, dense);
    torch::NoGradGuard no_grad;
    for (uint32_t b = 0; b < 2; ++b) {
      const BidafBatch batch = Batch(100 * static_cast<uint32_t>(seed) + b, Tiny());
      ExpectSameLogits(c->model->forward(batch), RunGatedBidaf(model, gates, batch), batch);
    }
  }
}

TEST(CompactBidaf, AClosedDirectionIsAClearError) {
  torch::manual_seed(3);
  Bidaf model(Tiny());
  const NeuronGates open = NeuronGates::AllOpen(model->PruningLayout(), Parameters(model));
  NeuronGates gates = open;
  gates.hidden["output.bw"] = torch::zeros({7});
  EXPECT_THAT(std::string(CompactBidaf(model, gates).status().message()),
              HasSubstr("LSTM 'output.bw': every hidden neuron is closed"));
  gates = open;
  gates.input["contextual.fw"] = torch::zeros({11});
  EXPECT_THAT(std::string(CompactBidaf(model, gates).status().message()),
              HasSubstr("LSTM 'contextual.fw': every input neuron is closed"));
  // Every unit of the contextual layer closed leaves modelling.0 nothing to read.
  gates = open;
  gates.hidden["contextual.fw"] = torch::zeros({7});
  EXPECT_FALSE(CompactBidaf(model, gates).ok());
  gates = open;
  gates.input["modelling.1.bw"] = torch::ones({3});
  EXPECT_THAT(std::string(CompactBidaf(model, gates).status().message()),
              HasSubstr("input gates of LSTM 'modelling.1.bw' must be float32 [14]"));
  gates = open;
  gates.hidden.erase("output.fw");
  EXPECT_FALSE(CompactBidaf(model, gates).ok());
}

// A compacted BiDAF saved and loaded back keeps its sizes and input indices and computes the same
// logits, bit for bit; files that are not whole checkpoints are clear errors.
TEST(BidafCheckpoint, ACompactedModelLoadsBackWithItsShapes) {
  torch::manual_seed(4);
  Bidaf model(Tiny());
  model->eval();
  absl::StatusOr<BidafCompaction> c = CompactBidaf(model, RandomNeuronGates(model));
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string path = dir + "/compacted.pt";
  ASSERT_TRUE(SaveBidaf(c->model, path, R"({"kept": 1})").ok());
  torch::manual_seed(9);
  const torch::Tensor before = torch::rand({1});
  torch::manual_seed(9);
  absl::StatusOr<BidafCheckpoint> loaded = LoadBidaf(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(torch::equal(torch::rand({1}), before));
  EXPECT_EQ(loaded->metadata_json, R"({"kept": 1})");
  for (size_t i = 0; i < c->model->lstms().size(); ++i) {
    const BidafLstm *want = c->model->lstms()[i], *got = loaded->model->lstms()[i];
    EXPECT_EQ(got->forward.w_ih.sizes(), want->forward.w_ih.sizes()) << want->name;
    EXPECT_EQ(got->backward.w_hh.sizes(), want->backward.w_hh.sizes()) << want->name;
    EXPECT_EQ(got->forward_input.defined(), want->forward_input.defined()) << want->name;
    if (want->forward_input.defined()) {
      EXPECT_TRUE(torch::equal(got->forward_input, want->forward_input)) << want->name;
    }
  }
  const BidafBatch batch = Batch(4, Tiny());
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(
      torch::equal(loaded->model->forward(batch).end_logits, c->model->forward(batch).end_logits));

  EXPECT_EQ(LoadBidaf(dir + "/none.pt").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/cut.pt", bytes->substr(0, bytes->size() / 2)).ok());
  absl::StatusOr<BidafCheckpoint> cut = LoadBidaf(dir + "/cut.pt");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("cut.pt"));
}

TEST(BidafCheckpoint, ShapesThatDoNotFitTogetherAreRefused) {
  torch::manual_seed(5);
  Bidaf model(Tiny());
  std::map<std::string, torch::Tensor> wrong = {{"w_end", torch::zeros({3})}};
  EXPECT_THAT(std::string(model->SetCompacted(wrong, {}).message()),
              HasSubstr("w_end must be [70]"));
  Bidaf other(Tiny());
  EXPECT_THAT(
      std::string(other->SetCompacted({}, {{"output.fw", torch::tensor({0, 99})}}).message()),
      HasSubstr("LSTM 'output.fw'"));
  EXPECT_THAT(std::string(other->SetCompacted({}, {{"output.up", torch::tensor({0})}}).message()),
              HasSubstr("'output.up' is not an LSTM direction"));
}

}  // namespace
}  // namespace rnnprune
