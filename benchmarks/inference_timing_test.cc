#include "benchmarks/inference_timing.h"

#include "gtest/gtest.h"

namespace rnnprune {
namespace {

// Two timings measured side by side: the dense parent twice as slow in every round but one.
TEST(InferenceTiming, SpreadIsTheInterquartileRangeOfThePerRoundRatios) {
  InferenceTiming dense, pruned;
  for (int c = 0; c < 4; ++c) {
    dense.rounds[c] = {2, 2, 2, 2, 8};
    pruned.rounds[c] = {1, 1, 1, 1, 1};
  }
  dense.lstm_b1_ms = 2;
  pruned.lstm_b1_ms = 1;
  const nlohmann::json spread = SpeedupSpread(dense, pruned);
  EXPECT_EQ(spread["lstm_b1"], nlohmann::json::array({2.0, 2.0}));
  EXPECT_EQ(spread["model_b20"], nlohmann::json::array({2.0, 2.0}));
  EXPECT_DOUBLE_EQ(RelativeLstmB1Spread(dense, pruned), 0.0);
  // Rounds of 1x, 2x, 3x, 4x, 5x: quartiles 2 and 4 around a median of 3.
  dense.rounds[0] = {1, 2, 3, 4, 5};
  const nlohmann::json wide = SpeedupSpread(dense, pruned);
  EXPECT_EQ(wide["lstm_b1"], nlohmann::json::array({2.0, 4.0}));
  EXPECT_DOUBLE_EQ(RelativeLstmB1Spread(dense, pruned), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(RelativeLstmB1Spread(InferenceTiming(), InferenceTiming()), 0.0);
}

TEST(InferenceTiming, LoadAverageIsReadOnLinux) { EXPECT_GE(LoadAverage1Min(), 0.0); }

}  // namespace
}  // namespace rnnprune
