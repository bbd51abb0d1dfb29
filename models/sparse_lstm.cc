#include "models/sparse_lstm.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "Eigen/Dense"
#include "Eigen/Sparse"
#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using Csr = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;
using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// Dense row-major [rows, cols] float32 tensor -> CSR without its exact zeros.
Csr ToCsr(const torch::Tensor& w) {
  torch::Tensor d = w.detach().contiguous();
  const int64_t rows = d.size(0), cols = d.size(1);
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
      d.data_ptr<float>(), rows, cols);
  Csr csr = m.sparseView(0.0f, 0.0f);  // keeps every non-zero, drops exact zeros
  csr.makeCompressed();
  return csr;
}

torch::Tensor CsrToTensor(const Csr& csr) {
  torch::Tensor out = torch::zeros({csr.rows(), csr.cols()}, torch::kFloat32);
  float* p = out.data_ptr<float>();
  for (int r = 0; r < csr.outerSize(); ++r) {
    for (Csr::InnerIterator it(csr, r); it; ++it) p[r * csr.cols() + it.col()] = it.value();
  }
  return out;
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

int64_t CsrBytes(const Csr& csr) {
  return static_cast<int64_t>(csr.nonZeros()) * (sizeof(float) + sizeof(int)) +
         static_cast<int64_t>(csr.outerSize() + 1) * sizeof(int);
}

}  // namespace

struct SparseLstmLm::Layer {
  Csr w_ih;            // [4H, I]
  Csr w_hh;            // [4H, H]
  torch::Tensor bias;  // [4H], b_ih + b_hh
  int64_t hidden = 0, input = 0;
};

absl::StatusOr<SparseLstmLm> SparseLstmLm::FromDense(const LstmLm& model) {
  return CatchTorch("SparseLstmLm::FromDense", [&]() -> absl::StatusOr<SparseLstmLm> {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& p : model->parameters()) {
      if (p.scalar_type() != torch::kFloat32 || !p.device().is_cpu()) {
        return absl::InvalidArgumentError(
            "SparseLstmLm: the model's parameters must be float32 on the CPU");
      }
    }
    SparseLstmLm s;
    s.config_ = model->config();
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      const LstmLayerWeights& w = model->layer(l);
      auto layer = std::make_shared<Layer>();
      layer->w_ih = ToCsr(w.w_ih);
      layer->w_hh = ToCsr(w.w_hh);
      layer->bias = (w.b_ih + w.b_hh).detach().clone();
      layer->hidden = w.w_hh.size(1);
      layer->input = w.w_ih.size(1);
      s.layers_.push_back(std::move(layer));
    }
    s.embedding_ = model->embedding_weight().detach().clone();
    s.decoder_weight_ = model->decoder_weight().detach().clone();
    s.decoder_bias_ = model->decoder_bias().detach().clone();
    return s;
  });
}

LstmState SparseLstmLm::InitialState(int64_t batch) const {
  LstmState s;
  for (const auto& layer : layers_) {
    s.h.push_back(torch::zeros({1, batch, layer->hidden}));
    s.c.push_back(torch::zeros({1, batch, layer->hidden}));
  }
  return s;
}

torch::Tensor SparseLstmLm::Run(const torch::Tensor& input, LstmState* state) const {
  TORCH_CHECK(input.dim() == 2, "SparseLstmLm::Run: input must be [T, B]");
  TORCH_CHECK(
      state != nullptr && state->h.size() == layers_.size() && state->c.size() == layers_.size(),
      "SparseLstmLm::Run: state must hold one h and c per layer");
  torch::NoGradGuard no_grad;
  const int64_t t_len = input.size(0), b = input.size(1);
  torch::Tensor x = torch::embedding(embedding_, input);  // [T, B, E]
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = *layers_[l];
    const int64_t hs = layer.hidden;
    if (x.size(2) > layer.input) x = x.narrow(2, 0, layer.input);
    x = x.contiguous();
    TORCH_CHECK(x.size(2) == layer.input, "SparseLstmLm::Run: layer ", l, " expects ", layer.input,
                " inputs, got ", x.size(2));
    // Input projection of the whole sequence: gates [T*B, 4H] = x W_ih^T + b, computed as the
    // column-major product W_ih [4H, I] * x^T [I, T*B].
    // repeat() always copies: expand().contiguous() would alias the bias when T * B = 1, and
    // the products below would then accumulate into the model's weights.
    torch::Tensor gates = layer.bias.repeat({t_len * b, 1});
    {
      Eigen::Map<const ColMajor> xt(x.data_ptr<float>(), layer.input, t_len * b);
      Eigen::Map<ColMajor> g(gates.data_ptr<float>(), 4 * hs, t_len * b);
      g.noalias() += layer.w_ih * xt;
    }
    torch::Tensor h = state->h[l].reshape({b, hs}).contiguous().clone();
    torch::Tensor c = state->c[l].reshape({b, hs}).contiguous().clone();
    torch::Tensor y = torch::empty({t_len, b, hs});
    float* hp = h.data_ptr<float>();
    float* cp = c.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    float* gp = gates.data_ptr<float>();
    Eigen::Map<const ColMajor> ht(hp, hs, b);
    for (int64_t t = 0; t < t_len; ++t) {
      float* gt = gp + t * b * 4 * hs;  // [B, 4H] row-major = [4H, B] column-major
      Eigen::Map<ColMajor> g(gt, 4 * hs, b);
      g.noalias() += layer.w_hh * ht;
      // Fused element-wise cell update (no allocation in the loop).
      for (int64_t n = 0; n < b; ++n) {
        const float* gn = gt + n * 4 * hs;
        float* cn = cp + n * hs;
        float* hn = hp + n * hs;
        for (int64_t j = 0; j < hs; ++j) {
          const float i = Sigmoid(gn[j]), f = Sigmoid(gn[hs + j]);
          const float gg = std::tanh(gn[2 * hs + j]), o = Sigmoid(gn[3 * hs + j]);
          cn[j] = f * cn[j] + i * gg;
          hn[j] = o * std::tanh(cn[j]);
        }
      }
      std::memcpy(yp + t * b * hs, hp, sizeof(float) * static_cast<size_t>(b * hs));
    }
    state->h[l] = h.reshape({1, b, hs});
    state->c[l] = c.reshape({1, b, hs});
    x = y;
  }
  return x;
}

torch::Tensor SparseLstmLm::Logits(const torch::Tensor& hidden) const {
  torch::NoGradGuard no_grad;
  return torch::nn::functional::linear(hidden, decoder_weight_, decoder_bias_);
}

torch::Tensor SparseLstmLm::DenseWeight(int64_t layer, bool recurrent) const {
  const Layer& l = *layers_.at(static_cast<size_t>(layer));
  return CsrToTensor(recurrent ? l.w_hh : l.w_ih);
}

int64_t SparseLstmLm::LstmNonZeros() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += l->w_ih.nonZeros() + l->w_hh.nonZeros();
  return n;
}

int64_t SparseLstmLm::LstmCsrBytes() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += CsrBytes(l->w_ih) + CsrBytes(l->w_hh);
  return n;
}

int64_t SparseLstmLm::LstmDenseBytes() const {
  int64_t n = 0;
  for (const auto& l : layers_) {
    n += (l->w_ih.size() + l->w_hh.size()) * static_cast<int64_t>(sizeof(float));
  }
  return n;
}

}  // namespace rnnprune
