// Gradual magnitude pruning (unstructured): Zhu and Gupta, "To prune, or not to prune:
// exploring the efficacy of pruning for model compression", arXiv 1710.01878 (2017), eq. (1):
//   s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3   for t in {t0, t0 + dt, ..., t0 + n dt}
// with s_i = 0, t0 = 0, the final sparsity s_f from the setting, and the pruning ending with
// the search phase of the protocol (t0 + n dt = total_steps, pruning/protocol.h), whose
// recovery phase then fine-tunes with the final mask; the mask is updated every dt steps,
// dt = max(1, (t0 + n dt) / 20) (about 20 pruning events). At each update, every LSTM weight matrix
// of the model's layout (W_ih and W_hh of each LSTM, each direction of BiDAF's; the same sparsity
// for each, as in Zhu and Gupta) keeps its largest |w|; after every step the weights are
// multiplied by their masks, so pruned weights stay exactly 0. Biases and every other parameter
// (embedding, decoder, BiDAF's attention and output weights) are not pruned. One implementation
// for every model (pruning/model_method.h; the LM runs it through pruning/lm_form.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "pruning/lm_form.h"
#include "pruning/method.h"
#include "pruning/model_method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class MagnitudePruning : public ModelMethod {
 public:
  explicit MagnitudePruning(const ModelMethodOptions& o) : sparsity_(o.sparsity) {
    end_ = std::max<int64_t>(1, o.total_steps);
    dt_ = std::max<int64_t>(1, end_ / 20);
  }

  absl::Status Begin(PrunableModelView& model) override {
    torch::NoGradGuard no_grad;
    for (const std::string& name : LstmWeightMatrixNames(model.layout)) {
      masks_[name] = torch::ones_like(model.parameters.at(name), torch::kBool);
    }
    return absl::OkStatus();
  }

  void AfterStep(PrunableModelView& model, const StepSizes& /*step*/) override {
    ++step_;
    // The step just taken moved pruned weights off 0: re-apply the masks before ranking, so that
    // pruned weights stay pruned and the masks are nested.
    ApplyMasks(model);
    if (step_ <= end_ && (step_ % dt_ == 0 || step_ == end_)) {
      UpdateMasks(model, Target(step_));
      ApplyMasks(model);
    }
  }

  // The step counter drives the schedule and the masks are nested over it: a resumed run needs
  // both ("step": int64 scalar; "mask/<weight name>": bool, the weight's shape). Restoring
  // needs Begin to have run (it names the masks).
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    std::map<std::string, torch::Tensor> state = {{"step", torch::tensor(step_)}};
    for (const auto& [name, mask] : masks_) state["mask/" + name] = mask;
    return state;
  }

  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) override {
    auto step = state.find("step");
    if (step == state.end() || step->second.numel() != 1) {
      return absl::InvalidArgumentError("magnitude pruning: no step counter in the saved state");
    }
    std::map<std::string, torch::Tensor> masks;
    for (const auto& [name, mask] : masks_) {
      auto saved = state.find("mask/" + name);
      if (saved == state.end() || !saved->second.sizes().equals(mask.sizes()) ||
          saved->second.scalar_type() != torch::kBool) {
        return absl::InvalidArgumentError(
            "magnitude pruning: no bool mask of the right shape for '" + name + "'");
      }
      masks[name] = saved->second.clone();
    }
    step_ = step->second.item<int64_t>();
    masks_ = std::move(masks);
    return absl::OkStatus();
  }

  // Nothing removed by neuron: the structure is in FinalWeightMasks.
  absl::StatusOr<NeuronGates> FinalGates(const PrunableModelView& model) override {
    return NeuronGates{};
  }

  absl::StatusOr<std::map<std::string, torch::Tensor>> FinalWeightMasks(
      const PrunableModelView& model) override {
    if (masks_.empty()) return absl::FailedPreconditionError("FinalWeightMasks before Begin");
    // A run shorter than the schedule (e.g. a test) still ends at the target sparsity.
    ApplyMasks(model);
    if (step_ < end_) {
      UpdateMasks(model, sparsity_);
      ApplyMasks(model);
    }
    return masks_;
  }

 private:
  double Target(int64_t t) const {
    const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(end_));
    return sparsity_ * (1.0 - std::pow(1.0 - progress, 3.0));
  }

  void UpdateMasks(const PrunableModelView& model, double sparsity) {
    torch::NoGradGuard no_grad;
    for (auto& [name, mask] : masks_) {
      const torch::Tensor& w = model.parameters.at(name);
      const int64_t prune = std::llround(sparsity * static_cast<double>(w.numel()));
      if (prune <= 0) continue;
      // Prune the `prune` smallest |w|. Pruned weights are 0 here (masks applied just before)
      // and the sort is stable, so with prune >= the number already pruned they stay pruned.
      torch::Tensor order =
          std::get<1>(w.abs().flatten().sort(/*stable=*/c10::optional<bool>(true), /*dim=*/0));
      torch::Tensor flat = torch::ones({w.numel()}, torch::kBool);
      flat.index_fill_(0, order.narrow(0, 0, prune), false);
      mask = flat.view(w.sizes());
    }
  }

  void ApplyMasks(const PrunableModelView& model) {
    torch::NoGradGuard no_grad;
    for (auto& [name, mask] : masks_) {
      model.parameters.at(name).masked_fill_(mask.logical_not(), 0.0);
    }
  }

  double sparsity_;
  int64_t end_ = 1, dt_ = 1, step_ = 0;
  std::map<std::string, torch::Tensor> masks_;
};

absl::StatusOr<std::unique_ptr<ModelMethod>> Create(const ModelMethodOptions& o) {
  return std::unique_ptr<ModelMethod>(new MagnitudePruning(o));
}

PruningMethodInfo Info() {
  PruningMethodInfo info = MethodInfo(
      "magnitude", "gradual magnitude pruning of the LSTM weights (Zhu & Gupta 2017; unstructured)",
      /*structured=*/false, SettingKind::kSparsity, {0.8, 0.9, 0.95}, LmFormOf(Create));
  info.create_for_any_model = Create;
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(Info());

}  // namespace rnnprune
