// ISS group Lasso: Wen, Xu, Yan, Wu, Wang, Chen, Li, "Learning Intrinsic Sparse Structures
// within Long Short-Term Memory", ICLR 2018 (arXiv 1709.05027), Section 3.
//
// One group per hidden unit k of each LSTM (each direction of BiDAF's), its intrinsic sparse
// structure (pruning/neuron_groups.h): the unit's four gate rows of W_ih, W_hh and both biases,
// column k of W_hh and column k of whatever reads h (the next layer's W_ih or the LM's decoder;
// BiDAF's attention and output weights). The objective is the loss plus
//   (lambda / N) * sum_groups ||w_g||_2   (N: training examples of an epoch, tokens for the LM;
//                                          the one penalty scale of every method)
// optimised by proximal steps: on the LM, the SGD step on the NLL, then the proximal operator of
// the group penalty, the group soft-threshold w_g <- w_g * max(0, 1 - lr * s * lambda / ||w_g||),
// with s = penalty_scale = BPTT / N the factor of the trainer's summed-over-the-window loss (Parikh
// & Boyd, "Proximal Algorithms" 2014, Section 6.5.4). Over any model (BiDAF, trained with Adam) the
// proximal step is taken in the metric of the optimizer's update (ProximalStep below). The groups
// overlap (W_hh[gH + j, k] is in unit j's rows and unit k's column; the next layer's W_ih column k
// also lies in that layer's rows), so the scalings are applied group by group from norms taken
// before the step, the usual approximation of the overlapping-group operator. Then Wen et al.'s
// rule: every grouped weight with |w| < zero_threshold is set to 0 (their code zeroes |w| <
// max(1e-4, 2 * weight decay); we use no weight decay, so 1e-4 by default).
//
// Why proximal and not the penalty's subgradient in the loss: measured on the default preset
// (Zaremba small, 400 fine-tuning steps), the subgradient form shrank groups but left them
// non-zero: lambda 0.1 per window (about 2,700 on today's per-token scale) removed no unit
// (test perplexity 142), lambda 0.3 removed 13 + 5 units at test perplexity 322. The proximal step
// reaches exact zeros for the same objective.
//
// A group that is entirely zero removes its hidden unit; the shared compaction
// (pruning/compaction.h, pruning/bidaf_compaction.h) removes it physically. One implementation
// for every model (pruning/model_method.h; the LM runs it through pruning/lm_form.h). The embedding
// is not grouped (ISS prunes hidden sizes only; the published large model keeps its
// 1500-dimensional embedding).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"
#include "training/step_sizes.h"

namespace rnnprune {
namespace {

// The proximal step of the group penalty c * sum_g ||w_g|| (c = penalty_scale * lambda) in the
// metric of the optimizer's last update (training/step_sizes.h: x <- x - d * g_hat, d per
// weight), then Wen et al.'s zeroing. Every hidden group is scaled by
//   max(0, 1 - c / ||w_g / d_g||)                              (norms taken before the step)
// and every grouped weight with |w| < zero_threshold set to 0. With SGD's uniform d = lr this is
// the group soft-threshold max(0, 1 - lr * c / ||w_g||). With an adaptive optimizer (Adam), a
// step of lr * c would be too small beside the optimizer's normalised steps (every weight moves by
// about lr per step, whatever its gradient), so no group would ever reach zero; in its own
// metric, a group is zeroed exactly when ||w_g / d_g|| <= c, which for a group just zeroed reads
// ||g_hat_g|| <= c: the group Lasso's optimality condition for a zero group. The scalar per group
// keeps that zero test exact for a non-uniform d (the exact operator in a non-uniform metric
// shrinks each weight by its own factor; this one by the group's).
void ProximalStep(const LstmPruningLayout& layout,
                  const std::map<std::string, torch::Tensor>& params, const StepSizes& step,
                  double penalty, double zero_threshold) {
  torch::NoGradGuard no_grad;
  // Uniform d (SGD): norms of w and a shrink of lr * c, term for term the soft-threshold of
  // step lr; otherwise norms of w / d and a shrink of c.
  std::map<std::string, torch::Tensor> per_step = params;
  if (!step.uniform()) {
    for (auto& [name, p] : per_step) p = p / step.For(p);
  }
  const double shrink = step.uniform() ? step.learning_rate() * penalty : penalty;
  std::map<std::string, torch::Tensor> scales;
  for (const auto& [name, squared] : NeuronGroupSquaredNorms(layout, per_step).hidden) {
    scales[name] = (1.0 - shrink / squared.sqrt().clamp_min(1e-30)).clamp_min(0.0);
  }
  ScaleHiddenGroups(layout, params, scales);
  ZeroSmallWeights(GroupedTensors(layout, params), zero_threshold);
}

// The units whose group is entirely zero are closed; every input stays open.
NeuronGates ClosedGroups(const LstmPruningLayout& layout,
                         const std::map<std::string, torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  NeuronGates gates = NeuronGates::AllOpen(layout, params);
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(layout, params);
  for (const auto& [name, squared] : norms.hidden) {
    gates.hidden[name] = squared.gt(0).to(torch::kFloat32);
  }
  return gates;
}

// Over any model's layout (the LM: one group per unit of each layer; BiDAF: per unit of each
// LSTM direction, with every column and attention/output weight that reads it). The LSTM LM runs
// it through pruning/lm_form.h.
class IssForAnyModel : public ModelMethod {
 public:
  explicit IssForAnyModel(const ModelMethodOptions& o)
      : lambda_(o.lambda),
        penalty_scale_(o.penalty_scale),
        zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }
  void AfterStep(PrunableModelView& model, const StepSizes& step) override {
    ProximalStep(model.layout, model.parameters, step, penalty_scale_ * lambda_, zero_threshold_);
  }
  // The zero groups of the trained values: a trainer that then swaps moving averages of the
  // weights in (BiDAF's EMA) leaves a zeroed group close to zero but never exactly zero.
  void AfterTraining(const PrunableModelView& model) override {
    trained_gates_ = ClosedGroups(model.layout, model.parameters);
  }
  // The gates AfterTraining read; without a training run (no AfterTraining), those of `model`.
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    if (trained_gates_.has_value()) return *trained_gates_;
    return ClosedGroups(model.layout, model.parameters);
  }
  // Per LSTM: its hidden units and those whose group is zero now.
  nlohmann::json Diagnostics(const PrunableModelView& model) override {
    nlohmann::json sets = nlohmann::json::object();
    for (const auto& [name, open] : ClosedGroups(model.layout, model.parameters).hidden) {
      sets[name] = {{"hidden", open.numel()}, {"closed", open.eq(0).sum().item<int64_t>()}};
    }
    return {{"zero_groups", sets}};
  }

 private:
  double lambda_, penalty_scale_, zero_threshold_;
  std::optional<NeuronGates> trained_gates_;
};

absl::StatusOr<std::unique_ptr<ModelMethod>> Create(const ModelMethodOptions& o) {
  return std::unique_ptr<ModelMethod>(new IssForAnyModel(o));
}

PruningMethodInfo IssInfo() {
  PruningMethodInfo info = MethodInfo(
      "iss", "ISS group Lasso on LSTM hidden units, proximal steps (Wen et al., ICLR 2018)",
      /*structured=*/true, SettingKind::kLambda, {0.01, 0.03}, LmFormOf(Create));
  info.options = {ZeroThresholdOption()};
  info.create_for_any_model = Create;
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(IssInfo());

}  // namespace rnnprune
