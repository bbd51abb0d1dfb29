#include "training/moving_average.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::vector<std::pair<std::string, torch::Tensor>> Trainable(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

}  // namespace

absl::StatusOr<ExponentialMovingAverage> ExponentialMovingAverage::Create(
    const torch::nn::Module& module, const EmaOptions& options) {
  if (!(options.decay >= 0.0 && options.decay < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialMovingAverage: decay=", options.decay, " must be in [0, 1)"));
  }
  ExponentialMovingAverage ema(options);
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : Trainable(module)) {
    ema.shadows_.emplace_back(name, param.detach().clone());
  }
  if (ema.shadows_.empty()) {
    return absl::InvalidArgumentError(
        "ExponentialMovingAverage: the module has no trainable "
        "parameter");
  }
  return ema;
}

double ExponentialMovingAverage::CurrentDecay() const {
  if (!options_.warmup) return options_.decay;
  const double n = static_cast<double>(num_updates_);
  return std::min(options_.decay, (1.0 + n) / (10.0 + n));
}

absl::StatusOr<std::vector<torch::Tensor>> ExponentialMovingAverage::Match(
    const torch::nn::Module& module) const {
  auto params = Trainable(module);
  if (params.size() != shadows_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialMovingAverage: the module has ", params.size(),
                     " trainable parameters; the average has ", shadows_.size()));
  }
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& [name, shadow] = shadows_[i];
    if (params[i].first != name || params[i].second.sizes() != shadow.sizes() ||
        params[i].second.scalar_type() != shadow.scalar_type()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ExponentialMovingAverage: parameter ", i, " is '", params[i].first, "' ",
                       c10::str(params[i].second.sizes()), "; the average has '", name, "' ",
                       c10::str(shadow.sizes())));
    }
    out.push_back(params[i].second);
  }
  return out;
}

absl::Status ExponentialMovingAverage::Update(const torch::nn::Module& module) {
  if (swapped_) {
    return absl::FailedPreconditionError(
        "ExponentialMovingAverage::Update while the averages are swapped in; Swap back first");
  }
  absl::StatusOr<std::vector<torch::Tensor>> params = Match(module);
  if (!params.ok()) return params.status();
  const double decay = CurrentDecay();
  return CatchTorch("ExponentialMovingAverage::Update", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params->size(); ++i) {
      shadows_[i].second.mul_(decay).add_((*params)[i], 1.0 - decay);
    }
    ++num_updates_;
    return absl::OkStatus();
  });
}

absl::Status ExponentialMovingAverage::Swap(torch::nn::Module& module) {
  absl::StatusOr<std::vector<torch::Tensor>> params = Match(module);
  if (!params.ok()) return params.status();
  return CatchTorch("ExponentialMovingAverage::Swap", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params->size(); ++i) {
      torch::Tensor& param = (*params)[i];
      const torch::Tensor trained = param.clone();
      param.copy_(shadows_[i].second);
      shadows_[i].second.copy_(trained);
    }
    swapped_ = !swapped_;
    return absl::OkStatus();
  });
}

absl::Status ExponentialMovingAverage::Restore(
    const std::vector<std::pair<std::string, torch::Tensor>>& shadows, int64_t num_updates) {
  if (swapped_) {
    return absl::FailedPreconditionError(
        "ExponentialMovingAverage::Restore while the averages are swapped in; Swap back first");
  }
  if (num_updates < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ExponentialMovingAverage::Restore: num_updates=", num_updates, " must be >= 0"));
  }
  if (shadows.size() != shadows_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialMovingAverage::Restore: ", shadows.size(),
                     " saved shadows; the average has ", shadows_.size()));
  }
  for (size_t i = 0; i < shadows.size(); ++i) {
    const auto& [name, saved] = shadows[i];
    const torch::Tensor& mine = shadows_[i].second;
    if (name != shadows_[i].first || !saved.defined() || !saved.sizes().equals(mine.sizes()) ||
        saved.scalar_type() != mine.scalar_type()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ExponentialMovingAverage::Restore: saved shadow ", i, " is '", name, "' ",
                       saved.defined() ? c10::str(saved.sizes()) : std::string("(undefined)"),
                       "; the average has '", shadows_[i].first, "' ", c10::str(mine.sizes())));
    }
  }
  return CatchTorch("ExponentialMovingAverage::Restore", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < shadows.size(); ++i) shadows_[i].second.copy_(shadows[i].second);
    num_updates_ = num_updates;
    return absl::OkStatus();
  });
}

ScopedAveragedWeights::ScopedAveragedWeights(ExponentialMovingAverage* ema,
                                             torch::nn::Module* module)
    : ema_(ema), module_(module) {
  if (ema_ == nullptr || module_ == nullptr) {
    status_ = absl::InvalidArgumentError("ScopedAveragedWeights: null average or module");
  } else if (ema_->swapped()) {
    status_ = absl::FailedPreconditionError("ScopedAveragedWeights: averages already swapped in");
  } else {
    status_ = ema_->Swap(*module_);
  }
}

ScopedAveragedWeights::~ScopedAveragedWeights() {
  if (status_.ok()) {
    // Fails only if the module's parameters were replaced during the scope.
    const absl::Status restored = ema_->Swap(*module_);
    if (!restored.ok()) {
      std::fprintf(stderr, "ScopedAveragedWeights: trained weights not restored: %s\n",
                   std::string(restored.message()).c_str());
    }
  }
}

}  // namespace rnnprune
