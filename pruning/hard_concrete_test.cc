#include "pruning/hard_concrete.h"

#include <cmath>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Analytic moments of the hard concrete distribution (Louizos et al. 2018, Section 3 and
// Appendix): the CDF of the stretched concrete s_bar = s (zeta - gamma) + gamma is
//   Q(v) = sigmoid(beta (log((v - gamma) / (zeta - v))) - log_alpha).
double Cdf(double v, double la, const HardConcreteOptions& o) {
  const double x = (v - o.gamma) / (o.zeta - v);
  return 1.0 / (1.0 + std::exp(-(o.beta * std::log(x) - la)));
}

// E[z] = integral over (0, 1) of P(z > v) dv = integral of (1 - Q(v)) dv (midpoint rule).
double AnalyticMean(double la, const HardConcreteOptions& o) {
  const int n = 20000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += 1.0 - Cdf((i + 0.5) / n, la, o);
  return sum / n;
}

TEST(HardConcrete, MonteCarloMatchesAnalyticMomentsAndNonZeroProbability) {
  torch::manual_seed(11);
  HardConcreteOptions o;
  for (double keep : {0.1, 0.5, 0.9}) {
    o.init_keep_probability = keep;
    auto gates = HardConcreteGates::Create(1, o);
    ASSERT_TRUE(gates.ok());
    const double la = gates->log_alpha().item<double>();
    const int n = 200000;
    torch::Tensor z;
    {
      torch::NoGradGuard g;
      // n independent samples of one gate: expand log_alpha to n copies.
      auto many = HardConcreteGates::Create(n, o);
      z = many->Sample();
    }
    const double mean = z.mean().item<double>();
    const double nonzero = (z > 0).to(torch::kFloat64).mean().item<double>();
    const double p_nonzero = gates->ProbabilityNonZero().item<double>();
    SCOPED_TRACE(testing::Message() << "keep=" << keep << " log_alpha=" << la);
    // P(z != 0) = 1 - Q(0): the formula and Monte Carlo agree (3 standard errors).
    EXPECT_NEAR(p_nonzero, 1.0 - Cdf(0.0, la, o), 1e-6);
    EXPECT_NEAR(nonzero, p_nonzero, 3 * std::sqrt(p_nonzero * (1 - p_nonzero) / n) + 1e-4);
    EXPECT_NEAR(mean, AnalyticMean(la, o), 0.005);
    EXPECT_GE(z.min().item<double>(), 0.0);
    EXPECT_LE(z.max().item<double>(), 1.0);
    EXPECT_GT((z == 1).sum().item<int64_t>(), 0);  // exact ones occur
  }
}

TEST(HardConcrete, DeterministicGateAndInitialisation) {
  HardConcreteOptions o;  // keep 0.95: fully open
  auto g = HardConcreteGates::Create(4, o);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(torch::equal(g->Deterministic(), torch::ones({4})));
  EXPECT_NEAR(g->log_alpha()[0].item<double>(), std::log(0.95 / 0.05), 1e-5);
  {
    torch::NoGradGuard ng;
    g->log_alpha().fill_(-10.0);
  }
  EXPECT_TRUE(torch::equal(g->Deterministic(), torch::zeros({4})));
  {
    torch::NoGradGuard ng;
    g->log_alpha().fill_(0.0);  // sigmoid 0.5 -> 0.5 * 1.2 - 0.1 = 0.5
  }
  EXPECT_NEAR(g->Deterministic()[0].item<double>(), 0.5, 1e-6);
}

TEST(HardConcrete, GradientsReachLogAlpha) {
  torch::manual_seed(3);
  HardConcreteOptions o;
  o.init_keep_probability = 0.5;
  auto g = HardConcreteGates::Create(8, o);
  ASSERT_TRUE(g.ok());
  (g->Sample() * torch::arange(1, 9)).sum().backward();
  ASSERT_TRUE(g->log_alpha().grad().defined());
  EXPECT_GT(g->log_alpha().grad().abs().sum().item<double>(), 0.0);
  g->log_alpha().grad().zero_();
  g->ProbabilityNonZero().sum().backward();
  EXPECT_TRUE((g->log_alpha().grad() > 0).all().item<bool>());  // more open = more L0
}

TEST(HardConcrete, RejectsBadOptions) {
  HardConcreteOptions o;
  o.init_keep_probability = 1.0;
  EXPECT_FALSE(HardConcreteGates::Create(3, o).ok());
  o = HardConcreteOptions();
  o.gamma = 0.1;
  EXPECT_FALSE(HardConcreteGates::Create(3, o).ok());
  EXPECT_FALSE(HardConcreteGates::Create(0, HardConcreteOptions()).ok());
}

}  // namespace
}  // namespace rnnprune
