#include "training/step_sizes.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "torch/torch.h"
#include "training/adadelta.h"

namespace rnnprune {
namespace {

// Gives every parameter a fresh random gradient.
void RandomGradients(const std::vector<torch::Tensor>& params) {
  for (const torch::Tensor& p : params) p.mutable_grad() = torch::randn_like(p);
}

TEST(StepSizes, SgdIsUniform) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> params = {torch::randn({3, 4}, torch::requires_grad())};
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.7).momentum(0.9));
  RandomGradients(params);
  sgd.step();
  auto sizes = StepSizes::Of(sgd, 0.7);
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_TRUE(sizes->uniform());
  EXPECT_DOUBLE_EQ(sizes->learning_rate(), 0.7);
  EXPECT_TRUE(torch::equal(sizes->For(params[0]), torch::full({3, 4}, 0.7f)));
}

// Adam's update of every weight is exactly -d * m / (1 - beta1^t), with d from For(), for both
// the plain and the amsgrad variant, after several steps (bias corrections not yet 1).
TEST(StepSizes, AdamUpdateIsTheStepSizeTimesTheCorrectedMoment) {
  for (const bool amsgrad : {false, true}) {
    torch::manual_seed(2);
    std::vector<torch::Tensor> params = {torch::randn({5, 6}, torch::requires_grad()),
                                         torch::randn({6}, torch::requires_grad())};
    const double lr = 0.01, beta1 = 0.9;
    torch::optim::Adam adam(params, torch::optim::AdamOptions(lr).amsgrad(amsgrad));
    auto sizes = StepSizes::Of(adam, lr);
    ASSERT_TRUE(sizes.ok()) << sizes.status();
    EXPECT_FALSE(sizes->uniform());
    for (int t = 1; t <= 4; ++t) {
      RandomGradients(params);
      std::vector<torch::Tensor> before;
      for (const torch::Tensor& p : params) before.push_back(p.detach().clone());
      adam.step();
      for (size_t i = 0; i < params.size(); ++i) {
        const auto& state = static_cast<const torch::optim::AdamParamState&>(
            *adam.state().at(c10::guts::to_string(params[i].unsafeGetTensorImpl())));
        const torch::Tensor m_hat = state.exp_avg() / (1.0 - std::pow(beta1, t));
        const torch::Tensor expected = before[i] - sizes->For(params[i]) * m_hat;
        EXPECT_TRUE(torch::allclose(params[i].detach(), expected, 1e-6, 1e-7))
            << "amsgrad " << amsgrad << " step " << t << " parameter " << i;
        // Adaptive: the step sizes differ between weights.
        EXPECT_GT(sizes->For(params[i]).max().item<float>(),
                  sizes->For(params[i]).min().item<float>());
      }
    }
  }
}

TEST(StepSizes, AdadeltaReadsItsRunningAverages) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> params = {torch::randn({4, 4}, torch::requires_grad())};
  const double lr = 0.5, eps = 1e-6;
  Adadelta adadelta(params, AdadeltaOptions(lr));
  auto sizes = StepSizes::Of(adadelta, lr);
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  // No state yet: the learning rate.
  EXPECT_TRUE(torch::equal(sizes->For(params[0]), torch::full({4, 4}, 0.5f)));
  for (int t = 0; t < 3; ++t) {
    RandomGradients(params);
    adadelta.step();
  }
  const auto& state = static_cast<const AdadeltaParamState&>(
      *adadelta.state().at(c10::guts::to_string(params[0].unsafeGetTensorImpl())));
  const torch::Tensor expected =
      lr * (state.acc_delta() + eps).sqrt() / (state.square_avg() + eps).sqrt();
  EXPECT_TRUE(torch::allclose(sizes->For(params[0]), expected));
  EXPECT_GT(sizes->For(params[0]).min().item<float>(), 0.0f);
}

TEST(StepSizes, FrozenParameterGetsTheLearningRate) {
  std::vector<torch::Tensor> params = {torch::randn({2}, torch::requires_grad())};
  torch::optim::Adam adam(params, torch::optim::AdamOptions(0.1));
  RandomGradients(params);
  adam.step();
  auto sizes = StepSizes::Of(adam, 0.1);
  ASSERT_TRUE(sizes.ok());
  const torch::Tensor frozen = torch::randn({3, 2});  // never given to the optimizer
  EXPECT_TRUE(torch::equal(sizes->For(frozen), torch::full({3, 2}, 0.1f)));
}

TEST(StepSizes, UnknownOptimizerIsUnimplemented) {
  std::vector<torch::Tensor> params = {torch::randn({2}, torch::requires_grad())};
  torch::optim::RMSprop rmsprop(params, torch::optim::RMSpropOptions(0.1));
  auto sizes = StepSizes::Of(rmsprop, 0.1);
  ASSERT_FALSE(sizes.ok());
  EXPECT_EQ(sizes.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(sizes.status().message().find("torch::optim::Adam"), std::string::npos);
}

}  // namespace
}  // namespace rnnprune
