#include "models/softmax_cross_entropy.h"

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Reference: LibTorch's linear + cross_entropy, values and gradients.
TEST(LinearCrossEntropy, MatchesLinearPlusCrossEntropy) {
  for (int64_t n : {1, 7, 64}) {
    SCOPED_TRACE(testing::Message() << "N=" << n);
    torch::manual_seed(n);
    auto x = torch::randn({n, 13}, torch::requires_grad());
    auto w = torch::randn({29, 13}, torch::requires_grad());
    auto b = torch::randn({29}, torch::requires_grad());
    auto t = torch::randint(0, 29, {n}, torch::kInt64);
    auto ours = LinearCrossEntropy(x, w, b, t) * 3.0;  // a non-unit upstream gradient
    auto ref = torch::nn::functional::cross_entropy(torch::linear(x, w, b), t) * 3.0;
    EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-5 * std::abs(ref.item<double>()));
    auto g1 = torch::autograd::grad({ours}, {x, w, b});
    auto g2 = torch::autograd::grad({ref}, {x, w, b});
    for (int k = 0; k < 3; ++k) {
      const double err = (g1[k] - g2[k]).abs().max().item<double>();
      EXPECT_LE(err, 1e-5 + 1e-5 * g2[k].abs().max().item<double>()) << "gradient " << k;
    }
  }
}

TEST(LinearCrossEntropy, RejectsBadInput) {
  auto x = torch::randn({4, 3}), w = torch::randn({5, 3}), b = torch::randn({5});
  EXPECT_THROW(LinearCrossEntropy(x, w, b, torch::tensor({0, 1, 2, 5}, torch::kInt64)), c10::Error);
  EXPECT_THROW(LinearCrossEntropy(x, w, b, torch::tensor({0, 1}, torch::kInt64)), c10::Error);
  EXPECT_THROW(
      LinearCrossEntropy(x, torch::randn({5, 4}), b, torch::tensor({0, 1, 2, 3}, torch::kInt64)),
      c10::Error);
}

}  // namespace
}  // namespace rnnprune
