#include "pruning/gate_targets.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "models/bidaf_testing.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

struct Fixture {
  Bidaf model{bidaf_testing::TinyConfig()};
  LstmPruningLayout layout = model->PruningLayout();
  std::map<std::string, torch::Tensor> params = ParameterMap(model->named_parameters());
};

GateTargets EveryHidden(const LstmPruningLayout& layout, int64_t n) {
  GateTargets t;
  for (const PrunableLstm& l : layout.lstms) t.hidden[l.name] = n;
  return t;
}

// Structured magnitude on BiDAF: per direction, the units with the largest groups stay, and a
// chosen input set picks among the inputs that still exist.
TEST(GatesKeepingLargest, KeepsTheLargestGroupsOfEveryDirection) {
  torch::manual_seed(1);
  Fixture f;
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(f.layout, f.params);
  GateTargets targets = EveryHidden(f.layout, 3);
  targets.input["modelling.0.bw"] = 5;
  absl::StatusOr<NeuronGates> gates = GatesKeepingLargest(f.layout, f.params, norms, targets);
  ASSERT_TRUE(gates.ok()) << gates.status();
  for (const PrunableLstm& l : f.layout.lstms) {
    const torch::Tensor z = gates->hidden.at(l.name);
    EXPECT_EQ(z.sum().item<int64_t>(), 3) << l.name;
    // Every kept unit's group is at least as large as every closed one's.
    const torch::Tensor n = norms.hidden.at(l.name);
    EXPECT_GE(n.masked_select(z.gt(0)).min().item<float>(),
              n.masked_select(z.eq(0)).max().item<float>())
        << l.name;
  }
  const torch::Tensor in = gates->input.at("modelling.0.bw");
  EXPECT_EQ(in.sum().item<int64_t>(), 5);
  // modelling.0 reads G: 8 runs of the contextual units; the chosen inputs read kept units only.
  const torch::Tensor kept =
      torch::cat({gates->hidden.at("contextual.fw"), gates->hidden.at("contextual.bw")})
          .repeat({4});
  EXPECT_TRUE(torch::all(kept.masked_select(in.gt(0)).gt(0)).item<bool>());
  EXPECT_TRUE(torch::all(gates->input.at("modelling.0.fw").eq(1)).item<bool>());  // not chosen
}

TEST(GatesKeepingLargest, BadTargetsAreClearErrors) {
  torch::manual_seed(2);
  Fixture f;
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(f.layout, f.params);
  auto message = [&](const GateTargets& t) {
    return std::string(GatesKeepingLargest(f.layout, f.params, norms, t).status().message());
  };
  GateTargets t = EveryHidden(f.layout, 3);
  t.hidden.erase("output.bw");
  EXPECT_THAT(message(t), HasSubstr("LSTM 'output.bw' has no hidden target"));
  t = EveryHidden(f.layout, 3);
  t.hidden["output.bw"] = 8;
  EXPECT_THAT(message(t),
              HasSubstr("LSTM 'output.bw': target of 8 hidden neurons must be in [1, 7]"));
  t = EveryHidden(f.layout, 3);
  t.input["modelling.1.fw"] = 7;  // only 3 + 3 units of modelling.0 survive
  EXPECT_THAT(message(t), HasSubstr("target of 7 input neurons must be in [1, 6]"));
  t = EveryHidden(f.layout, 3);
  t.input["modelling.9.fw"] = 1;
  EXPECT_THAT(message(t), HasSubstr("unknown LSTM 'modelling.9.fw'"));
}

}  // namespace
}  // namespace rnnprune
