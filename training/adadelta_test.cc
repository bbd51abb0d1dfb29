#include "training/adadelta.h"

#include <sstream>
#include <vector>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

torch::Tensor Doubles(const std::vector<double>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kDouble));
}

void ExpectValues(const torch::Tensor& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[static_cast<int64_t>(i)].item<double>();
    EXPECT_NEAR(g, want[i], 1e-15 + 1e-12 * std::abs(want[i])) << what << " i=" << i;
  }
}

// Two steps on x = [1, -2, 0.5] with lr 0.5, rho 0.95, eps 1e-6 and gradients
// [0.1, -0.3, 0] then [0.2, 0.1, -1]. Step 1, element 0, by hand:
//   E[g^2] = 0.05 * 0.01 = 5e-4;  delta = sqrt(0 + 1e-6) / sqrt(5e-4 + 1e-6) * 0.1
//          = 1e-3 / 0.0223830292 * 0.1 = 4.46767e-3;  x = 1 - 0.5 * delta = 0.9977661647;
//   E[dx^2] = 0.05 * delta^2 = 9.98004e-7.
// A zero gradient leaves element 2 where it was. The other values were worked out the same way
// in double precision (Python floats), to 17 digits.
TEST(Adadelta, TwoStepsMatchHandComputedValues) {
  torch::Tensor x = Doubles({1.0, -2.0, 0.5}).requires_grad_(true);
  Adadelta opt({x}, AdadeltaOptions(0.5));
  x.mutable_grad() = Doubles({0.1, -0.3, 0.0});
  opt.step();
  ExpectValues(x.detach(), {0.99776616474195612, -1.9977641804330968, 0.5}, "x after step 1");
  const std::string key = c10::guts::to_string(x.unsafeGetTensorImpl());
  const auto& state = static_cast<const AdadeltaParamState&>(*opt.state().at(key));
  ExpectValues(state.square_avg(), {5.0000000000000044e-4, 4.500000000000004e-3, 0.0},
               "E[g^2] after step 1");
  ExpectValues(state.acc_delta(), {9.9800399201596815e-07, 9.9977782714952236e-07, 0.0},
               "E[dx^2] after step 1");

  x.mutable_grad() = Doubles({0.2, 0.1, -1.0});
  opt.step();
  ExpectValues(x.detach(), {0.99492548119659052, -1.9987873054870469, 0.5022360456171554},
               "x after step 2");
  ExpectValues(state.square_avg(), {2.4750000000000024e-3, 4.7750000000000041e-3, 0.05},
               "E[g^2] after step 2");
  ExpectValues(state.acc_delta(),
               {2.5620003933973735e-06, 1.159145910996142e-06, 9.9998000039999187e-07},
               "E[dx^2] after step 2");
  EXPECT_EQ(state.step(), 2);
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(Adadelta, WeightDecayAddsToTheGradientAndLrIsSettable) {
  // g = 0 + 0.1 * 2 = 0.2; E[g^2] = 0.05 * 0.04 = 2e-3; delta = 1e-3 / sqrt(2.001e-3) * 0.2.
  torch::Tensor x = Doubles({2.0}).requires_grad_(true);
  Adadelta opt({x}, AdadeltaOptions(0.5).weight_decay(0.1));
  opt.param_groups()[0].options().set_lr(1.0);
  x.mutable_grad() = Doubles({0.0});
  opt.step();
  ExpectValues(x.detach(), {1.9955289816599011}, "x");
}

TEST(Adadelta, SkipsParametersWithoutGradientAndReturnsTheClosureLoss) {
  torch::Tensor a = Doubles({1.0}).requires_grad_(true);
  torch::Tensor b = Doubles({1.0}).requires_grad_(true);
  Adadelta opt({a, b});
  torch::Tensor loss = opt.step([&] {
    opt.zero_grad();
    torch::Tensor l = (a * 3.0).sum();
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item<double>(), 3.0);
  EXPECT_LT(a.item<double>(), 1.0);
  EXPECT_EQ(b.item<double>(), 1.0);
  EXPECT_EQ(opt.state().size(), 1u);  // no state for `b`
}

TEST(Adadelta, SaveAndLoadContinueBitForBit) {
  torch::manual_seed(3);
  torch::Tensor w = torch::randn({4, 3}).requires_grad_(true);
  const torch::Tensor target = torch::randn({4, 3});
  auto train_step = [&](Adadelta* opt, torch::Tensor* param) {
    opt->zero_grad();
    (*param - target).pow(2).sum().backward();
    opt->step();
  };
  Adadelta opt({w});
  for (int i = 0; i < 3; ++i) train_step(&opt, &w);
  std::stringstream stream;
  torch::serialize::OutputArchive out;
  opt.save(out);
  out.save_to(stream);

  torch::Tensor w2 = w.detach().clone().requires_grad_(true);
  Adadelta restored({w2});  // the running averages and step counts come from the archive
  torch::serialize::InputArchive in;
  in.load_from(stream);
  restored.load(in);
  const std::string key = c10::guts::to_string(w2.unsafeGetTensorImpl());
  EXPECT_EQ(static_cast<const AdadeltaParamState&>(*restored.state().at(key)).step(), 3);
  train_step(&opt, &w);
  train_step(&restored, &w2);
  EXPECT_TRUE(torch::equal(w, w2));
}

TEST(Adadelta, RejectsBadOptions) {
  torch::Tensor x = torch::zeros({1}, torch::requires_grad());
  EXPECT_THROW(Adadelta({x}, AdadeltaOptions(-1.0)), c10::Error);
  EXPECT_THROW(Adadelta({x}, AdadeltaOptions().rho(1.5)), c10::Error);
  EXPECT_THROW(Adadelta({x}, AdadeltaOptions().eps(-1e-6)), c10::Error);
  EXPECT_THROW(Adadelta({x}, AdadeltaOptions().weight_decay(-0.1)), c10::Error);
}

}  // namespace
}  // namespace rnnprune
