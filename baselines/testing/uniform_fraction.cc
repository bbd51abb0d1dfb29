// A test-only baseline (linked into tests only, never into the main job's binary) that proves a
// method with a hyperparameter of its own can be added in one file: it keeps the same fraction
// --uniform_fraction_keep of every neuron set (embedding dims, inputs of layers 2..L, hidden
// units), chosen at random from the run's seed, and declares that fraction below. Issue 15.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status_macros.h"
#include "pruning/method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class UniformFraction : public FixedNeuronMaskMethod {
 public:
  explicit UniformFraction(const MethodOptions& o)
      : options_(o), keep_(o.own.at("uniform_fraction_keep").get<double>()) {}

  nlohmann::json RecordedOptions() const override { return {{"keep_fraction", keep_}}; }

 protected:
  absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) override {
    const LstmLmConfig& c = model->config();
    auto kept = [this](int64_t n) {
      return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(keep_ * n)));
    };
    std::vector<int64_t> sizes = {kept(c.embedding_size)};
    for (size_t l = 1; l < c.hidden_sizes.size(); ++l)
      sizes.push_back(kept(c.hidden_sizes[l - 1]));  // every kept unit of layer l-1
    for (int64_t h : c.hidden_sizes) sizes.push_back(kept(h));
    ASSIGN_OR_RETURN(TargetSizes targets, TargetSizes::Parse(sizes, c));
    return MaskKeepingLargest(model, RandomNeuronScores(c, options_.seed), targets);
  }

 private:
  MethodOptions options_;
  double keep_;
};

PruningMethodInfo UniformFractionInfo() {
  PruningMethodInfo info;
  info.name = "uniform_fraction";
  info.description = "test only: a random uniform_fraction_keep of every neuron set (issue 15)";
  info.structured = true;
  info.options = {NumberOption("uniform_fraction_keep", 0.5,
                               "fraction of every neuron set that uniform_fraction keeps", 0, true,
                               1, false)};
  info.create = [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
    return std::unique_ptr<PruningMethod>(new UniformFraction(o));
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(UniformFractionInfo());

}  // namespace rnnprune
