#include "models/bidaf_spans.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

// Brute force over every (i, j) of the first `len` positions, straight from the definition.
BidafSpan BruteForce(const torch::Tensor& s, const torch::Tensor& e, int64_t len, int64_t cap) {
  const torch::Tensor p1 = torch::softmax(s.narrow(0, 0, len).to(torch::kDouble), 0);
  const torch::Tensor p2 = torch::softmax(e.narrow(0, 0, len).to(torch::kDouble), 0);
  BidafSpan best;
  best.probability = -1.0;
  for (int64_t j = 0; j < len; ++j) {
    for (int64_t i = 0; i <= j; ++i) {
      if (cap > 0 && j - i + 1 > cap) continue;
      const double p = p1[i].item<double>() * p2[j].item<double>();
      if (p > best.probability) best = {i, j, p};
    }
  }
  return best;
}

TEST(DecodeSpans, MatchesBruteForceWithAndWithoutCap) {
  torch::manual_seed(11);
  const int64_t b = 16, tc = 23;
  for (int trial = 0; trial < 5; ++trial) {
    // Spread logits (scale 3) so spans of every length win somewhere; garbage in the padding.
    const torch::Tensor s = torch::randn({b, tc}) * 3, e = torch::randn({b, tc}) * 3;
    const torch::Tensor lengths = torch::randint(1, tc + 1, {b}, torch::kLong);
    const torch::Tensor mask = torch::arange(tc).unsqueeze(0) < lengths.unsqueeze(1);
    for (int64_t cap : {0, 1, 2, 5, 23, 40}) {
      absl::StatusOr<std::vector<BidafSpan>> spans = DecodeSpans(s, e, mask, cap);
      ASSERT_TRUE(spans.ok()) << spans.status();
      ASSERT_EQ(spans->size(), static_cast<size_t>(b));
      for (int64_t r = 0; r < b; ++r) {
        const BidafSpan want = BruteForce(s[r], e[r], lengths[r].item<int64_t>(), cap);
        const BidafSpan& got = (*spans)[static_cast<size_t>(r)];
        SCOPED_TRACE(testing::Message() << "trial " << trial << " cap " << cap << " row " << r);
        EXPECT_EQ(got.first, want.first);
        EXPECT_EQ(got.last, want.last);
        EXPECT_NEAR(got.probability, want.probability, 1e-6 * want.probability);
        EXPECT_LE(got.first, got.last);
        EXPECT_LT(got.last, lengths[r].item<int64_t>());
        if (cap > 0) {
          EXPECT_LE(got.last - got.first + 1, cap);
        }
      }
    }
  }
}

TEST(DecodeSpans, HandCase) {
  // Uncapped, the best is start 0, end 4; capped at 2 tokens it is (3, 4).
  const torch::Tensor s = torch::tensor({{5.0f, 0.0f, 0.0f, 4.0f, 0.0f, 9.0f}});
  const torch::Tensor e = torch::tensor({{0.0f, 0.0f, 0.0f, 0.0f, 5.0f, 9.0f}});
  const torch::Tensor mask = torch::tensor({{true, true, true, true, true, false}});
  absl::StatusOr<std::vector<BidafSpan>> uncapped = DecodeSpans(s, e, mask, 0);
  ASSERT_TRUE(uncapped.ok());
  EXPECT_EQ((*uncapped)[0].first, 0);
  EXPECT_EQ((*uncapped)[0].last, 4);
  const double z1 = std::exp(5.0) + 3 + std::exp(4.0), z2 = 4 + std::exp(5.0);
  EXPECT_NEAR((*uncapped)[0].probability, std::exp(5.0) / z1 * std::exp(5.0) / z2, 1e-12);
  absl::StatusOr<std::vector<BidafSpan>> capped = DecodeSpans(s, e, mask, 2);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ((*capped)[0].first, 3);
  EXPECT_EQ((*capped)[0].last, 4);
}

TEST(DecodeSpans, Errors) {
  const torch::Tensor s = torch::zeros({2, 3});
  const torch::Tensor mask = torch::ones({2, 3}, torch::kBool);
  auto message = [](const absl::StatusOr<std::vector<BidafSpan>>& r) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_THAT(message(DecodeSpans(s, s, mask, -1)), HasSubstr("max_answer_tokens=-1"));
  EXPECT_THAT(message(DecodeSpans(s, torch::zeros({2, 4}), mask, 0)), HasSubstr("same shape"));
  EXPECT_THAT(message(DecodeSpans(s, s, mask.to(torch::kLong), 0)), HasSubstr("bool"));
  EXPECT_THAT(
      message(DecodeSpans(s, s, torch::tensor({{true, false, true}, {true, true, true}}), 0)),
      HasSubstr("row 0 must be true on a non-empty prefix"));
  EXPECT_THAT(message(DecodeSpans(s, s, torch::zeros({2, 3}, torch::kBool), 0)),
              HasSubstr("row 0"));
  torch::Tensor nan = s.clone();
  nan[1][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(message(DecodeSpans(nan, s, mask, 0)), HasSubstr("example 1 has a non-finite"));
  // A non-finite logit in the padding is ignored.
  const torch::Tensor prefix = torch::tensor({{true, true, true}, {true, true, false}});
  EXPECT_TRUE(DecodeSpans(nan, s, prefix, 0).ok());
}

}  // namespace
}  // namespace rnnprune
