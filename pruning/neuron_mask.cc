#include "pruning/neuron_mask.h"

#include "absl/strings/str_cat.h"
#include "torch/torch.h"

namespace rnnprune {

NeuronMask NeuronMask::AllOpen(const LstmLmConfig& config) {
  NeuronMask m;
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    m.input.push_back(torch::ones({config.InputSize(l)}));
    m.hidden.push_back(torch::ones({config.hidden_sizes[l]}));
  }
  return m;
}

absl::Status NeuronMask::Validate(const LstmLmConfig& config) const {
  const size_t layers = config.hidden_sizes.size();
  if (input.size() != layers || hidden.size() != layers) {
    return absl::InvalidArgumentError(absl::StrCat("mask has ", input.size(), " input and ",
                                                   hidden.size(), " hidden sets; the model has ",
                                                   layers, " layers"));
  }
  for (size_t l = 0; l < layers; ++l) {
    const std::pair<const torch::Tensor*, int64_t> sets[] = {{&input[l], config.InputSize(l)},
                                                             {&hidden[l], config.hidden_sizes[l]}};
    for (int k = 0; k < 2; ++k) {
      const torch::Tensor& t = *sets[k].first;
      const char* name = k == 0 ? "input" : "hidden";
      if (!t.defined() || t.dim() != 1 || t.size(0) != sets[k].second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "layer ", l + 1, " ", name, " mask must have ", sets[k].second, " entries"));
      }
      if (t.numel() > 0 && (t.min().item<double>() < 0 || t.max().item<double>() > 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer ", l + 1, " ", name, " mask values must lie in [0, 1]"));
      }
    }
  }
  return absl::OkStatus();
}

namespace {
std::vector<int64_t> CountNonZero(const std::vector<torch::Tensor>& sets) {
  std::vector<int64_t> out;
  for (const auto& t : sets) out.push_back((t != 0).sum().item<int64_t>());
  return out;
}
}  // namespace

std::vector<int64_t> NeuronMask::KeptInputs() const { return CountNonZero(input); }
std::vector<int64_t> NeuronMask::KeptHidden() const { return CountNonZero(hidden); }

NeuronGates ToNeuronGates(const NeuronMask& mask) {
  NeuronGates gates;
  for (size_t l = 0; l < mask.input.size(); ++l)
    gates.input[absl::StrCat("lstm", l)] = mask.input[l];
  for (size_t l = 0; l < mask.hidden.size(); ++l) {
    gates.hidden[absl::StrCat("lstm", l)] = mask.hidden[l];
  }
  return gates;
}

GatedWeights ApplyNeuronMask(const LstmLm& model, const NeuronMask& mask) {
  const absl::Status s = mask.Validate(model->config());
  TORCH_CHECK(s.ok(), "ApplyNeuronMask: ", std::string(s.message()));
  GatedWeights g;
  g.embedding = model->embedding_weight();
  const int64_t layers = model->num_layers();
  for (int64_t l = 0; l < layers; ++l) {
    const LstmLayerWeights& w = model->layer(l);
    torch::Tensor in_scale = mask.input[l];
    if (l > 0) in_scale = in_scale * mask.hidden[l - 1];
    LstmLayerWeights gw;
    gw.w_ih = w.w_ih * in_scale.unsqueeze(0);
    gw.w_hh = w.w_hh * mask.hidden[l].unsqueeze(0);
    gw.b_ih = w.b_ih;
    gw.b_hh = w.b_hh;
    g.layers.push_back(gw);
  }
  g.decoder_weight = model->decoder_weight() * mask.hidden[layers - 1].unsqueeze(0);
  g.decoder_bias = model->decoder_bias();
  return g;
}

LmOutput RunGated(LstmLm& model, const NeuronMask& mask, const torch::Tensor& input,
                  LstmState* state) {
  GatedWeights g = ApplyNeuronMask(model, mask);
  return model->RunWith(input, state, g.embedding, g.layers, g.decoder_weight, g.decoder_bias);
}

GateWeightCounts CountGateWeights(const LstmLmConfig& c) {
  GateWeightCounts n;
  const size_t layers = c.hidden_sizes.size();
  for (size_t l = 0; l < layers; ++l) {
    const int64_t h = c.hidden_sizes[l], in = c.InputSize(l);
    n.input.push_back(4 * h + (l == 0 ? c.vocab_size : 0));
    const int64_t consumer = l + 1 < layers ? 4 * c.hidden_sizes[l + 1] : c.vocab_size;
    n.hidden.push_back(4 * in + 8 * h - 4 + 8 + consumer);
  }
  return n;
}

GateWeightCounts CountGateMultiplyAdds(const LstmLmConfig& c) {
  GateWeightCounts n;
  const size_t layers = c.hidden_sizes.size();
  for (size_t l = 0; l < layers; ++l) {
    const int64_t h = c.hidden_sizes[l], in = c.InputSize(l);
    n.input.push_back(4 * h);
    const int64_t consumer = l + 1 < layers ? 4 * c.hidden_sizes[l + 1] : c.vocab_size;
    n.hidden.push_back(4 * in + 8 * h - 4 + consumer);
  }
  return n;
}

}  // namespace rnnprune
