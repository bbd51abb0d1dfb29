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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pruning/method.h"
#include "pruning/model_method.h"
#include "pruning/neuron_gates.h"
#include "pruning/neuron_groups.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// The proximal step of the group penalty with strength `shrink` (lr * penalty_scale * lambda)
// and Wen et al.'s zeroing, over any model's layout: every hidden group scaled by
// max(0, 1 - shrink / ||w_g||) from norms taken before the step, then every grouped weight with
// |w| < zero_threshold set to 0.
void ProximalStep(const LstmPruningLayout& layout,
                  const std::map<std::string, torch::Tensor>& params, double shrink,
                  double zero_threshold) {
  torch::NoGradGuard no_grad;
  const NeuronGroupValues norms = NeuronGroupSquaredNorms(layout, params);
  std::map<std::string, torch::Tensor> scales;
  for (const auto& [name, squared] : norms.hidden) {
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

class IssGroupLasso : public PruningMethod {
 public:
  explicit IssGroupLasso(const MethodOptions& o)
      : options_(o), zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }

  void AfterStep(LstmLm& model, double learning_rate) override {
    ProximalStep(model->PruningLayout(), ParameterMap(model->named_parameters()),
                 learning_rate * options_.penalty_scale * options_.lambda, zero_threshold_);
  }

  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    const NeuronGates gates =
        ClosedGroups(model->PruningLayout(), ParameterMap(model->named_parameters()));
    PruningStructure s;
    s.structured = true;
    s.neurons = NeuronMask::AllOpen(model->config());
    for (size_t l = 0; l < s.neurons.hidden.size(); ++l) {
      s.neurons.hidden[l] = gates.hidden.at("lstm" + std::to_string(l));
    }
    return s;
  }

 private:
  MethodOptions options_;
  double zero_threshold_;
};

// The same over any model's layout (BiDAF: one group per unit of each LSTM direction, with
// every column and attention/output weight that reads it).
class IssForAnyModel : public ModelMethod {
 public:
  explicit IssForAnyModel(const ModelMethodOptions& o)
      : lambda_(o.lambda),
        penalty_scale_(o.penalty_scale),
        zero_threshold_(o.own.at("zero_threshold").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"zero_threshold", zero_threshold_}}; }
  void AfterStep(PrunableModelView& model, double learning_rate) override {
    ProximalStep(model.layout, model.parameters, learning_rate * penalty_scale_ * lambda_,
                 zero_threshold_);
  }
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    return ClosedGroups(model.layout, model.parameters);
  }

 private:
  double lambda_, penalty_scale_, zero_threshold_;
};

PruningMethodInfo IssInfo() {
  PruningMethodInfo info = MethodInfo(
      "iss", "ISS group Lasso on LSTM hidden units, proximal SGD (Wen et al., ICLR 2018)",
      /*structured=*/true, SettingKind::kLambda, {0.01, 0.03},
      [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
        return std::unique_ptr<PruningMethod>(new IssGroupLasso(o));
      });
  info.options = {ZeroThresholdOption()};
  info.create_for_any_model =
      [](const ModelMethodOptions& o) -> absl::StatusOr<std::unique_ptr<ModelMethod>> {
    return std::unique_ptr<ModelMethod>(new IssForAnyModel(o));
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(IssInfo());

}  // namespace rnnprune
