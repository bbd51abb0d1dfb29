#include "models/lstm_layer.h"

#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

void ExpectClose(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double err = (got - want).abs().max().item<double>();
  const double scale = want.abs().max().item<double>();
  EXPECT_LE(err, 1e-5 + 1e-5 * scale) << what << ": max abs error " << err << ", scale " << scale;
}

// Reference: LibTorch's own torch::lstm (one layer), values and gradients of every input.
void CheckAgainstTorchLstm(int64_t t_len, int64_t b, int64_t in, int64_t hs) {
  SCOPED_TRACE(testing::Message() << "T=" << t_len << " B=" << b << " I=" << in << " H=" << hs);
  torch::manual_seed(t_len * 1000 + b * 100 + in * 10 + hs);
  auto mk = [](torch::IntArrayRef s) { return (torch::rand(s) - 0.5).requires_grad_(); };
  auto x = mk({t_len, b, in}), h0 = mk({b, hs}), c0 = mk({b, hs});
  auto w_ih = mk({4 * hs, in}), w_hh = mk({4 * hs, hs}), b_ih = mk({4 * hs}), b_hh = mk({4 * hs});
  std::vector<torch::Tensor> inputs = {x, h0, c0, w_ih, w_hh, b_ih, b_hh};

  auto [y, h_t, c_t] = LstmLayerForward(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
  auto ref = torch::lstm(x, {h0.unsqueeze(0), c0.unsqueeze(0)}, {w_ih, w_hh, b_ih, b_hh}, true, 1,
                         0.0, false, false, false);
  ExpectClose(y, std::get<0>(ref), "y");
  ExpectClose(h_t, std::get<1>(ref).squeeze(0), "h_T");
  ExpectClose(c_t, std::get<2>(ref).squeeze(0), "c_T");

  // A loss that uses all three outputs with random weights.
  auto gy = torch::randn_like(y), gh = torch::randn_like(h_t), gc = torch::randn_like(c_t);
  auto ours = torch::autograd::grad({(y * gy).sum() + (h_t * gh).sum() + (c_t * gc).sum()}, inputs);
  auto theirs = torch::autograd::grad(
      {(std::get<0>(ref) * gy).sum() + (std::get<1>(ref).squeeze(0) * gh).sum() +
       (std::get<2>(ref).squeeze(0) * gc).sum()},
      inputs);
  const char* names[] = {"dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"};
  for (size_t k = 0; k < inputs.size(); ++k) ExpectClose(ours[k], theirs[k], names[k]);
}

TEST(LstmLayer, MatchesTorchLstmValuesAndGradients) {
  CheckAgainstTorchLstm(1, 1, 3, 2);
  CheckAgainstTorchLstm(5, 3, 4, 6);
  CheckAgainstTorchLstm(7, 2, 9, 5);  // input wider than hidden
  CheckAgainstTorchLstm(35, 4, 16, 16);
}

// Reference for the recurrent mask: the cell written with LibTorch ops (autograd does the
// backward), the recurrence reading m * h_{t-1}.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> MaskedReference(
    const torch::Tensor& x, torch::Tensor h, torch::Tensor c, const torch::Tensor& w_ih,
    const torch::Tensor& w_hh, const torch::Tensor& b_ih, const torch::Tensor& b_hh,
    const torch::Tensor& m) {
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < x.size(0); ++t) {
    auto g = torch::linear(x[t], w_ih, b_ih) + torch::linear(m * h, w_hh, b_hh);
    auto parts = g.chunk(4, 1);
    c = torch::sigmoid(parts[1]) * c + torch::sigmoid(parts[0]) * torch::tanh(parts[2]);
    h = torch::sigmoid(parts[3]) * torch::tanh(c);
    ys.push_back(h);
  }
  return {torch::stack(ys), h, c};
}

TEST(LstmLayer, RecurrentMaskValuesAndGradients) {
  for (auto [t_len, b, in, hs] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{1, 2, 3, 2},
                                  {6, 3, 4, 5},
                                  {35, 4, 16, 16}}) {
    SCOPED_TRACE(testing::Message() << "T=" << t_len << " B=" << b << " H=" << hs);
    torch::manual_seed(t_len + b + in + hs);
    auto mk = [](torch::IntArrayRef s) { return (torch::rand(s) - 0.5).requires_grad_(); };
    auto x = mk({t_len, b, in}), h0 = mk({b, hs}), c0 = mk({b, hs});
    auto w_ih = mk({4 * hs, in}), w_hh = mk({4 * hs, hs}), b_ih = mk({4 * hs}), b_hh = mk({4 * hs});
    // Gates in [0, 1], some exactly 0 or 1, a different row per sequence.
    auto m = torch::rand({b, hs}).mul_(1.4).sub_(0.2).clamp_(0, 1).requires_grad_();
    std::vector<torch::Tensor> inputs = {x, h0, c0, w_ih, w_hh, b_ih, b_hh, m};
    auto [y, h_t, c_t] = LstmLayerForward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, m);
    auto [ry, rh, rc] = MaskedReference(x, h0, c0, w_ih, w_hh, b_ih, b_hh, m);
    ExpectClose(y, ry, "y");
    ExpectClose(h_t, rh, "h_T");
    ExpectClose(c_t, rc, "c_T");
    auto gy = torch::randn_like(y), gh = torch::randn_like(h_t), gc = torch::randn_like(c_t);
    auto ours =
        torch::autograd::grad({(y * gy).sum() + (h_t * gh).sum() + (c_t * gc).sum()}, inputs);
    auto theirs =
        torch::autograd::grad({(ry * gy).sum() + (rh * gh).sum() + (rc * gc).sum()}, inputs);
    const char* names[] = {"dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh", "dmask"};
    for (size_t k = 0; k < inputs.size(); ++k) ExpectClose(ours[k], theirs[k], names[k]);
  }
  // One row for the whole batch equals scaling W_hh's columns.
  torch::manual_seed(9);
  auto x = torch::rand({5, 3, 4}), z = torch::zeros({3, 6}), w_ih = torch::rand({24, 4}) - 0.5,
       w_hh = torch::rand({24, 6}) - 0.5, bias = torch::rand({24});
  auto row = torch::rand({6});
  auto masked = LstmLayerForward(x, z + 0.3, z, w_ih, w_hh, bias, bias, row.expand({3, 6}));
  auto scaled = LstmLayerForward(x, z + 0.3, z, w_ih, w_hh * row, bias, bias);
  ExpectClose(std::get<0>(masked), std::get<0>(scaled), "shared row");
  EXPECT_THROW(LstmLayerForward(x, z, z, w_ih, w_hh, bias, bias, torch::ones({3, 5})), c10::Error);
}

TEST(LstmLayer, OnlySomeOutputsUsed) {
  auto x = torch::rand({4, 2, 3}, torch::requires_grad());
  auto w_ih = torch::rand({8, 3}, torch::requires_grad()), w_hh = torch::rand({8, 2});
  auto z = torch::zeros({2, 2});
  auto [y, h, c] = LstmLayerForward(x, z, z, w_ih, w_hh, torch::zeros({8}), torch::zeros({8}));
  y.sum().backward();  // h_T and c_T unused: their gradients are undefined
  EXPECT_TRUE(x.grad().defined());
  EXPECT_TRUE(torch::isfinite(w_ih.grad()).all().item<bool>());
}

TEST(LstmLayer, RejectsBadShapes) {
  auto z = torch::zeros({2, 3});
  EXPECT_THROW(LstmLayerForward(torch::zeros({4, 2, 5}), z, z, torch::zeros({12, 4}),
                                torch::zeros({12, 3}), torch::zeros({12}), torch::zeros({12})),
               c10::Error);
  EXPECT_THROW(LstmLayerForward(torch::zeros({4, 2}), z, z, torch::zeros({12, 4}),
                                torch::zeros({12, 3}), torch::zeros({12}), torch::zeros({12})),
               c10::Error);
}

// The inference path (nothing needs a gradient): the same values as torch::lstm and as the
// masked reference, at batch 1 (our packed matrix-vector kernel) and batch > 1 (sgemm), hidden
// sizes that are and are not multiples of 8 (the kernel's panel height), with and without
// grad mode (inputs that need no gradient take the same path).
TEST(LstmLayer, InferencePathMatchesTheReferences) {
  for (auto [t_len, b, in, hs] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{1, 1, 3, 2},
                                  {40, 1, 150, 50},
                                  {17, 1, 9, 13},
                                  {6, 3, 4, 5},
                                  {35, 4, 16, 16}}) {
    SCOPED_TRACE(testing::Message() << "T=" << t_len << " B=" << b << " I=" << in << " H=" << hs);
    torch::manual_seed(t_len * 7 + b + in + hs);
    auto mk = [](torch::IntArrayRef s) { return torch::rand(s) - 0.5; };
    auto x = mk({t_len, b, in}), h0 = mk({b, hs}), c0 = mk({b, hs});
    auto w_ih = mk({4 * hs, in}), w_hh = mk({4 * hs, hs}), b_ih = mk({4 * hs}), b_hh = mk({4 * hs});
    auto m = (torch::rand({b, hs}) * 1.5).clamp_max(1.0);
    const torch::Tensor c0_before = c0.clone(), h0_before = h0.clone();
    auto ref = torch::lstm(x, {h0.unsqueeze(0), c0.unsqueeze(0)}, {w_ih, w_hh, b_ih, b_hh}, true, 1,
                           0.0, false, false, false);
    auto masked_ref = MaskedReference(x, h0, c0, w_ih, w_hh, b_ih, b_hh, m);
    for (bool grad_mode : {false, true}) {
      SCOPED_TRACE(grad_mode ? "grad mode on, no input needs a gradient" : "NoGradGuard");
      torch::AutoGradMode mode(grad_mode);
      auto [y, h_t, c_t] = LstmLayerForward(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
      EXPECT_FALSE(y.requires_grad());
      ExpectClose(y, std::get<0>(ref), "y");
      ExpectClose(h_t, std::get<1>(ref).squeeze(0), "h_T");
      ExpectClose(c_t, std::get<2>(ref).squeeze(0), "c_T");
      auto [my, mh, mc] = LstmLayerForward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, m);
      ExpectClose(my, std::get<0>(masked_ref), "masked y");
      ExpectClose(mh, std::get<1>(masked_ref), "masked h_T");
      ExpectClose(mc, std::get<2>(masked_ref), "masked c_T");
      // The inputs are left as they were (c0 is updated in a copy).
      EXPECT_TRUE(torch::equal(c0, c0_before));
      EXPECT_TRUE(torch::equal(h0, h0_before));
    }
  }
}

// A bad shape is a clear error on the inference path too.
TEST(LstmLayer, InferencePathChecksShapes) {
  torch::NoGradGuard no_grad;
  auto x = torch::zeros({3, 1, 4}), h = torch::zeros({1, 2});
  EXPECT_THROW(LstmLayerForward(x, h, h, torch::zeros({8, 5}), torch::zeros({8, 2}),
                                torch::zeros({8}), torch::zeros({8})),
               c10::Error);
}

}  // namespace
}  // namespace rnnprune
