#include "benchmarks/bidaf_timing.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "models/bidaf_testing.h"
#include "pruning/bidaf_compaction.h"
#include "pruning/neuron_gates.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Timing figures are never asserted (they depend on the machine); what is checked is that every
// configuration of a dense and a compacted model (input indices included) runs, is recorded
// round by round, and yields positive speeds and ratios.
TEST(BidafTiming, TimesADenseAndACompactedModelSideBySide) {
  torch::manual_seed(1);
  std::mt19937 rng(1);
  const BidafConfig config = bidaf_testing::TinyConfig();
  Bidaf dense(config);
  NeuronGates gates =
      NeuronGates::AllOpen(dense->PruningLayout(), ParameterMap(dense->named_parameters()));
  for (auto* set : {&gates.input, &gates.hidden}) {
    for (auto& [name, z] : *set) z.narrow(0, 0, z.size(0) / 2).zero_();
  }
  absl::StatusOr<BidafCompaction> compacted = CompactBidaf(dense, gates);
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  std::vector<BidafBatch> single, many;
  for (int i = 0; i < 2; ++i) {
    single.push_back(bidaf_testing::ToBatch({bidaf_testing::RandomExample(&rng, config, 9, 4)}));
    std::vector<bidaf_testing::Example> e;
    for (int k = 0; k < 5; ++k) e.push_back(bidaf_testing::RandomExample(&rng, config, 7 + k, 3));
    many.push_back(bidaf_testing::ToBatch(e));
  }
  std::vector<Bidaf> models = {dense, compacted->model};
  const std::vector<BidafTiming> t = TimeBidafsSideBySide(models, single, many, 3);
  ASSERT_EQ(t.size(), 2u);
  for (const BidafTiming& m : t) {
    for (const auto& r : m.rounds) EXPECT_EQ(r.size(), 3u);
    EXPECT_GT(m.lstms_b1_qps, 0);
    EXPECT_GT(m.model_b32_qps, 0);
  }
  const nlohmann::json s = BidafSpeedups(t[0], t[1]);
  EXPECT_GT(s["lstms_b1"].get<double>(), 0);
  EXPECT_EQ(s["model_b32_iqr"].size(), 2u);
  EXPECT_EQ(t[1].ToJson()["rounds"], 3);
}

}  // namespace
}  // namespace rnnprune
