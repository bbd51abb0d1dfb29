#include "models/softmax_cross_entropy.h"

#include "torch/torch.h"

namespace rnnprune {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class LinearCrossEntropyFunction : public torch::autograd::Function<LinearCrossEntropyFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor weight,
                               torch::Tensor bias, torch::Tensor targets) {
    TORCH_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1),
                "LinearCrossEntropy: x [N, H] and weight [V, H] expected, got ", x.sizes(), " and ",
                weight.sizes());
    TORCH_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "bias must be [V]");
    TORCH_CHECK(targets.dim() == 1 && targets.size(0) == x.size(0) &&
                    targets.scalar_type() == torch::kInt64,
                "targets must be int64 [N] with N = ", x.size(0));
    const int64_t v = weight.size(0);
    TORCH_CHECK(targets.numel() == 0 ||
                    (targets.min().item<int64_t>() >= 0 && targets.max().item<int64_t>() < v),
                "targets must lie in [0, ", v, ")");
    torch::Tensor logits = torch::addmm(bias, x, weight.t());           // [N, V]
    torch::Tensor lse = torch::logsumexp(logits, 1, /*keepdim=*/true);  // [N, 1]
    torch::Tensor target_logit = logits.gather(1, targets.unsqueeze(1));
    torch::Tensor loss = (lse - target_logit).mean();
    // Probabilities in place: the gradient of the mean NLL wrt logits is (p - onehot) / N.
    logits.sub_(lse).exp_();
    ctx->save_for_backward({x, weight, logits, targets});
    return loss;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &targets = saved[3];
    torch::Tensor p = saved[2];  // consumed: backward runs once (no retain_graph)
    const double scale = grads[0].item<double>() / static_cast<double>(x.size(0));
    p.scatter_add_(1, targets.unsqueeze(1),
                   torch::full({x.size(0), 1}, -1.0, p.options()));  // p - onehot
    torch::Tensor dx = torch::mm(p, weight).mul_(scale);
    torch::Tensor dw = torch::mm(p.t(), x).mul_(scale);
    torch::Tensor db = p.sum(0).mul_(scale);
    return {dx, dw, db, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor LinearCrossEntropy(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const torch::Tensor& targets) {
  return LinearCrossEntropyFunction::apply(x, weight, bias, targets);
}

}  // namespace rnnprune
