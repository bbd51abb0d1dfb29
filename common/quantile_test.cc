#include "common/quantile.h"

#include "gtest/gtest.h"

namespace rnnprune {
namespace {

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  // numpy.quantile([4, 1, 3, 2], [0, .25, .5, .75, 1]) = 1, 1.75, 2.5, 3.25, 4.
  const std::vector<double> v = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.75), 3.25);
  EXPECT_DOUBLE_EQ(Quantile(v, 1), 4);
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.25), 7);
  EXPECT_DOUBLE_EQ(Quantile({}, 0.5), 0);
}

}  // namespace
}  // namespace rnnprune
