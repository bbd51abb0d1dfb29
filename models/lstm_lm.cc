#include "models/lstm_lm.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/lstm_layer.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

namespace rnnprune {

absl::Status LstmLmConfig::Validate() const {
  if (vocab_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("vocab_size=", vocab_size, " must be > 0"));
  }
  if (embedding_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedding_size=", embedding_size, " must be > 0"));
  }
  if (hidden_sizes.empty()) {
    return absl::InvalidArgumentError("hidden_sizes is empty: an LSTM LM needs >= 1 layer");
  }
  for (size_t l = 0; l < hidden_sizes.size(); ++l) {
    if (hidden_sizes[l] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("hidden_sizes[", l, "]=", hidden_sizes[l],
                                                     " must be > 0 (layer ", l + 1, ")"));
    }
  }
  if (!input_sizes.empty()) {
    if (input_sizes.size() != hidden_sizes.size()) {
      return absl::InvalidArgumentError(absl::StrCat("input_sizes has ", input_sizes.size(),
                                                     " entries; hidden_sizes has ",
                                                     hidden_sizes.size()));
    }
    if (input_sizes[0] != embedding_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input_sizes[0]=", input_sizes[0], " must equal embedding_size=", embedding_size));
    }
    for (size_t l = 1; l < input_sizes.size(); ++l) {
      if (input_sizes[l] <= 0 || input_sizes[l] > hidden_sizes[l - 1]) {
        return absl::InvalidArgumentError(
            absl::StrCat("input_sizes[", l, "]=", input_sizes[l], " must be in [1, hidden_sizes[",
                         l - 1, "]=", hidden_sizes[l - 1], "] (layer ", l + 1, ")"));
      }
    }
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("dropout=", dropout, " must be in [0, 1)"));
  }
  if (!(init_scale > 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat("init_scale=", init_scale, " must be > 0"));
  }
  // The parameter count (which bounds the multiply-adds per token) must fit in int64, so that
  // NumParameters() and MultiplyAddsPerToken() never overflow.
  int64_t n = 0;
  auto add_product = [&n](int64_t a, int64_t b) {
    int64_t ab;
    return !__builtin_mul_overflow(a, b, &ab) && !__builtin_add_overflow(n, ab, &n);
  };
  bool fits = add_product(vocab_size, embedding_size) && add_product(vocab_size, 1) &&
              add_product(vocab_size, hidden_sizes.back());
  for (size_t l = 0; fits && l < hidden_sizes.size(); ++l) {
    const int64_t h = hidden_sizes[l];
    int64_t gates, fan_in;
    fits = !__builtin_mul_overflow(h, 4, &gates) &&
           !__builtin_add_overflow(InputSize(l), h, &fan_in) && add_product(gates, fan_in) &&
           add_product(gates, 2);
  }
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vocab_size=", vocab_size, ", embedding_size=", embedding_size, ", hidden_sizes=[",
        absl::StrJoin(hidden_sizes, ","), "]: the parameter count does not fit in int64"));
  }
  return absl::OkStatus();
}

std::string LstmLmConfig::ToJson() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["embedding_size"] = embedding_size;
  j["hidden_sizes"] = hidden_sizes;
  if (!input_sizes.empty()) j["input_sizes"] = input_sizes;
  j["dropout"] = dropout;
  j["init_scale"] = init_scale;
  return j.dump();
}

namespace {

// A size field must be a JSON integer that fits in int64: nlohmann's get<int64_t>() would also
// accept 1e300 or true and convert them (a float out of int64's range with undefined behaviour).
absl::StatusOr<int64_t> SizeFromJson(const nlohmann::json& v, const std::string& name) {
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() &&
       v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("LstmLmConfig JSON: ", name, "=", v.dump(), " must be an integer"));
  }
  return v.get<int64_t>();
}

absl::StatusOr<std::vector<int64_t>> SizesFromJson(const nlohmann::json& v,
                                                   const std::string& name) {
  if (!v.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("LstmLmConfig JSON: ", name, "=", v.dump(), " must be an array"));
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    absl::StatusOr<int64_t> x = SizeFromJson(v[i], absl::StrCat(name, "[", i, "]"));
    if (!x.ok()) return x.status();
    out.push_back(*x);
  }
  return out;
}

}  // namespace

absl::StatusOr<LstmLmConfig> LstmLmConfig::FromJson(const std::string& json) {
  LstmLmConfig c;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    absl::StatusOr<int64_t> vocab = SizeFromJson(j.at("vocab_size"), "vocab_size");
    if (!vocab.ok()) return vocab.status();
    c.vocab_size = *vocab;
    absl::StatusOr<int64_t> embedding = SizeFromJson(j.at("embedding_size"), "embedding_size");
    if (!embedding.ok()) return embedding.status();
    c.embedding_size = *embedding;
    absl::StatusOr<std::vector<int64_t>> hidden =
        SizesFromJson(j.at("hidden_sizes"), "hidden_sizes");
    if (!hidden.ok()) return hidden.status();
    c.hidden_sizes = *std::move(hidden);
    if (j.contains("input_sizes")) {
      absl::StatusOr<std::vector<int64_t>> input =
          SizesFromJson(j.at("input_sizes"), "input_sizes");
      if (!input.ok()) return input.status();
      c.input_sizes = *std::move(input);
    }
    c.dropout = j.at("dropout").get<double>();
    c.init_scale = j.at("init_scale").get<double>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("LstmLmConfig JSON: ", e.what()));
  }
  absl::Status s = c.Validate();
  if (!s.ok()) return s;
  return c;
}

int64_t LstmLmConfig::InputSize(size_t l) const {
  if (!input_sizes.empty()) return input_sizes.at(l);
  return l == 0 ? embedding_size : hidden_sizes.at(l - 1);
}

int64_t LstmLmConfig::NumParameters() const {
  int64_t n = vocab_size * embedding_size;
  for (size_t l = 0; l < hidden_sizes.size(); ++l) {
    const int64_t h = hidden_sizes[l];
    n += 4 * h * (InputSize(l) + h) + 8 * h;
  }
  return n + vocab_size * hidden_sizes.back() + vocab_size;
}

int64_t LstmLmConfig::MultiplyAddsPerToken() const {
  int64_t n = 0;
  for (size_t l = 0; l < hidden_sizes.size(); ++l) {
    n += 4 * hidden_sizes[l] * (InputSize(l) + hidden_sizes[l]);
  }
  return n + vocab_size * hidden_sizes.back();
}

LstmState LstmState::Detached() const {
  LstmState s;
  for (const auto& t : h) s.h.push_back(t.detach());
  for (const auto& t : c) s.c.push_back(t.detach());
  return s;
}

LstmLmImpl::LstmLmImpl(const LstmLmConfig& config) : config_(config) {
  const absl::Status s = config.Validate();
  TORCH_CHECK(s.ok(), "LstmLm: invalid config: ", std::string(s.message()));
  embedding_ =
      register_module("embedding", torch::nn::Embedding(config.vocab_size, config.embedding_size));
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    const int64_t h = config.hidden_sizes[l];
    const int64_t in = config.InputSize(l);
    LstmLayerWeights w;
    const std::string p = absl::StrCat("lstm", l, "_");
    w.w_ih = register_parameter(p + "w_ih", torch::empty({4 * h, in}));
    w.w_hh = register_parameter(p + "w_hh", torch::empty({4 * h, h}));
    w.b_ih = register_parameter(p + "b_ih", torch::empty({4 * h}));
    w.b_hh = register_parameter(p + "b_hh", torch::empty({4 * h}));
    layers_.push_back(std::move(w));
  }
  decoder_ =
      register_module("decoder", torch::nn::Linear(config.hidden_sizes.back(), config.vocab_size));
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) p.uniform_(-config.init_scale, config.init_scale);
}

LstmState LstmLmImpl::InitialState(int64_t batch) const {
  LstmState s;
  const auto opts = embedding_->weight.options();
  for (const auto& w : layers_) {
    const int64_t h = w.w_hh.size(1);
    s.h.push_back(torch::zeros({1, batch, h}, opts));
    s.c.push_back(torch::zeros({1, batch, h}, opts));
  }
  return s;
}

torch::Tensor LmOutput::Logits() const {
  return torch::linear(hidden, decoder_weight, decoder_bias);
}

torch::Tensor LstmLmImpl::forward(const torch::Tensor& input, LstmState* state) {
  return Run(input, state).Logits();
}

LmOutput LstmLmImpl::Run(const torch::Tensor& input, LstmState* state) {
  return RunWith(input, state, embedding_->weight, layers_, decoder_->weight, decoder_->bias);
}

LstmPruningLayout LstmLmImpl::PruningLayout() const { return LstmLmPruningLayout(config_); }

LstmPruningLayout LstmLmPruningLayout(const LstmLmConfig& config) {
  LstmPruningLayout layout;
  layout.free_spaces.push_back({"embedding", config.embedding_size, {{"embedding.weight", 1}}});
  std::string below = "embedding";
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    const std::string name = absl::StrCat("lstm", l), p = name + "_";
    layout.lstms.push_back({name,
                            p + "w_ih",
                            p + "w_hh",
                            p + "b_ih",
                            p + "b_hh",
                            {{below, 1}},
                            l == 0 ? "E" : absl::StrCat("I", l + 1),
                            absl::StrCat("H", l + 1)});
    below = name;
  }
  layout.readers.push_back({{"decoder.weight", 1}, 0, {{below, 1}}});
  return layout;
}

std::map<std::string, torch::Tensor> LstmLmParameterShapes(const LstmLmConfig& config) {
  const auto meta = [](std::vector<int64_t> shape) {
    return torch::empty(shape, torch::TensorOptions().device(torch::kMeta));
  };
  std::map<std::string, torch::Tensor> p;
  p["embedding.weight"] = meta({config.vocab_size, config.embedding_size});
  for (size_t l = 0; l < config.hidden_sizes.size(); ++l) {
    const int64_t h = config.hidden_sizes[l];
    const std::string n = absl::StrCat("lstm", l, "_");
    p[n + "w_ih"] = meta({4 * h, config.InputSize(l)});
    p[n + "w_hh"] = meta({4 * h, h});
    p[n + "b_ih"] = meta({4 * h});
    p[n + "b_hh"] = meta({4 * h});
  }
  p["decoder.weight"] = meta({config.vocab_size, config.hidden_sizes.back()});
  p["decoder.bias"] = meta({config.vocab_size});
  return p;
}

LmOutput LstmLmImpl::RunWith(const torch::Tensor& input, LstmState* state,
                             const torch::Tensor& embedding,
                             const std::vector<LstmLayerWeights>& layers,
                             const torch::Tensor& decoder_weight,
                             const torch::Tensor& decoder_bias) {
  TORCH_CHECK(input.dim() == 2, "LstmLm: input must be [T, B], got ", input.sizes());
  TORCH_CHECK(
      state != nullptr && state->h.size() == layers.size() && state->c.size() == layers.size(),
      "LstmLm: state must hold one (h, c) per layer (", layers.size(), ")");
  const double p = config_.dropout;
  const bool train = is_training();
  torch::Tensor x = torch::embedding(embedding, input);  // [T, B, E]
  x = DropoutForShare(x, p, train, batch_share_, 1);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LstmLayerWeights& w = layers[l];
    // A compacted layer may read only the first I_l units of the previous layer's output.
    if (x.size(2) > w.w_ih.size(1)) x = x.narrow(2, 0, w.w_ih.size(1));
    auto out = LstmLayerForward(x, state->h[l].squeeze(0), state->c[l].squeeze(0), w.w_ih, w.w_hh,
                                w.b_ih, w.b_hh);
    x = DropoutForShare(std::get<0>(out), p, train, batch_share_, 1);  // [T, B, H_l]
    state->h[l] = std::get<1>(out).unsqueeze(0);
    state->c[l] = std::get<2>(out).unsqueeze(0);
  }
  return {x, decoder_weight, decoder_bias};
}

LmOutput LstmLmImpl::RunWithNeuronGates(const torch::Tensor& input, LstmState* state,
                                        const std::vector<torch::Tensor>& input_gates,
                                        const std::vector<torch::Tensor>& hidden_gates) {
  TORCH_CHECK(input.dim() == 2, "LstmLm: input must be [T, B], got ", input.sizes());
  const size_t layers = layers_.size();
  TORCH_CHECK(state != nullptr && state->h.size() == layers && state->c.size() == layers,
              "LstmLm: state must hold one (h, c) per layer (", layers, ")");
  TORCH_CHECK(input_gates.size() == layers && hidden_gates.size() == layers,
              "LstmLm: one input and one hidden gate tensor per layer (", layers, ")");
  const int64_t batch = input.size(1);
  const double p = config_.dropout;
  const bool train = is_training();
  torch::Tensor x =
      DropoutForShare(torch::embedding(embedding_->weight, input), p, train, batch_share_, 1);
  for (size_t l = 0; l < layers; ++l) {
    const LstmLayerWeights& w = layers_[l];
    if (x.size(2) > w.w_ih.size(1)) x = x.narrow(2, 0, w.w_ih.size(1));
    const int64_t hs = w.w_hh.size(1);
    TORCH_CHECK(input_gates[l].sizes() == torch::IntArrayRef({batch, w.w_ih.size(1)}) &&
                    hidden_gates[l].sizes() == torch::IntArrayRef({batch, hs}),
                "LstmLm: gates of layer ", l + 1, " must be [B, I] = [", batch, ", ",
                w.w_ih.size(1), "] and [B, H] = [", batch, ", ", hs, "], got ",
                input_gates[l].sizes(), " and ", hidden_gates[l].sizes());
    x = x * input_gates[l].unsqueeze(0);
    auto out = LstmLayerForward(x, state->h[l].squeeze(0), state->c[l].squeeze(0), w.w_ih, w.w_hh,
                                w.b_ih, w.b_hh, hidden_gates[l]);
    x = DropoutForShare(std::get<0>(out), p, train, batch_share_, 1) * hidden_gates[l].unsqueeze(0);
    state->h[l] = std::get<1>(out).unsqueeze(0);
    state->c[l] = std::get<2>(out).unsqueeze(0);
  }
  return {x, decoder_->weight, decoder_->bias};
}

LstmLm CloneLstmLm(const LstmLm& model) {
  LstmLm copy(model->config());
  torch::NoGradGuard no_grad;
  auto src = model->named_parameters();
  for (auto& dst : copy->named_parameters()) dst.value().copy_(src[dst.key()]);
  copy->train(model->is_training());
  return copy;
}

}  // namespace rnnprune
