#include "pruning/neuron_groups.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "models/bidaf_testing.h"
#include "models/lstm_lm.h"
#include "pruning/lstm_compaction.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_mask.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

LstmLmConfig Lm() {
  LstmLmConfig c;
  c.vocab_size = 11;
  c.embedding_size = 4;
  c.hidden_sizes = {5, 3};
  return c;
}

BidafConfig Tiny() {
  BidafConfig c = bidaf_testing::TinyConfig();
  c.hidden_size = 4;
  return c;
}

// Over the LM's layout the group sizes are the weights of its gates' L0 terms (CountGateWeights,
// from the sizes alone). (IssGroupSquaredNorms and the other LM rankings of pruning/method.h are
// these groups; baselines_test checks them against weights summed by hand.)
TEST(NeuronGroups, OnTheLanguageModelTheyCountItsGateWeights) {
  LstmLm model(Lm());
  const auto params = ParameterMap(model->named_parameters());
  const NeuronGroupValues sizes = NeuronGroupSizes(model->PruningLayout(), params);
  const GateWeightCounts counts = CountGateWeights(model->config());
  for (int l = 0; l < 2; ++l) {
    const std::string name = "lstm" + std::to_string(l);
    EXPECT_TRUE(torch::all(sizes.input.at(name) == counts.input[l]).item<bool>()) << name;
    EXPECT_TRUE(torch::all(sizes.hidden.at(name) == counts.hidden[l]).item<bool>()) << name;
  }
}

// Each group is exactly what compaction removes when its gate alone closes: the parameters
// lost, in number and in squared norm, for every gate of a small BiDAF and of the LM.
void ExpectGroupsAreWhatCompactionRemoves(const LstmPruningLayout& layout,
                                          const std::map<std::string, torch::Tensor>& params) {
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(layout, params);
  const NeuronGroupValues sizes = NeuronGroupSizes(layout, params);
  auto totals = [](const std::map<std::string, torch::Tensor>& p) {
    int64_t n = 0;
    double sq = 0;
    for (const auto& [name, t] : p) {
      n += t.numel();
      sq += t.pow(2).sum().item<double>();
    }
    return std::make_pair(n, sq);
  };
  const auto dense = totals(params);
  const NeuronGates open = NeuronGates::AllOpen(layout, params);
  for (const bool hidden : {false, true}) {
    for (const auto& [name, z] : hidden ? open.hidden : open.input) {
      for (int64_t k = 0; k < z.size(0); ++k) {
        NeuronGates gates = open;
        torch::Tensor& closed = hidden ? gates.hidden.at(name) : gates.input.at(name);
        closed = closed.clone();
        closed[k] = 0;
        absl::StatusOr<CompactedParameters> c = CompactParameters(layout, params, gates);
        ASSERT_TRUE(c.ok()) << c.status();
        const auto left = totals(c->parameters);
        const auto& size = hidden ? sizes.hidden.at(name) : sizes.input.at(name);
        const auto& norm = hidden ? norms.hidden.at(name) : norms.input.at(name);
        EXPECT_EQ(dense.first - left.first, size[k].item<int64_t>())
            << name << (hidden ? " hidden " : " input ") << k;
        EXPECT_NEAR(dense.second - left.second, norm[k].item<double>(), 1e-4)
            << name << (hidden ? " hidden " : " input ") << k;
      }
    }
  }
}

TEST(NeuronGroups, AreWhatCompactionRemovesFromBidaf) {
  torch::manual_seed(2);
  Bidaf model(Tiny());
  const LstmPruningLayout layout = model->PruningLayout();
  ExpectGroupsAreWhatCompactionRemoves(layout, ParameterMap(model->named_parameters()));
  // The contextual layer's unit k, by hand: rows 4 (D + d) + 8 biases, its w_hh column less
  // the 4 counted (4d - 4), four columns of each modelling.0 direction (2 x 4 x 4d), and the
  // readers' positions (3 in w_similarity, 4 in w_start, 4 in w_end).
  const NeuronGroupValues sizes = NeuronGroupSizes(layout, ParameterMap(model->named_parameters()));
  const int64_t d = 4, e = 11;
  EXPECT_EQ(sizes.hidden.at("contextual.fw")[0].item<int64_t>(),
            4 * (e + d) + 8 + (4 * d - 4) + 2 * 4 * 4 * d + 3 + 4 + 4);
  // A highway output has no producer to remove: only the column.
  EXPECT_EQ(sizes.input.at("contextual.bw")[0].item<int64_t>(), 4 * d);
}

TEST(NeuronGroups, AreWhatCompactionRemovesFromTheLanguageModel) {
  torch::manual_seed(3);
  LstmLm model(Lm());
  ExpectGroupsAreWhatCompactionRemoves(model->PruningLayout(),
                                       ParameterMap(model->named_parameters()));
}

}  // namespace
}  // namespace rnnprune
