#include "pruning/lstm_compaction.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/lstm_lm.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_mask.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LstmLmConfig Dense() {
  LstmLmConfig c;
  c.vocab_size = 13;
  c.embedding_size = 5;
  c.hidden_sizes = {6, 4};
  return c;
}

torch::Tensor Gates(std::vector<float> v) { return torch::tensor(v); }

TEST(LstmPruningLayout, TheLanguageModelDescribesItsLayers) {
  LstmLm model(Dense());
  const LstmPruningLayout layout = model->PruningLayout();
  const auto params = ParameterMap(model->named_parameters());
  ASSERT_TRUE(layout.Validate(params).ok()) << layout.Validate(params);
  ASSERT_EQ(layout.lstms.size(), 2u);
  EXPECT_EQ(layout.lstms[1].name, "lstm1");
  EXPECT_EQ(layout.lstms[1].input[0].space, "lstm0");
  EXPECT_EQ(layout.SpaceSize("embedding", params), 5);
  EXPECT_EQ(layout.SpaceSize("lstm0", params), 6);
  EXPECT_EQ(layout.SpaceSize("nothing", params), -1);
}

TEST(LstmPruningLayout, BadDescriptionsAreClearErrors) {
  LstmLm model(Dense());
  const auto params = ParameterMap(model->named_parameters());
  auto message = [&](const LstmPruningLayout& layout) {
    return std::string(layout.Validate(params).message());
  };
  LstmPruningLayout layout = model->PruningLayout();
  layout.lstms[1].input[0].space = "lstm7";
  EXPECT_THAT(message(layout), HasSubstr("reads space 'lstm7', which the layout does not have"));
  layout = model->PruningLayout();
  layout.lstms[1].input[0].power = 3;
  EXPECT_THAT(message(layout), HasSubstr("power 3; it must be 1 or 2"));
  layout = model->PruningLayout();
  layout.lstms[1].input.push_back({"embedding", 1});  // w_ih has 6 columns, not 11
  EXPECT_THAT(message(layout), HasSubstr("dimension 1 of 'lstm1_w_ih' [16, 6] must have 11"));
  layout = model->PruningLayout();
  layout.lstms[0].w_hh = "lstm0_w_ih";
  EXPECT_THAT(message(layout), HasSubstr("LSTM 'lstm0'"));
  layout = model->PruningLayout();
  layout.readers[0].at.parameter = "decoder.gone";
  EXPECT_THAT(message(layout), HasSubstr("'decoder.gone' is not a parameter"));
  layout = model->PruningLayout();
  layout.lstms[1].name = "lstm0";
  EXPECT_THAT(message(layout), HasSubstr("used twice"));
}

TEST(NeuronGates, ValidateNamesTheLstmAndTheRule) {
  LstmLm model(Dense());
  const LstmPruningLayout layout = model->PruningLayout();
  const auto params = ParameterMap(model->named_parameters());
  NeuronGates gates = NeuronGates::AllOpen(layout, params);
  EXPECT_TRUE(gates.Validate(layout, params).ok());
  gates.hidden["lstm1"] = torch::ones({3});
  EXPECT_THAT(std::string(gates.Validate(layout, params).message()),
              HasSubstr("hidden gates of LSTM 'lstm1' must be float32 [4]"));
  gates = NeuronGates::AllOpen(layout, params);
  gates.input["lstm0"][2] = 1.5;
  EXPECT_THAT(std::string(gates.Validate(layout, params).message()),
              HasSubstr("input gates of LSTM 'lstm0' must lie in [0, 1]"));
  gates = NeuronGates::AllOpen(layout, params);
  gates.input.erase("lstm0");
  EXPECT_FALSE(gates.Validate(layout, params).ok());
}

// The generic gating over the LM's layout is the LM's own (ApplyNeuronMask), tensor for tensor.
TEST(NeuronGates, OnTheLanguageModelTheyAreItsNeuronMask) {
  torch::manual_seed(3);
  LstmLm model(Dense());
  NeuronMask mask = NeuronMask::AllOpen(model->config());
  for (auto* set : {&mask.input, &mask.hidden}) {
    for (torch::Tensor& t : *set) {
      t = torch::rand({t.size(0)});
      t.masked_fill_(t < 0.3, 0.0);
    }
  }
  const GatedWeights want = ApplyNeuronMask(model, mask);
  const auto got = ApplyNeuronGates(model->PruningLayout(), ParameterMap(model->named_parameters()),
                                    ToNeuronGates(mask));
  EXPECT_EQ(got.size(), 5u);  // two w_ih, two w_hh, the decoder
  for (int l = 0; l < 2; ++l) {
    const std::string p = "lstm" + std::to_string(l) + "_";
    EXPECT_TRUE(torch::allclose(got.at(p + "w_ih"), want.layers[l].w_ih)) << l;
    EXPECT_TRUE(torch::allclose(got.at(p + "w_hh"), want.layers[l].w_hh)) << l;
  }
  EXPECT_TRUE(torch::allclose(got.at("decoder.weight"), want.decoder_weight));
}

// A hand-made model with what the LM lacks: a free space without producers (all its neurons
// stay, in order), an LSTM read twice by another (at powers 1 and 2) and a reader with an
// offset. Checks sizes, orders, input positions and folded scales against values worked out by
// hand.
TEST(CompactParameters, FollowsTheLayoutOfAnyModel) {
  std::map<std::string, torch::Tensor> p;
  p["a_w_ih"] = torch::arange(8 * 3, torch::kFloat).view({8, 3});  // H_a = 2, reads x (3)
  p["a_w_hh"] = torch::ones({8, 2});
  p["a_b_ih"] = torch::arange(8, torch::kFloat);
  p["a_b_hh"] = torch::zeros({8});
  p["b_w_ih"] = torch::ones({4, 4});  // H_b = 1, reads [a^1; a^2]
  p["b_w_hh"] = torch::ones({4, 1});
  p["b_b_ih"] = torch::zeros({4});
  p["b_b_hh"] = torch::zeros({4});
  p["head"] = torch::arange(1 + 2 + 1, torch::kFloat) + 1;  // [bias-like; a; b]: 1, 2, 3, 4
  p["other"] = torch::ones({2});
  LstmPruningLayout layout;
  layout.free_spaces.push_back({"x", 3, {}});
  layout.lstms.push_back({"a", "a_w_ih", "a_w_hh", "a_b_ih", "a_b_hh", {{"x", 1}}, "", ""});
  layout.lstms.push_back(
      {"b", "b_w_ih", "b_w_hh", "b_b_ih", "b_b_hh", {{"a", 1}, {"a", 2}}, "", ""});
  layout.readers.push_back({{"head", 0}, 1, {{"a", 1}, {"b", 1}}});
  ASSERT_TRUE(layout.Validate(p).ok()) << layout.Validate(p);

  NeuronGates gates;
  gates.input["a"] = Gates({1, 0, 1});        // a reads x_0, x_2
  gates.hidden["a"] = Gates({0.5, 0});        // a keeps unit 0 at 0.5
  gates.input["b"] = Gates({0, 0, 1, 0.25});  // b reads a_0^2 only (a_1 is removed)
  gates.hidden["b"] = Gates({1});
  absl::StatusOr<CompactedParameters> c = CompactParameters(layout, p, gates);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->space_neurons.at("x"), ElementsAre(0, 1, 2));  // no producer: all, in order
  EXPECT_THAT(c->space_neurons.at("a"), ElementsAre(0));
  EXPECT_THAT(c->lstm_inputs.at("a"), ElementsAre(0, 2));  // needs an index: x_1 is not read
  EXPECT_FALSE(c->ReadsPrefix("a"));
  EXPECT_THAT(c->lstm_inputs.at("b"), ElementsAre(1));  // compacted input [a_0; a_0^2]
  EXPECT_EQ(c->lstm_input_widths.at("b"), 2);
  // a: rows of unit 0 (0, 2, 4, 6), columns 0 and 2, unscaled (x has no gate of its own).
  EXPECT_TRUE(
      torch::equal(c->parameters.at("a_w_ih"), p["a_w_ih"]
                                                   .index_select(0, torch::tensor({0, 2, 4, 6}))
                                                   .index_select(1, torch::tensor({0, 2}))));
  EXPECT_TRUE(torch::equal(c->parameters.at("a_b_ih"), torch::tensor({0.f, 2.f, 4.f, 6.f})));
  EXPECT_TRUE(torch::allclose(c->parameters.at("a_w_hh"), torch::full({4, 1}, 0.5)));
  // b's one column: z_x 1 times z_a^2 = 0.25.
  EXPECT_TRUE(torch::allclose(c->parameters.at("b_w_ih"), torch::full({4, 1}, 0.25)));
  // head: the offset entry, a_0 at 0.5, b_0 at 1.
  EXPECT_TRUE(torch::allclose(c->parameters.at("head"), torch::tensor({1.f, 1.f, 4.f})));
  EXPECT_TRUE(torch::equal(c->parameters.at("other"), p["other"]));

  // Reading through both runs of a removed unit only is reading nothing.
  gates.input["b"] = Gates({0, 1, 0, 1});
  EXPECT_THAT(std::string(CompactParameters(layout, p, gates).status().message()),
              HasSubstr("LSTM 'b': every input neuron is closed"));
  gates.input["b"] = Gates({1, 1, 1, 1});
  gates.hidden["a"] = Gates({0, 0});
  EXPECT_THAT(std::string(CompactParameters(layout, p, gates).status().message()),
              HasSubstr("LSTM 'a': every hidden neuron is closed"));
}

// A free space with producers (the LM's embedding) drops the neurons nothing reads, and the LM's
// next layer reads a prefix of the layer below.
TEST(CompactParameters, OrdersUnitsSoTheirOnlyReaderReadsAPrefix) {
  torch::manual_seed(4);
  LstmLm model(Dense());
  NeuronMask mask = NeuronMask::AllOpen(model->config());
  mask.input[0] = Gates({1, 0, 1, 0, 1});
  mask.hidden[0] = Gates({1, 1, 0, 1, 1, 1});
  mask.input[1] = Gates({0, 1, 1, 0, 1, 0});  // reads units 1, 4 of the kept 0, 1, 3, 4, 5
  absl::StatusOr<CompactedParameters> c = CompactParameters(
      model->PruningLayout(), ParameterMap(model->named_parameters()), ToNeuronGates(mask));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->space_neurons.at("embedding"), ElementsAre(0, 2, 4));
  EXPECT_EQ(c->parameters.at("embedding.weight").size(1), 3);
  EXPECT_THAT(c->space_neurons.at("lstm0"), ElementsAre(1, 4, 0, 3, 5));
  EXPECT_THAT(c->lstm_inputs.at("lstm1"), ElementsAre(0, 1));
  EXPECT_TRUE(c->ReadsPrefix("lstm1"));
  EXPECT_TRUE(c->ReadsEverything("lstm0"));
}

}  // namespace
}  // namespace rnnprune
