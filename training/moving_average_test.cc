#include "training/moving_average.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

struct TwoParams : torch::nn::Module {
  TwoParams() {
    a = register_parameter("a", torch::tensor({1.0f, -2.0f}));
    frozen = register_parameter("frozen", torch::tensor({5.0f}), /*requires_grad=*/false);
  }
  torch::Tensor a, frozen;
};

void Set(torch::Tensor& p, std::vector<float> v) {
  torch::NoGradGuard no_grad;
  p.copy_(torch::tensor(v));
}

TEST(ExponentialMovingAverage, MathWithoutWarmup) {
  TwoParams m;
  absl::StatusOr<ExponentialMovingAverage> ema = ExponentialMovingAverage::Create(m, {0.9, false});
  ASSERT_TRUE(ema.ok()) << ema.status();
  ASSERT_EQ(ema->shadows().size(), 1u);  // the frozen parameter is not averaged
  EXPECT_EQ(ema->shadows()[0].first, "a");
  double s0 = 1.0, s1 = -2.0;  // shadows start at the parameters
  const std::vector<std::vector<float>> values = {{3.0f, 0.0f}, {-1.0f, 4.0f}, {2.0f, 2.0f}};
  for (const auto& v : values) {
    Set(m.a, v);
    EXPECT_EQ(ema->CurrentDecay(), 0.9);
    ASSERT_TRUE(ema->Update(m).ok());
    s0 = 0.9 * s0 + 0.1 * v[0];
    s1 = 0.9 * s1 + 0.1 * v[1];
    EXPECT_NEAR(ema->shadows()[0].second[0].item<double>(), s0, 1e-6);
    EXPECT_NEAR(ema->shadows()[0].second[1].item<double>(), s1, 1e-6);
  }
  EXPECT_EQ(ema->num_updates(), 3);
}

TEST(ExponentialMovingAverage, WarmupDecayAsTensorFlow) {
  TwoParams m;
  absl::StatusOr<ExponentialMovingAverage> ema = ExponentialMovingAverage::Create(m, {0.999, true});
  ASSERT_TRUE(ema.ok());
  double s = 1.0;
  for (int n = 0; n < 4; ++n) {
    const double decay = std::min(0.999, (1.0 + n) / (10.0 + n));
    EXPECT_NEAR(ema->CurrentDecay(), decay, 1e-15);
    Set(m.a, {static_cast<float>(n), 0.0f});
    ASSERT_TRUE(ema->Update(m).ok());
    s = decay * s + (1 - decay) * n;
    EXPECT_NEAR(ema->shadows()[0].second[0].item<double>(), s, 1e-6);
  }
  // Large n: the configured decay caps it.
  for (int n = 4; n < 20000; ++n) ASSERT_TRUE(ema->Update(m).ok());
  EXPECT_EQ(ema->CurrentDecay(), 0.999);
}

TEST(ExponentialMovingAverage, SwapRestoresTrainedWeightsBitForBit) {
  torch::manual_seed(21);
  BidafConfig c;
  c.word_vocab_size = 20;
  c.char_vocab_size = 10;
  c.hidden_size = 4;
  c.word_dim = c.char_channels = 3;
  Bidaf model(c);
  absl::StatusOr<ExponentialMovingAverage> ema = ExponentialMovingAverage::Create(*model);
  ASSERT_TRUE(ema.ok());
  // Move the weights away from the averages, as training would.
  for (int step = 0; step < 3; ++step) {
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) {
        if (p.requires_grad()) p.add_(torch::randn_like(p) * 0.1);
      }
    }
    ASSERT_TRUE(ema->Update(*model).ok());
  }
  std::vector<torch::Tensor> trained, averages;
  for (const auto& p : model->parameters()) trained.push_back(p.detach().clone());
  for (const auto& s : ema->shadows()) averages.push_back(s.second.clone());
  {
    ScopedAveragedWeights scope(&*ema, model.get());
    ASSERT_TRUE(scope.status().ok()) << scope.status();
    EXPECT_TRUE(ema->swapped());
    size_t k = 0;
    for (const auto& p : model->named_parameters()) {
      if (!p.value().requires_grad()) continue;  // the frozen word embedding stays
      EXPECT_TRUE(torch::equal(p.value(), averages[k++])) << p.key();
    }
    EXPECT_EQ(ema->Update(*model).code(), absl::StatusCode::kFailedPrecondition);
    ScopedAveragedWeights nested(&*ema, model.get());
    EXPECT_EQ(nested.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(ema->swapped());
  const auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], trained[i])) << i;
  for (size_t i = 0; i < averages.size(); ++i) {
    EXPECT_TRUE(torch::equal(ema->shadows()[i].second, averages[i])) << i;
  }
}

TEST(ExponentialMovingAverage, RestoreCopiesSavedShadowsAndCountBitForBit) {
  TwoParams m;
  absl::StatusOr<ExponentialMovingAverage> a = ExponentialMovingAverage::Create(m, {0.9, true});
  ASSERT_TRUE(a.ok());
  for (const std::vector<float>& v : {std::vector<float>{3.0f, 0.5f}, {-1.0f, 4.0f}}) {
    Set(m.a, v);
    ASSERT_TRUE(a->Update(m).ok());
  }
  absl::StatusOr<ExponentialMovingAverage> b = ExponentialMovingAverage::Create(m, {0.9, true});
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->Restore(a->shadows(), a->num_updates()).ok());
  EXPECT_EQ(b->num_updates(), 2);
  EXPECT_EQ(b->CurrentDecay(), a->CurrentDecay());
  EXPECT_TRUE(torch::equal(b->shadows()[0].second, a->shadows()[0].second));
  // The copy is independent: later updates of both agree bit for bit.
  Set(m.a, {7.0f, -7.0f});
  ASSERT_TRUE(a->Update(m).ok());
  ASSERT_TRUE(b->Update(m).ok());
  EXPECT_TRUE(torch::equal(b->shadows()[0].second, a->shadows()[0].second));

  EXPECT_THAT(std::string(b->Restore({{"b", torch::zeros({2})}}, 1).message()),
              HasSubstr("saved shadow 0 is 'b' [2]; the average has 'a' [2]"));
  EXPECT_THAT(std::string(b->Restore({{"a", torch::zeros({3})}}, 1).message()),
              HasSubstr("saved shadow 0 is 'a' [3]"));
  EXPECT_THAT(std::string(b->Restore({}, 1).message()), HasSubstr("0 saved shadows"));
  EXPECT_THAT(std::string(b->Restore(a->shadows(), -1).message()),
              HasSubstr("num_updates=-1 must be >= 0"));
  EXPECT_TRUE(torch::equal(b->shadows()[0].second, a->shadows()[0].second));  // unchanged
  ASSERT_TRUE(b->Swap(m).ok());
  EXPECT_EQ(b->Restore(a->shadows(), 1).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ExponentialMovingAverage, Errors) {
  TwoParams m;
  EXPECT_THAT(std::string(ExponentialMovingAverage::Create(m, {1.0, false}).status().message()),
              HasSubstr("decay=1 must be in [0, 1)"));
  EXPECT_FALSE(ExponentialMovingAverage::Create(m, {-0.1, false}).ok());
  torch::nn::Module empty;
  EXPECT_THAT(std::string(ExponentialMovingAverage::Create(empty).status().message()),
              HasSubstr("no trainable parameter"));
  absl::StatusOr<ExponentialMovingAverage> ema = ExponentialMovingAverage::Create(m);
  ASSERT_TRUE(ema.ok());
  struct Other : torch::nn::Module {
    Other() { register_parameter("a", torch::zeros({3})); }
  } other;
  EXPECT_THAT(std::string(ema->Update(other).message()), HasSubstr("parameter 0 is 'a' [3]"));
  EXPECT_FALSE(ema->Swap(other).ok());
  EXPECT_FALSE(ema->swapped());
}

}  // namespace
}  // namespace rnnprune
