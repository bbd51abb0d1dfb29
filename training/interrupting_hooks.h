// For tests: training hooks that stand for a crash. They delegate everything to other hooks and
// make the loss NaN at a chosen optimizer step, so that Train stops there (before the update)
// and the last training checkpoint written before it is what a resumed run starts from.
#ifndef RNNPRUNE_TRAINING_INTERRUPTING_HOOKS_H_
#define RNNPRUNE_TRAINING_INTERRUPTING_HOOKS_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/files.h"
#include "torch/torch.h"
#include "training/lm_trainer.h"

namespace rnnprune {

class InterruptingHooks : public TrainingHooks {
 public:
  // Delegates to `inner` (not owned) and stops Train at optimizer step `fail_at` (1-based, over
  // all epochs). Just before, it keeps the bytes of the file at `checkpoint_path` ("" when none)
  // in snapshot(), to check that the stop did not touch it.
  InterruptingHooks(TrainingHooks* inner, int64_t fail_at, std::string checkpoint_path)
      : inner_(inner), fail_at_(fail_at), path_(std::move(checkpoint_path)) {}

  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override {
    return inner_->Forward(model, input, state);
  }
  torch::Tensor Penalty(LstmLm& model) override {
    if (++calls_ < fail_at_) return inner_->Penalty(model);
    snapshot_ = ReadFile(path_).value_or("");
    return torch::tensor(std::numeric_limits<float>::quiet_NaN());
  }
  std::vector<torch::Tensor> ExtraParameters() override { return inner_->ExtraParameters(); }
  torch::optim::Optimizer* ExtraOptimizer() override { return inner_->ExtraOptimizer(); }
  nlohmann::json Diagnostics(const LstmLm& model) override { return inner_->Diagnostics(model); }
  void AfterStep(LstmLm& model, double learning_rate) override {
    inner_->AfterStep(model, learning_rate);
  }
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    return inner_->SaveTrainingState();
  }
  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& state) override {
    return inner_->RestoreTrainingState(state);
  }

  const std::string& snapshot() const { return snapshot_; }

 private:
  TrainingHooks* inner_;
  int64_t fail_at_;
  int64_t calls_ = 0;
  std::string path_;
  std::string snapshot_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_INTERRUPTING_HOOKS_H_
