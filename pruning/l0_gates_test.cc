#include "pruning/l0_gates.h"

#include <map>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "models/bidaf_testing.h"
#include "pruning/bidaf_compaction.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

// L0 gates on every direction of a tiny BiDAF, each gate costing the weights it removes.
absl::StatusOr<L0Gates> BidafGates(const Bidaf& model, double lambda) {
  const LstmPruningLayout layout = model->PruningLayout();
  const auto params = ParameterMap(model->named_parameters());
  absl::StatusOr<std::pair<std::map<std::string, int64_t>, std::map<std::string, int64_t>>> costs =
      UniformSetCosts(NeuronGroupSizes(layout, params));
  if (!costs.ok()) return costs.status();
  L0GatesOptions o;
  o.input_cost = costs->first;
  o.hidden_cost = costs->second;
  for (const PrunableLstm& l : layout.lstms)
    o.input_lambda[l.name] = o.hidden_lambda[l.name] = lambda;
  return L0Gates::Create(layout, params, o);
}

TEST(L0Gates, PenaltyIsTheExpectedL0WeightedByTheWeightsEachGateRemoves) {
  torch::manual_seed(1);
  Bidaf model(bidaf_testing::TinyConfig());
  absl::StatusOr<L0Gates> gates = BidafGates(model, 0.5);
  ASSERT_TRUE(gates.ok()) << gates.status();
  const NeuronGroupValues sizes =
      NeuronGroupSizes(model->PruningLayout(), ParameterMap(model->named_parameters()));
  double want = 0;
  for (const auto* set : {&sizes.input, &sizes.hidden}) {
    for (const auto& [name, n] : *set) want += n.sum().item<double>();
  }
  // Every gate starts with the same P(z != 0).
  const double p = gates->hidden_sets()[0].ProbabilityNonZero()[0].item<double>();
  EXPECT_NEAR(gates->ExpectedCost(), p * want, 1e-5 * p * want);
  EXPECT_NEAR(gates->Penalty().item<double>(), 0.5 * p * want, 1e-5 * p * want);
  const NeuronGates z = gates->Sample(3);
  EXPECT_EQ(z.hidden.at("modelling.0.bw").sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(z.input.at("modelling.0.bw").sizes(), (std::vector<int64_t>{3, 56}));
  EXPECT_TRUE(torch::all(gates->Deterministic().hidden.at("output.fw").eq(1)).item<bool>());
  const nlohmann::json d = gates->Diagnostics();
  EXPECT_EQ(d["gate_sets"].size(), 16u);
  EXPECT_EQ(d["gate_sets"][0]["set"], "contextual.fw.input");
}

TEST(L0Gates, ASetOfUnequalCostsOrAMissingLambdaIsAClearError) {
  NeuronGroupValues v;
  v.hidden["a"] = torch::tensor({3, 4});
  EXPECT_THAT(std::string(UniformSetCosts(v).status().message()),
              HasSubstr("the hidden gates of LSTM 'a' cost from 3 to 4"));
  torch::manual_seed(2);
  Bidaf model(bidaf_testing::TinyConfig());
  const LstmPruningLayout layout = model->PruningLayout();
  L0GatesOptions o;
  EXPECT_THAT(
      std::string(
          L0Gates::Create(layout, ParameterMap(model->named_parameters()), o).status().message()),
      HasSubstr("LSTM 'contextual.fw' needs a input cost"));
}

// The paper's method on BiDAF, end to end without a trainer: per-example gate samples on the
// activations, NLL + expected L0, Adam on the weights and log_alpha; a strong lambda closes
// gates, and the deterministic gates compact into a BiDAF that computes the gated one.
TEST(L0Gates, TrainOnBidafThenCompact) {
  torch::manual_seed(3);
  std::mt19937 rng(3);
  const BidafConfig config = bidaf_testing::TinyConfig();
  Bidaf model(config);
  absl::StatusOr<L0Gates> gates = BidafGates(model, 0.05);
  ASSERT_TRUE(gates.ok()) << gates.status();
  std::vector<bidaf_testing::Example> examples;
  for (int i = 0; i < 4; ++i) examples.push_back(bidaf_testing::RandomExample(&rng, config, 8, 4));
  const BidafBatch batch = bidaf_testing::ToBatch(examples);
  torch::optim::Adam weights(model->parameters(), torch::optim::AdamOptions(1e-2));
  torch::optim::Adam log_alpha(gates->LogAlphas(), torch::optim::AdamOptions(0.5));
  const double before = gates->ExpectedCost();
  std::vector<std::string> names;
  for (const BidafLstm* l : model->lstms()) names.push_back(l->name);
  for (int step = 0; step < 30; ++step) {
    const NeuronGates z = gates->Sample(4);
    std::vector<BidafLayerGates> per_layer;
    for (const std::string& n : names) {
      per_layer.push_back({z.input.at(n + ".fw"), z.hidden.at(n + ".fw"), z.input.at(n + ".bw"),
                           z.hidden.at(n + ".bw")});
    }
    const torch::Tensor loss =
        BidafLoss(model->ForwardWithNeuronGates(batch, per_layer), batch) + gates->Penalty();
    weights.zero_grad();
    log_alpha.zero_grad();
    loss.backward();
    weights.step();
    log_alpha.step();
    gates->Clamp(-4.6, 4.6);
  }
  EXPECT_LT(gates->ExpectedCost(), 0.8 * before);
  NeuronGates final_gates = gates->Deterministic();
  int64_t closed = 0;
  for (const auto& [name, zh] : final_gates.hidden) {
    closed += zh.eq(0).sum().item<int64_t>();
    if (zh.eq(0).all().item<bool>()) zh[0] = 1;  // keep every direction buildable
  }
  EXPECT_GT(closed, 0);
  for (auto& [name, zx] : final_gates.input) {
    if (zx.eq(0).all().item<bool>()) zx.fill_(1);
  }
  model->eval();
  absl::StatusOr<BidafCompaction> c = CompactBidaf(model, final_gates);
  ASSERT_TRUE(c.ok()) << c.status();
  torch::NoGradGuard no_grad;
  const BidafOutput want = RunGatedBidaf(model, final_gates, batch);
  const BidafOutput got = c->model->forward(batch);
  const torch::Tensor real = batch.context_mask;
  const double scale = want.start_logits.masked_select(real).abs().max().item<double>();
  EXPECT_LE((got.start_logits - want.start_logits).masked_select(real).abs().max().item<double>(),
            1e-5 * scale);
}

}  // namespace
}  // namespace rnnprune
