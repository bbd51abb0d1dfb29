#include "models/lstm_layer.h"

#include <cblas.h>

#include <initializer_list>
#include <vector>

#include "models/lstm_kernels.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Element-wise step on gates [B, 4H] (pre-activations on entry, activations i, f, g, o on
// exit): vectorised sigmoid/tanh through ATen (SLEEF kernels), the cell update in a plain loop.
// Writes c [B, H], tanh(c) [B, H] and h [B, H].
void CellForward(torch::Tensor& gates, const torch::Tensor& c_prev, torch::Tensor c,
                 torch::Tensor tanh_c, torch::Tensor h, int64_t b, int64_t hs) {
  gates.narrow(1, 0, 2 * hs).sigmoid_();
  gates.narrow(1, 2 * hs, hs).tanh_();
  gates.narrow(1, 3 * hs, hs).sigmoid_();
  const float* g = gates.data_ptr<float>();
  const float* cp = c_prev.data_ptr<float>();
  float* cr = c.data_ptr<float>();
  for (int64_t r = 0; r < b; ++r) {
    const float* gr = g + r * 4 * hs;
    for (int64_t j = 0; j < hs; ++j) {
      const int64_t k = r * hs + j;
      cr[k] = gr[hs + j] * cp[k] + gr[j] * gr[2 * hs + j];
    }
  }
  torch::tanh_out(tanh_c, c);
  const float* tc = tanh_c.data_ptr<float>();
  float* hr = h.data_ptr<float>();
  for (int64_t r = 0; r < b; ++r) {
    const float* o = g + r * 4 * hs + 3 * hs;
    for (int64_t j = 0; j < hs; ++j) hr[r * hs + j] = o[j] * tc[r * hs + j];
  }
}

// Throws c10::Error naming the tensor when a shape or dtype is not what LstmLayerForward takes.
void CheckLstmInputs(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
                     const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                     const torch::Tensor& b_ih, const torch::Tensor& b_hh,
                     const torch::Tensor& mask) {
  TORCH_CHECK(x.dim() == 3, "LstmLayerForward: x must be [T, B, I], got ", x.sizes());
  const int64_t b = x.size(1), in = x.size(2), hs = w_hh.size(1);
  TORCH_CHECK(x.scalar_type() == torch::kFloat && x.device().is_cpu(),
              "LstmLayerForward: float32 CPU tensors only");
  TORCH_CHECK(w_ih.sizes() == torch::IntArrayRef({4 * hs, in}), "w_ih must be [4H, I] = [", 4 * hs,
              ", ", in, "], got ", w_ih.sizes());
  TORCH_CHECK(w_hh.sizes() == torch::IntArrayRef({4 * hs, hs}), "w_hh must be [4H, H], got ",
              w_hh.sizes());
  TORCH_CHECK(b_ih.numel() == 4 * hs && b_hh.numel() == 4 * hs, "biases must be [4H]");
  TORCH_CHECK(h0.sizes() == torch::IntArrayRef({b, hs}) && c0.sizes() == h0.sizes(),
              "h0 and c0 must be [B, H] = [", b, ", ", hs, "], got ", h0.sizes(), " and ",
              c0.sizes());
  TORCH_CHECK(mask.numel() == 0 || mask.sizes() == torch::IntArrayRef({b, hs}),
              "recurrent_mask must be [B, H] = [", b, ", ", hs, "], got ", mask.sizes());
}

class LstmLayerFunction : public torch::autograd::Function<LstmLayerFunction> {
 public:
  static tensor_list forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor h0,
                             torch::Tensor c0, torch::Tensor w_ih, torch::Tensor w_hh,
                             torch::Tensor b_ih, torch::Tensor b_hh, torch::Tensor mask) {
    CheckLstmInputs(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask);
    const int64_t t_len = x.size(0), b = x.size(1), in = x.size(2), hs = w_hh.size(1);
    const bool masked = mask.numel() > 0;  // an empty tensor stands for no mask
    const torch::Tensor xc = x.contiguous();
    const torch::Tensor h0c = h0.contiguous(), c0c = c0.contiguous();
    const torch::Tensor mc = mask.contiguous();
    // The masked previous state m * h_{t-1}, rewritten each step.
    torch::Tensor h_masked = masked ? torch::empty({b, hs}, x.options()) : torch::Tensor();
    // Input projection of the whole sequence: one GEMM. gates [T, B, 4H].
    torch::Tensor gates =
        torch::addmm(b_ih + b_hh, xc.view({t_len * b, in}), w_ih.t()).view({t_len, b, 4 * hs});
    torch::Tensor y = torch::empty({t_len, b, hs}, x.options());
    torch::Tensor cs = torch::empty({t_len, b, hs}, x.options());
    torch::Tensor tanh_cs = torch::empty({t_len, b, hs}, x.options());
    const torch::Tensor w_hh_c = w_hh.contiguous();
    const float* w_hh_p = w_hh_c.data_ptr<float>();
    for (int64_t t = 0; t < t_len; ++t) {
      torch::Tensor g = gates[t];
      torch::Tensor h_prev = t == 0 ? h0c : y[t - 1];
      const torch::Tensor c_prev = t == 0 ? c0c : cs[t - 1];
      if (masked) h_prev = torch::mul_out(h_masked, h_prev, mc);
      // gates_t += h_{t-1} W_hh^T, straight through cblas (ATen's addmm adds ~30 us per call).
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(b),
                  static_cast<int>(4 * hs), static_cast<int>(hs), 1.0f, h_prev.data_ptr<float>(),
                  static_cast<int>(hs), w_hh_p, static_cast<int>(hs), 1.0f, g.data_ptr<float>(),
                  static_cast<int>(4 * hs));
      CellForward(g, c_prev, cs[t], tanh_cs[t], y[t], b, hs);
    }
    torch::Tensor h_t = y[t_len - 1].clone();
    torch::Tensor c_t = cs[t_len - 1].clone();
    ctx->save_for_backward({xc, h0c, c0c, w_ih, w_hh_c, gates, y, cs, tanh_cs, mc});
    return {y, h_t, c_t};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &h0 = saved[1], &c0 = saved[2], &w_ih = saved[3],
                        &w_hh = saved[4], &gates = saved[5], &y = saved[6], &cs = saved[7],
                        &tanh_cs = saved[8], &mask = saved[9];
    const bool masked = mask.numel() > 0;
    const int64_t t_len = x.size(0), b = x.size(1), in = x.size(2), hs = w_hh.size(1);
    torch::Tensor dy = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(y);
    torch::Tensor dh = grads[1].defined() ? grads[1].contiguous().clone() : torch::zeros_like(h0);
    torch::Tensor dc = grads[2].defined() ? grads[2].contiguous().clone() : torch::zeros_like(c0);
    torch::Tensor dgates = torch::empty_like(gates);  // pre-activation gradients [T, B, 4H]
    float* dhp = dh.data_ptr<float>();
    float* dcp = dc.data_ptr<float>();
    // d(mask) = sum over steps of (dgates_t W_hh) * h_{t-1}.
    torch::Tensor dmask = masked ? torch::zeros_like(mask) : torch::Tensor();
    for (int64_t t = t_len - 1; t >= 0; --t) {
      const float* g = gates[t].data_ptr<float>();
      const float* tc = tanh_cs[t].data_ptr<float>();
      const float* cp = (t == 0 ? c0 : cs[t - 1]).data_ptr<float>();
      const float* dyt = dy[t].data_ptr<float>();
      float* dg = dgates[t].data_ptr<float>();
      for (int64_t r = 0; r < b; ++r) {
        const float* gr = g + r * 4 * hs;
        float* dgr = dg + r * 4 * hs;
        for (int64_t j = 0; j < hs; ++j) {
          const int64_t k = r * hs + j;
          const float i = gr[j], f = gr[hs + j], gg = gr[2 * hs + j], o = gr[3 * hs + j];
          const float dht = dyt[k] + dhp[k];
          const float dct = dcp[k] + dht * o * (1.0f - tc[k] * tc[k]);
          dgr[j] = dct * gg * i * (1.0f - i);
          dgr[hs + j] = dct * cp[k] * f * (1.0f - f);
          dgr[2 * hs + j] = dct * i * (1.0f - gg * gg);
          dgr[3 * hs + j] = dht * tc[k] * o * (1.0f - o);
          dcp[k] = dct * f;
        }
      }
      // dh_{t-1} = dgates_t W_hh (times the mask where the recurrence read m * h_{t-1})
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(b),
                  static_cast<int>(hs), static_cast<int>(4 * hs), 1.0f, dg,
                  static_cast<int>(4 * hs), w_hh.data_ptr<float>(), static_cast<int>(hs), 0.0f, dhp,
                  static_cast<int>(hs));
      if (masked) {
        dmask.addcmul_(dh, t == 0 ? h0 : y[t - 1]);
        dh.mul_(mask);
      }
    }
    const torch::Tensor dg2 = dgates.view({t_len * b, 4 * hs});
    torch::Tensor h_prev =
        t_len > 1 ? torch::cat({h0.unsqueeze(0), y.narrow(0, 0, t_len - 1)}) : h0.unsqueeze(0);
    if (masked) h_prev = h_prev * mask.unsqueeze(0);
    torch::Tensor dx = torch::mm(dg2, w_ih).view({t_len, b, in});
    torch::Tensor dw_ih = torch::mm(dg2.t(), x.view({t_len * b, in}));
    torch::Tensor dw_hh = torch::mm(dg2.t(), h_prev.reshape({t_len * b, hs}));
    torch::Tensor db = dg2.sum(0);
    return {dx, dh, dc, dw_ih, dw_hh, db, db.clone(), dmask};
  }
};

// The forward pass when nothing needs a gradient (inference, evaluation): the same equations
// on raw float32 arrays, with no framework call per step, so that small (compacted) LSTMs are
// bound by their arithmetic rather than by per-op overhead: one GEMM for the input projection,
// then per step the recurrent product (our packed matrix-vector kernel at B = 1 with AVX2 + FMA,
// else cblas_sgemm) and the vectorised cell update (models/lstm_kernels.h). Matches the autograd
// path within 1e-5 (the non-linearities differ by a few ulp). Returns (y, h_T, c_T).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> InferenceForward(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
    const torch::Tensor& b_hh, const torch::Tensor& mask) {
  CheckLstmInputs(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask);
  const int64_t t_len = x.size(0), b = x.size(1), in = x.size(2), hs = w_hh.size(1);
  const bool masked = mask.numel() > 0;
  torch::Tensor gates =  // [T * B, 4H]
      torch::addmm(b_ih + b_hh, x.contiguous().view({t_len * b, in}), w_ih.t()).contiguous();
  const torch::Tensor w_hh_c = w_hh.contiguous();
  const bool packed = b == 1 && HasAvx2Fma();
  const PackedMatrix w_hh_packed =
      packed ? PackedMatrix::Pack(w_hh_c.data_ptr<float>(), 4 * hs, hs) : PackedMatrix();
  torch::Tensor y = torch::empty({t_len, b, hs}, x.options());
  torch::Tensor c = c0.contiguous().clone();  // [B, H], updated in place
  const torch::Tensor h0c = h0.contiguous(), mc = mask.contiguous();
  std::vector<float> h_masked(masked ? static_cast<size_t>(b * hs) : 0);
  const float* h_prev = h0c.data_ptr<float>();
  float* g = gates.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  float* cp = c.data_ptr<float>();
  for (int64_t t = 0; t < t_len; ++t, g += b * 4 * hs) {
    if (masked) {
      const float* m = mc.data_ptr<float>();
      for (int64_t k = 0; k < b * hs; ++k) h_masked[k] = h_prev[k] * m[k];
      h_prev = h_masked.data();
    }
    if (packed) {
      PackedGemv(w_hh_packed, 0, hs, h_prev, g);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(b),
                  static_cast<int>(4 * hs), static_cast<int>(hs), 1.0f, h_prev,
                  static_cast<int>(hs), w_hh_c.data_ptr<float>(), static_cast<int>(hs), 1.0f, g,
                  static_cast<int>(4 * hs));
    }
    float* yt = yp + t * b * hs;
    for (int64_t r = 0; r < b; ++r) LstmCellUpdate(g + r * 4 * hs, hs, cp + r * hs, yt + r * hs);
    h_prev = yt;
  }
  torch::Tensor h_t = y[t_len - 1].clone();
  return {y, h_t, c};
}

bool AnyRequiresGrad(std::initializer_list<const torch::Tensor*> tensors) {
  for (const torch::Tensor* t : tensors) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

}  // namespace

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> LstmLayerForward(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
    const torch::Tensor& b_hh, const torch::Tensor& recurrent_mask) {
  // Autograd functions take defined tensors only: an empty one stands for no mask.
  const torch::Tensor mask =
      recurrent_mask.defined() ? recurrent_mask : torch::empty({0}, x.options());
  if (!torch::GradMode::is_enabled() ||
      !AnyRequiresGrad({&x, &h0, &c0, &w_ih, &w_hh, &b_ih, &b_hh, &mask})) {
    return InferenceForward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask);
  }
  auto out = LstmLayerFunction::apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask);
  return {out[0], out[1], out[2]};
}

}  // namespace rnnprune
