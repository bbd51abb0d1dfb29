// ISS group Lasso: Wen, Xu, Yan, Wu, Wang, Chen, Li, "Learning Intrinsic Sparse Structures
// within Long Short-Term Memory", ICLR 2018 (arXiv 1709.05027), Section 3.
//
// One group per hidden unit k of layer l, its intrinsic sparse structure (IssGroupSquaredNorms
// in pruning/method.h): the unit's four gate rows of W_ih, W_hh and both biases, column k of
// W_hh and column k of whatever reads h (the next layer's W_ih or the decoder). The objective
// is the mean NLL per token plus
//   (lambda / N) * sum_groups ||w_g||_2   (N: training tokens of an epoch; the one penalty
//                                          scale of every method, pruning/method.h PenaltyScale)
// optimised by proximal SGD: the SGD step on the NLL, then the proximal operator of the group
// penalty, the group soft-threshold w_g <- w_g * max(0, 1 - lr * s * lambda / ||w_g||), with
// s = penalty_scale = BPTT / N the factor of the trainer's summed-over-the-window loss (Parikh &
// Boyd, "Proximal Algorithms" 2014, Section 6.5.4). The groups overlap (W_hh[gH + j, k] is in
// unit j's rows and unit k's column; the next layer's W_ih column k also lies in that layer's
// rows), so the scalings are applied group by group from norms taken before the step, the usual
// approximation of the overlapping-group operator. Then Wen et al.'s rule: every grouped weight
// with |w| < zero_threshold is set to 0 (their code zeroes |w| < max(1e-4, 2 * weight decay);
// we use no weight decay, so 1e-4 by default).
//
// Why proximal and not the penalty's subgradient in the loss: measured on the default preset
// (Zaremba small, 400 fine-tuning steps), the subgradient form shrank groups but left them
// non-zero: lambda 0.1 per window (about 2,700 on today's per-token scale) removed no unit
// (test perplexity 142), lambda 0.3 removed 13 + 5 units at test perplexity 322. The proximal step
// reaches exact zeros for the same objective.
//
// A group that is entirely zero removes its hidden unit; the shared compaction
// (pruning/compaction.h) removes it physically. The embedding is not grouped (ISS prunes hidden
// sizes only; the published large model keeps its 1500-dimensional embedding).
#include <memory>
#include <vector>

#include "pruning/method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class IssGroupLasso : public PruningMethod {
 public:
  explicit IssGroupLasso(const MethodOptions& o)
      : options_(o), zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }

  void AfterStep(LstmLm& model, double learning_rate) override {
    torch::NoGradGuard no_grad;
    const int64_t layers = model->num_layers();
    const std::vector<torch::Tensor> norms = IssGroupSquaredNorms(model);
    for (int64_t l = 0; l < layers; ++l) {
      // scale_k = max(0, 1 - lr * penalty_scale * lambda / ||w_g||), 0 for an all-zero group.
      const torch::Tensor norm = norms[static_cast<size_t>(l)].sqrt();
      const double shrink = learning_rate * options_.penalty_scale * options_.lambda;
      const torch::Tensor scale = (1.0 - shrink / norm.clamp_min(1e-30)).clamp_min(0.0);
      LstmLayerWeights& w = model->mutable_layer(l);
      const int64_t h = w.w_hh.size(1);
      const torch::Tensor rows = scale.repeat({4});  // gate rows k, H + k, 2H + k, 3H + k
      w.w_ih.mul_(rows.unsqueeze(1));
      w.w_hh.mul_(rows.unsqueeze(1));
      w.b_ih.mul_(rows);
      w.b_hh.mul_(rows);
      // Column k of W_hh: its four entries on the gate rows of k are already scaled once.
      torch::Tensor column = scale.unsqueeze(0).expand({4 * h, h}).clone();
      column.view({4, h, h}).diagonal(0, 1, 2).fill_(1.0);
      w.w_hh.mul_(column);
      if (l + 1 < layers) {
        model->mutable_layer(l + 1).w_ih.mul_(scale.unsqueeze(0));
      } else {
        model->decoder_weight().mul_(scale.unsqueeze(0));
      }
    }
    std::vector<torch::Tensor> grouped;
    for (int64_t l = 0; l < layers; ++l) {
      const LstmLayerWeights& w = model->layer(l);
      grouped.insert(grouped.end(), {w.w_ih, w.w_hh, w.b_ih, w.b_hh});
    }
    grouped.push_back(model->decoder_weight());
    ZeroSmallWeights(grouped, zero_threshold_);
  }

  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    torch::NoGradGuard no_grad;
    PruningStructure s;
    s.structured = true;
    s.neurons = NeuronMask::AllOpen(model->config());
    const std::vector<torch::Tensor> norms = IssGroupSquaredNorms(model);
    for (size_t l = 0; l < norms.size(); ++l) {
      s.neurons.hidden[l] = norms[l].gt(0).to(torch::kFloat32);
    }
    return s;
  }

 private:
  MethodOptions options_;
  double zero_threshold_;
};

PruningMethodInfo IssInfo() {
  PruningMethodInfo info = MethodInfo(
      "iss", "ISS group Lasso on LSTM hidden units, proximal SGD (Wen et al., ICLR 2018)",
      /*structured=*/true, SettingKind::kLambda, {0.01, 0.03},
      [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
        return std::unique_ptr<PruningMethod>(new IssGroupLasso(o));
      });
  info.options = {ZeroThresholdOption()};
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(IssInfo());

}  // namespace rnnprune
