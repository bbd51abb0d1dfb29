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

// Without biases and lookups the groups count the LM's multiply-adds per token.
TEST(NeuronGroups, OnTheLanguageModelTheyCountItsMultiplyAdds) {
  LstmLm model(Lm());
  const NeuronGroupValues adds =
      NeuronGroupMultiplyAdds(model->PruningLayout(), ParameterMap(model->named_parameters()));
  const GateWeightCounts counts = CountGateMultiplyAdds(model->config());
  for (int l = 0; l < 2; ++l) {
    const std::string name = "lstm" + std::to_string(l);
    EXPECT_TRUE(torch::all(adds.input.at(name) == counts.input[l]).item<bool>()) << name;
    EXPECT_TRUE(torch::all(adds.hidden.at(name) == counts.hidden[l]).item<bool>()) << name;
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

// The LM's ISS group norms and proximal scaling as they were written for the LM alone (before
// the layout), kept here as the reference: the generic functions over the LM's layout must give
// the same values bit for bit, so that PTB runs of earlier versions are reproduced exactly.
std::vector<torch::Tensor> LmIssNormsAsWritten(const LstmLm& model) {
  std::vector<torch::Tensor> norms;
  const int64_t layers = model->num_layers();
  for (int64_t l = 0; l < layers; ++l) {
    const LstmLayerWeights& w = model->layer(l);
    const int64_t h = w.w_hh.size(1);
    torch::Tensor rows = w.w_ih.pow(2).view({4, h, -1}).sum(std::vector<int64_t>{0, 2}) +
                         w.w_hh.pow(2).view({4, h, h}).sum(std::vector<int64_t>{0, 2}) +
                         w.b_ih.pow(2).view({4, h}).sum(0) + w.b_hh.pow(2).view({4, h}).sum(0);
    torch::Tensor diagonal = w.w_hh.view({4, h, h}).diagonal(0, 1, 2).pow(2).sum(0);
    torch::Tensor column = w.w_hh.pow(2).sum(0) - diagonal;
    torch::Tensor consumer = l + 1 < layers ? model->layer(l + 1).w_ih.pow(2).sum(0)
                                            : model->decoder_weight().pow(2).sum(0);
    norms.push_back((rows + column + consumer).clamp_min(0));
  }
  return norms;
}

void LmIssScaleAsWritten(LstmLm& model, const std::vector<torch::Tensor>& scales) {
  torch::NoGradGuard no_grad;
  const int64_t layers = model->num_layers();
  for (int64_t l = 0; l < layers; ++l) {
    const torch::Tensor& scale = scales[static_cast<size_t>(l)];
    LstmLayerWeights& w = model->mutable_layer(l);
    const int64_t h = w.w_hh.size(1);
    const torch::Tensor rows = scale.repeat({4});
    w.w_ih.mul_(rows.unsqueeze(1));
    w.w_hh.mul_(rows.unsqueeze(1));
    w.b_ih.mul_(rows);
    w.b_hh.mul_(rows);
    torch::Tensor column = scale.unsqueeze(0).expand({4 * h, h}).clone();
    column.view({4, h, h}).diagonal(0, 1, 2).fill_(1.0);
    w.w_hh.mul_(column);
    if (l + 1 < layers) {
      model->mutable_layer(l + 1).w_ih.mul_(scale.unsqueeze(0));
    } else {
      model->decoder_weight().mul_(scale.unsqueeze(0));
    }
  }
}

TEST(NeuronGroups, OnTheLanguageModelTheyAreItsIssArithmeticBitForBit) {
  torch::manual_seed(7);
  LstmLm a(Lm()), b = CloneLstmLm(a);
  const NeuronGroupValues norms =
      NeuronGroupSquaredNorms(a->PruningLayout(), ParameterMap(a->named_parameters()));
  const std::vector<torch::Tensor> want = LmIssNormsAsWritten(a);
  EXPECT_TRUE(torch::equal(norms.hidden.at("lstm0"), want[0]));
  EXPECT_TRUE(torch::equal(norms.hidden.at("lstm1"), want[1]));
  const std::vector<torch::Tensor> scales = {torch::rand({5}), torch::rand({3})};
  ScaleHiddenGroups(a->PruningLayout(), ParameterMap(a->named_parameters()),
                    {{"lstm0", scales[0]}, {"lstm1", scales[1]}});
  LmIssScaleAsWritten(b, scales);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
  }
}

// On BiDAF, scaling a unit's group by 0 zeroes exactly the weights compaction removes with it.
TEST(NeuronGroups, ScalingAGroupByZeroZeroesWhatItsGateRemoves) {
  torch::manual_seed(8);
  Bidaf model(Tiny());
  const LstmPruningLayout layout = model->PruningLayout();
  const auto params = ParameterMap(model->named_parameters());
  const NeuronGroupValues sizes = NeuronGroupSizes(layout, params);
  int64_t zeros_before = 0;
  for (const torch::Tensor& t : GroupedTensors(layout, params)) {
    zeros_before += t.eq(0).sum().item<int64_t>();
  }
  torch::Tensor scale = torch::ones({4});
  scale[2] = 0;
  ScaleHiddenGroups(layout, params, {{"contextual.bw", scale}});
  int64_t zeros_after = 0;
  for (const torch::Tensor& t : GroupedTensors(layout, params)) {
    zeros_after += t.eq(0).sum().item<int64_t>();
  }
  EXPECT_EQ(zeros_after - zeros_before, sizes.hidden.at("contextual.bw")[2].item<int64_t>());
}

}  // namespace
}  // namespace rnnprune
