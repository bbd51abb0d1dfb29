// Random neuron removal, a sanity floor: keeps a uniformly random subset of each layer's hidden
// neurons and of the embedding dimensions, of the target sizes (by default those the L0 runs
// reached), drawn from the run's seed, then fine-tunes like every other method. A structured
// method that does not beat it has learned nothing about which neurons matter.
#include <cstdint>
#include <memory>
#include <vector>

#include "pruning/method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class RandomRemoval : public FixedNeuronMaskMethod {
 public:
  explicit RandomRemoval(const MethodOptions& o) : options_(o) {}

 protected:
  absl::StatusOr<NeuronMask> ChooseMask(const LstmLm& model) override {
    torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(options_.seed);
    const LstmLmConfig& c = model->config();
    torch::Tensor embedding_scores = torch::rand({c.embedding_size}, gen);
    std::vector<torch::Tensor> hidden_scores;
    for (int64_t h : c.hidden_sizes) hidden_scores.push_back(torch::rand({h}, gen));
    return MaskKeepingLargest(c, embedding_scores, hidden_scores, options_.target_sizes);
  }

 private:
  MethodOptions options_;
};

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD((PruningMethodInfo{
    "random", "random neuron removal to the target sizes, then fine-tuning (sanity floor)",
    /*structured=*/true, SettingKind::kTargetSizes, {},
    [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
      return std::unique_ptr<PruningMethod>(new RandomRemoval(o));
    }}));

}  // namespace rnnprune
