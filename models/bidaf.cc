#include "models/bidaf.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/lstm_layer.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Defined, on CPU, of `dtype` and `dims` dimensions.
absl::Status CheckTensor(const char* name, const torch::Tensor& t, torch::ScalarType dtype,
                         int64_t dims) {
  if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat(name, " is undefined"));
  if (!t.device().is_cpu() || t.scalar_type() != dtype || t.dim() != dims) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " must be a ", dims, "-d ", c10::toString(dtype), " CPU tensor, got ",
        c10::toString(t.scalar_type()), " ", c10::str(t.sizes()), " on ", t.device().str()));
  }
  return absl::OkStatus();
}

absl::Status CheckIds(const char* name, const torch::Tensor& ids, int64_t vocab) {
  if (ids.numel() == 0) return absl::OkStatus();
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  if (lo < 0 || hi >= vocab) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has ids in [", lo, ", ", hi, "]; they must be in [0, ", vocab, ")"));
  }
  return absl::OkStatus();
}

// words [B, T], chars [B, T, W >= 1], mask [B, T] right-padded with lengths >= 1.
absl::Status CheckSequence(const std::string& side, const torch::Tensor& words,
                           const torch::Tensor& chars, const torch::Tensor& mask, int64_t batch,
                           const BidafConfig& config) {
  const std::string w = side + "_words", c = side + "_chars", m = side + "_mask";
  absl::Status s = CheckTensor(w.c_str(), words, torch::kLong, 2);
  if (s.ok()) s = CheckTensor(c.c_str(), chars, torch::kLong, 3);
  if (s.ok()) s = CheckTensor(m.c_str(), mask, torch::kBool, 2);
  if (!s.ok()) return s;
  if (words.size(0) != batch || words.size(1) < 1 || mask.sizes() != words.sizes() ||
      chars.size(0) != batch || chars.size(1) != words.size(1) || chars.size(2) < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(side, ": words ", c10::str(words.sizes()), ", chars ", c10::str(chars.sizes()),
                     " and mask ", c10::str(mask.sizes()),
                     " must be [B, T], [B, T, W] and [B, T] with B = ", batch, ", T >= 1, W >= 1"));
  }
  const torch::Tensor lengths = mask.sum(1);
  const torch::Tensor prefix = torch::arange(mask.size(1)).unsqueeze(0) < lengths.unsqueeze(1);
  if (lengths.min().item<int64_t>() < 1 || !torch::equal(prefix, mask)) {
    return absl::InvalidArgumentError(
        absl::StrCat(m, " must be true on a non-empty prefix of each row (right padding)"));
  }
  s = CheckIds(w.c_str(), words, config.word_vocab_size);
  if (s.ok()) s = CheckIds(c.c_str(), chars, config.char_vocab_size);
  return s;
}

// Exactly the LSTM shapes `config` asks for, in lstms() order.
std::vector<std::pair<std::string, int64_t>> LstmNamesAndInputs(const BidafConfig& config) {
  const int64_t d = config.hidden_size;
  std::vector<std::pair<std::string, int64_t>> out = {{"contextual", config.EmbeddingWidth()}};
  for (int64_t l = 0; l < config.modelling_layers; ++l) {
    out.emplace_back(absl::StrCat("modelling.", l), l == 0 ? 8 * d : 2 * d);
  }
  out.emplace_back("output", 2 * d);
  return out;
}

// Dropout of a batch-first tensor [B, ...] holding `share`'s rows of the global batch.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool train, const BatchShare& share) {
  return p > 0.0 ? DropoutForShare(x, p, train, share, 0) : x;
}

// Parameter name prefix of the LSTM named `name` ("modelling.0" -> "modelling0"; '.' is not
// allowed in a parameter name).
std::string ParameterPrefix(std::string name) {
  name.erase(std::remove(name.begin(), name.end(), '.'), name.end());
  return name;
}

// The eight tensors of `lstm`, fw then bw, in the order w_ih, w_hh, b_ih, b_hh, with their
// parameter names.
std::vector<std::pair<std::string, torch::Tensor*>> NamedTensors(BidafLstm& lstm) {
  const std::string p = ParameterPrefix(lstm.name);
  return {{p + "_fw_w_ih", &lstm.forward.w_ih},  {p + "_fw_w_hh", &lstm.forward.w_hh},
          {p + "_fw_b_ih", &lstm.forward.b_ih},  {p + "_fw_b_hh", &lstm.forward.b_hh},
          {p + "_bw_w_ih", &lstm.backward.w_ih}, {p + "_bw_w_hh", &lstm.backward.w_hh},
          {p + "_bw_b_ih", &lstm.backward.b_ih}, {p + "_bw_b_hh", &lstm.backward.b_hh}};
}

// [n.fw; n.bw] at `power`.
std::vector<SpaceRun> BothDirections(const std::string& n, int power) {
  return {{n + ".fw", power}, {n + ".bw", power}};
}

std::vector<SpaceRun> Concat(std::initializer_list<std::vector<SpaceRun>> parts) {
  std::vector<SpaceRun> out;
  for (const std::vector<SpaceRun>& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

absl::Status ValidateBidafBatch(const BidafBatch& batch, const BidafConfig& config,
                                bool require_answers) {
  return CatchTorch("ValidateBidafBatch", [&]() -> absl::Status {
    absl::Status s = CheckTensor("context_words", batch.context_words, torch::kLong, 2);
    if (!s.ok()) return s;
    const int64_t b = batch.context_words.size(0);
    if (b < 1) return absl::InvalidArgumentError("the batch is empty (B = 0)");
    s = CheckSequence("context", batch.context_words, batch.context_chars, batch.context_mask, b,
                      config);
    if (s.ok()) {
      s = CheckSequence("question", batch.question_words, batch.question_chars, batch.question_mask,
                        b, config);
    }
    if (!s.ok()) return s;
    if (!require_answers && !batch.answer_first.defined() && !batch.answer_last.defined()) {
      return absl::OkStatus();
    }
    s = CheckTensor("answer_first", batch.answer_first, torch::kLong, 1);
    if (s.ok()) s = CheckTensor("answer_last", batch.answer_last, torch::kLong, 1);
    if (!s.ok()) return s;
    if (batch.answer_first.size(0) != b || batch.answer_last.size(0) != b) {
      return absl::InvalidArgumentError(
          absl::StrCat("answer_first and answer_last must be [B = ", b, "]"));
    }
    const torch::Tensor len = batch.context_mask.sum(1);
    const torch::Tensor bad = batch.answer_first.lt(0) | batch.answer_last.lt(batch.answer_first) |
                              batch.answer_last.ge(len);
    if (bad.any().item<bool>()) {
      const int64_t i = bad.nonzero()[0][0].item<int64_t>();
      return absl::InvalidArgumentError(
          absl::StrCat("example ", i, ": answer [", batch.answer_first[i].item<int64_t>(), ", ",
                       batch.answer_last[i].item<int64_t>(), "] must satisfy 0 <= first <= last < ",
                       len[i].item<int64_t>(), " (its context length)"));
    }
    return absl::OkStatus();
  });
}

torch::Tensor ReverseWithinLengths(const torch::Tensor& x, const torch::Tensor& lengths) {
  TORCH_CHECK(x.dim() >= 2, "ReverseWithinLengths: x must be [T, B, ...], got ", x.sizes());
  const int64_t t = x.size(0), b = x.size(1);
  TORCH_CHECK(lengths.dim() == 1 && lengths.size(0) == b && lengths.scalar_type() == torch::kLong,
              "ReverseWithinLengths: lengths must be int64 [B = ", b, "], got ", lengths.sizes());
  TORCH_CHECK(b == 0 || (lengths.min().item<int64_t>() >= 0 && lengths.max().item<int64_t>() <= t),
              "ReverseWithinLengths: lengths must be in [0, T = ", t, "]");
  const torch::Tensor pos = torch::arange(t, lengths.options()).unsqueeze(1);  // [T, 1]
  const torch::Tensor len = lengths.unsqueeze(0);                              // [1, B]
  torch::Tensor index = torch::where(pos < len, len - 1 - pos, pos);           // [T, B]
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = t;
  shape[1] = b;
  return x.gather(0, index.view(shape).expand(x.sizes()));
}

torch::Tensor RunBidirectionalLstm(const BidafLstm& lstm, const torch::Tensor& x,
                                   const torch::Tensor& lengths, const BidafLayerGates& gates) {
  TORCH_CHECK(x.dim() == 3, "RunBidirectionalLstm(", lstm.name, "): x must be [B, T, I], got ",
              x.sizes());
  const torch::Tensor xt = x.transpose(0, 1);  // [T, B, I]
  auto run = [&](const LstmLayerWeights& w, const torch::Tensor& index, const torch::Tensor& in,
                 const torch::Tensor& z_x, const torch::Tensor& z_h) {
    const torch::Tensor zeros = torch::zeros({x.size(0), w.w_hh.size(1)}, x.options());
    torch::Tensor read = index.defined() ? in.index_select(2, index) : in;
    if (z_x.defined()) read = read * z_x.unsqueeze(0);
    const torch::Tensor y =
        std::get<0>(LstmLayerForward(read, zeros, zeros, w.w_ih, w.w_hh, w.b_ih, w.b_hh, z_h));
    return z_h.defined() ? y * z_h.unsqueeze(0) : y;
  };
  const torch::Tensor fw =
      run(lstm.forward, lstm.forward_input, xt, gates.forward_input, gates.forward_hidden);
  const torch::Tensor bw = ReverseWithinLengths(
      run(lstm.backward, lstm.backward_input, ReverseWithinLengths(xt, lengths),
          gates.backward_input, gates.backward_hidden),
      lengths);
  return torch::cat({fw, bw}, 2).transpose(0, 1);  // [B, T, 2d]
}

BidafImpl::BidafImpl(const BidafConfig& config) : config_(config) {
  const absl::Status s = config.Validate();
  TORCH_CHECK(s.ok(), "Bidaf: invalid config: ", std::string(s.message()));
  const int64_t d = config.hidden_size, e = config.EmbeddingWidth();
  word_embedding_ = register_module("word_embedding",
                                    torch::nn::Embedding(config.word_vocab_size, config.word_dim));
  if (config.freeze_word_embedding) word_embedding_->weight.requires_grad_(false);
  char_embedding_ = register_module("char_embedding",
                                    torch::nn::Embedding(config.char_vocab_size, config.char_dim));
  char_conv_ = register_module(
      "char_conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(config.char_dim, config.char_channels,
                                                              config.char_kernel_width)));
  for (int64_t l = 0; l < config.highway_layers; ++l) {
    highway_transform_.push_back(
        register_module(absl::StrCat("highway", l, "_transform"), torch::nn::Linear(e, e)));
    highway_gate_.push_back(
        register_module(absl::StrCat("highway", l, "_gate"), torch::nn::Linear(e, e)));
  }
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(d));
  auto make = [&](const std::string& prefix, int64_t in) {
    LstmLayerWeights w;
    w.w_ih =
        register_parameter(prefix + "_w_ih", torch::empty({4 * d, in}).uniform_(-bound, bound));
    w.w_hh = register_parameter(prefix + "_w_hh", torch::empty({4 * d, d}).uniform_(-bound, bound));
    w.b_ih = register_parameter(prefix + "_b_ih", torch::empty({4 * d}).uniform_(-bound, bound));
    w.b_hh = register_parameter(prefix + "_b_hh", torch::empty({4 * d}).uniform_(-bound, bound));
    w.b_ih.narrow(0, d, d).add_(1.0);  // forget gate (rows d..2d-1 in the order i, f, g, o)
    return w;
  };
  for (const auto& [name, in] : LstmNamesAndInputs(config)) {
    const std::string prefix = ParameterPrefix(name);
    BidafLstm lstm;
    lstm.name = name;
    lstm.forward = make(prefix + "_fw", in);
    lstm.backward = make(prefix + "_bw", in);
    lstms_.push_back(std::move(lstm));
  }
  auto vec = [&](const char* name, int64_t n) {
    const double b = 1.0 / std::sqrt(static_cast<double>(n));
    return register_parameter(name, torch::empty({n}).uniform_(-b, b));
  };
  w_similarity_ = vec("w_similarity", 6 * d);
  w_start_ = vec("w_start", 10 * d);
  w_end_ = vec("w_end", 10 * d);
}

torch::Tensor BidafImpl::Embed(const torch::Tensor& words, const torch::Tensor& chars) {
  const int64_t b = chars.size(0), t = chars.size(1), w = chars.size(2);
  const int64_t k = config_.char_kernel_width;
  // Section 2 item 1 (Kim 2014): embed characters, Conv1d, ReLU, max-pool over the word. Padding
  // characters embed to exactly 0 and each word is right-padded with k - 1 more zeros, so that a
  // window starts at every character; only windows starting at a real character are pooled
  // (ReLU outputs are >= 0, so the others are set to 0). A word's features therefore do not
  // depend on W; a padded token (no characters) gets 0.
  const torch::Tensor char_valid = chars.ne(0);  // [B, T, W]
  torch::Tensor x = char_embedding_->forward(chars) * char_valid.unsqueeze(3).to(torch::kFloat);
  x = Dropout(x, config_.dropout, is_training(), batch_share_);
  x = x.view({b * t, w, config_.char_dim}).transpose(1, 2);  // [BT, c, W]
  x = torch::constant_pad_nd(x, {0, k - 1});                 // [BT, c, W+k-1]
  x = torch::relu(char_conv_->forward(x));                   // [BT, C, W]
  const torch::Tensor word_len = char_valid.sum(2).view({b * t, 1, 1});
  const torch::Tensor window_ok = torch::arange(w).view({1, 1, w}) < word_len;  // [BT, 1, W]
  const torch::Tensor char_features =
      std::get<0>(x.masked_fill(~window_ok, 0.0).max(2)).view({b, t, config_.char_channels});
  // Section 2 item 2: [word; char] through the highway network (Srivastava et al. 2015):
  // y = g * relu(W_H x + b_H) + (1 - g) * x, g = sigmoid(W_T x + b_T).
  torch::Tensor y = torch::cat({word_embedding_->forward(words), char_features}, 2);  // [B, T, D]
  for (size_t l = 0; l < highway_transform_.size(); ++l) {
    const torch::Tensor g = torch::sigmoid(highway_gate_[l]->forward(y));
    y = g * torch::relu(highway_transform_[l]->forward(y)) + (1 - g) * y;
  }
  return y;
}

BidafOutput BidafImpl::forward(const BidafBatch& batch) {
  return Run(batch, lstms_, {w_similarity_, w_start_, w_end_});
}

BidafOutput BidafImpl::ForwardWithLstms(const BidafBatch& batch,
                                        const std::vector<BidafLstm>& lstms) {
  return Run(batch, lstms, {w_similarity_, w_start_, w_end_});
}

BidafOutput BidafImpl::ForwardWithParameters(const BidafBatch& batch,
                                             const std::map<std::string, torch::Tensor>& replaced) {
  ForwardPlan how;
  how.parameters = replaced;
  return ForwardGated(batch, how);
}

PrunableModelView BidafImpl::View() {
  return {PruningLayout(), ParameterMap(named_parameters()), is_training(), batch_share_};
}

BidafOutput BidafImpl::ForwardGated(const BidafBatch& batch, const ForwardPlan& how) {
  const std::map<std::string, torch::Tensor>& replaced = how.parameters;
  std::vector<BidafLstm> lstms = lstms_;
  Heads heads{w_similarity_, w_start_, w_end_};
  std::map<std::string, torch::Tensor*> slots = {
      {"w_similarity", &heads.w_similarity}, {"w_start", &heads.w_start}, {"w_end", &heads.w_end}};
  for (BidafLstm& l : lstms) {
    for (const auto& [name, tensor] : NamedTensors(l)) slots[name] = tensor;
  }
  for (const auto& [name, tensor] : replaced) {
    const auto it = slots.find(name);
    TORCH_CHECK(it != slots.end(), "Bidaf: '", name,
                "' is not an LSTM or attention/output parameter; it cannot be replaced");
    TORCH_CHECK(tensor.defined() && tensor.sizes() == it->second->sizes(),
                "Bidaf: replacement of '", name, "' must be ", it->second->sizes());
    *it->second = tensor;
  }
  std::vector<BidafLayerGates> gates;
  if (!how.input_gates.empty() || !how.hidden_gates.empty()) {
    std::set<std::string> known;
    auto find = [&](const std::map<std::string, torch::Tensor>& m, const std::string& name) {
      known.insert(name);
      const auto it = m.find(name);
      return it == m.end() ? torch::Tensor() : it->second;
    };
    for (const BidafLstm& l : lstms_) {
      const std::string fw = l.name + ".fw", bw = l.name + ".bw";
      gates.push_back({find(how.input_gates, fw), find(how.hidden_gates, fw),
                       find(how.input_gates, bw), find(how.hidden_gates, bw)});
    }
    for (const auto* m : {&how.input_gates, &how.hidden_gates}) {
      for (const auto& [name, z] : *m) {
        TORCH_CHECK(known.count(name) > 0, "Bidaf: gates for unknown LSTM direction '", name, "'");
      }
    }
  }
  return Run(batch, lstms, heads, gates);
}

BidafOutput BidafImpl::ForwardWithNeuronGates(const BidafBatch& batch,
                                              const std::vector<BidafLayerGates>& gates) {
  TORCH_CHECK(gates.size() == lstms_.size(), "Bidaf: expected gates for ", lstms_.size(),
              " LSTMs, got ", gates.size());
  return Run(batch, lstms_, {w_similarity_, w_start_, w_end_}, gates);
}

BidafOutput BidafImpl::Run(const BidafBatch& batch, const std::vector<BidafLstm>& lstms,
                           const Heads& heads, const std::vector<BidafLayerGates>& gates) {
  const absl::Status valid = ValidateBidafBatch(batch, config_, false);
  TORCH_CHECK(valid.ok(), "Bidaf: ", std::string(valid.message()));
  TORCH_CHECK(lstms.size() == lstms_.size(), "Bidaf: expected ", lstms_.size(), " LSTMs, got ",
              lstms.size());
  // The gates of LSTM i, or none.
  const BidafLayerGates none;
  auto gates_of = [&](size_t i) -> const BidafLayerGates& {
    return gates.empty() ? none : gates[i];
  };
  for (size_t i = 0; i < lstms.size(); ++i) {
    const BidafLstm &got = lstms[i], &want = lstms_[i];
    const torch::Tensor* g[] = {&got.forward.w_ih,  &got.forward.w_hh,  &got.forward.b_ih,
                                &got.forward.b_hh,  &got.backward.w_ih, &got.backward.w_hh,
                                &got.backward.b_ih, &got.backward.b_hh};
    const torch::Tensor* w[] = {&want.forward.w_ih,  &want.forward.w_hh,  &want.forward.b_ih,
                                &want.forward.b_hh,  &want.backward.w_ih, &want.backward.w_hh,
                                &want.backward.b_ih, &want.backward.b_hh};
    TORCH_CHECK(got.name == want.name, "Bidaf: LSTM ", i, " is '", got.name, "', expected '",
                want.name, "'");
    for (int k = 0; k < 8; ++k) {
      TORCH_CHECK(g[k]->defined() && g[k]->sizes() == w[k]->sizes(), "Bidaf: LSTM '", got.name,
                  "' tensor ", k, " must be ", w[k]->sizes());
    }
  }
  const double p = config_.dropout;
  const bool train = is_training();
  const torch::Tensor c_len = batch.context_mask.sum(1), q_len = batch.question_mask.sum(1);
  const torch::Tensor c_mask = batch.context_mask, q_mask = batch.question_mask.unsqueeze(1);
  const int64_t tc = batch.context_words.size(1);

  // Items 1-3: embeddings, highway and the contextual BiLSTM, shared by context and question.
  // A per-example gate of the contextual layer acts on its question as on its context.
  const torch::Tensor h = RunBidirectionalLstm(
      lstms[0], Dropout(Embed(batch.context_words, batch.context_chars), p, train, batch_share_),
      c_len, gates_of(0));
  const torch::Tensor u = RunBidirectionalLstm(
      lstms[0], Dropout(Embed(batch.question_words, batch.question_chars), p, train, batch_share_),
      q_len, gates_of(0));

  // Item 4, attention flow. Eq. 1: S_tj = w_S^T [h_t; u_j; h_t o u_j], as three products; h is
  // [B, Tc, c] with c = 2d (dense) or the contextual layer's kept units (compacted).
  const int64_t c = h.size(2);
  const torch::Tensor& w_s = heads.w_similarity;
  TORCH_CHECK(w_s.dim() == 1 && w_s.size(0) == 3 * c, "Bidaf: w_similarity must be [3 x ", c,
              "], got ", w_s.sizes());
  const torch::Tensor s = (torch::matmul(h, w_s.narrow(0, 0, c)).unsqueeze(2) +
                           torch::matmul(u, w_s.narrow(0, c, c)).unsqueeze(1) +
                           torch::bmm(h * w_s.narrow(0, 2 * c, c), u.transpose(1, 2)))
                              .masked_fill(~q_mask, kBidafMaskedLogit);  // [B, Tc, Tq]
  // Eq. 2 (context-to-query): a_t = softmax_j(S_t:) over real question tokens; u~_t = sum a_tj u_j.
  const torch::Tensor u_tilde = torch::bmm(torch::softmax(s, 2), u);  // [B, Tc, 2d]
  // Eq. 3 (query-to-context): b = softmax_t(max_j S_tj) over real context tokens;
  // h~ = sum_t b_t h_t, tiled over the Tc positions.
  const torch::Tensor b_att =
      torch::softmax(std::get<0>(s.max(2)).masked_fill(~c_mask, kBidafMaskedLogit), 1);  // [B, Tc]
  const torch::Tensor h_tilde = torch::bmm(b_att.unsqueeze(1), h).expand({-1, tc, -1});
  // Eq. 4: G_t = [h_t; u~_t; h_t o u~_t; h_t o h~_t], G [B, Tc, 8d].
  const torch::Tensor g = torch::cat({h, u_tilde, h * u_tilde, h * h_tilde}, 2);

  // Item 5, modelling layer: M [B, Tc, 2d].
  torch::Tensor m = g;
  for (int64_t l = 0; l < config_.modelling_layers; ++l) {
    const size_t i = static_cast<size_t>(1 + l);
    m = RunBidirectionalLstm(lstms[i], Dropout(m, p, train, batch_share_), c_len, gates_of(i));
  }
  // Item 6, output layer. Eq. 5: p1 = softmax(w_p1^T [G; M]); M2 = BiLSTM(M);
  // p2 = softmax(w_p2^T [G; M2]).
  BidafOutput out;
  out.start_logits =
      torch::matmul(Dropout(torch::cat({g, m}, 2), p, train, batch_share_), heads.w_start)
          .masked_fill(~c_mask, kBidafMaskedLogit);
  const torch::Tensor m2 = RunBidirectionalLstm(lstms.back(), Dropout(m, p, train, batch_share_),
                                                c_len, gates_of(lstms.size() - 1));
  out.end_logits =
      torch::matmul(Dropout(torch::cat({g, m2}, 2), p, train, batch_share_), heads.w_end)
          .masked_fill(~c_mask, kBidafMaskedLogit);
  return out;
}

absl::StatusOr<BidafOutput> BidafImpl::TryForward(const BidafBatch& batch) {
  return CatchTorch("Bidaf forward", [&]() -> absl::StatusOr<BidafOutput> {
    const absl::Status s = ValidateBidafBatch(batch, config_, false);
    if (!s.ok()) return s;
    return forward(batch);
  });
}

absl::Status BidafImpl::SetWordEmbedding(const torch::Tensor& weights) {
  const absl::Status s = CheckTensor("word embedding", weights, torch::kFloat, 2);
  if (!s.ok()) return s;
  if (weights.size(0) != config_.word_vocab_size || weights.size(1) != config_.word_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "word embedding must be [word_vocab_size, word_dim] = [", config_.word_vocab_size, ", ",
        config_.word_dim, "], got ", c10::str(weights.sizes())));
  }
  torch::NoGradGuard no_grad;
  word_embedding_->weight.copy_(weights);
  return absl::OkStatus();
}

LstmPruningLayout BidafImpl::PruningLayout() const {
  LstmPruningLayout layout;
  layout.free_spaces.push_back({"highway", config_.EmbeddingWidth(), {}});
  const std::string first = lstms_.front().name;
  // Eq. 4: G = [h; u~; h o u~; h o h~], each block over the contextual [fw; bw] units.
  const std::vector<SpaceRun> g = Concat({BothDirections(first, 1), BothDirections(first, 1),
                                          BothDirections(first, 2), BothDirections(first, 2)});
  std::vector<SpaceRun> input = {{"highway", 1}};
  for (size_t i = 0; i < lstms_.size(); ++i) {
    const BidafLstm& lstm = lstms_[i];
    if (i == 1) input = g;                                                      // modelling.0
    if (i == lstms_.size() - 1) input = BothDirections(lstms_[i - 1].name, 1);  // output reads M
    for (const char* dir : {"fw", "bw"}) {
      const std::string p = absl::StrCat(ParameterPrefix(lstm.name), "_", dir, "_");
      // Gate sets named by default ("<lstm>.input", "<lstm>.hidden").
      layout.lstms.push_back({absl::StrCat(lstm.name, ".", dir), p + "w_ih", p + "w_hh", p + "b_ih",
                              p + "b_hh", input, /*input_set_name=*/"", /*hidden_set_name=*/""});
    }
    input = BothDirections(lstm.name, 1);  // the next modelling layer reads this one
  }
  const std::string last_modelling = lstms_[lstms_.size() - 2].name;
  layout.readers.push_back(
      {{"w_similarity", 0},
       0,
       Concat({BothDirections(first, 1), BothDirections(first, 1), BothDirections(first, 2)})});
  layout.readers.push_back({{"w_start", 0}, 0, Concat({g, BothDirections(last_modelling, 1)})});
  layout.readers.push_back({{"w_end", 0}, 0, Concat({g, BothDirections(lstms_.back().name, 1)})});
  return layout;
}

absl::Status BidafImpl::SetCompacted(const std::map<std::string, torch::Tensor>& parameters,
                                     const std::map<std::string, torch::Tensor>& inputs) {
  return CatchTorch("Bidaf::SetCompacted", [&]() -> absl::Status {
    torch::OrderedDict<std::string, torch::Tensor> named = named_parameters();
    for (const auto& [name, tensor] : parameters) {
      torch::Tensor* p = named.find(name);
      if (p == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a parameter"));
      }
      if (!tensor.defined() || tensor.scalar_type() != torch::kFloat) {
        return absl::InvalidArgumentError(absl::StrCat("'", name, "' must be a float32 tensor"));
      }
      torch::NoGradGuard no_grad;
      p->set_data(tensor.detach().clone());
    }
    std::map<std::string, torch::Tensor*> slots;
    for (BidafLstm& l : lstms_) {
      slots[l.name + ".fw"] = &l.forward_input;
      slots[l.name + ".bw"] = &l.backward_input;
    }
    for (const auto& [name, index] : inputs) {
      const auto it = slots.find(name);
      if (it == slots.end()) {
        return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not an LSTM direction"));
      }
      if (!index.defined() || index.dim() != 1 || index.scalar_type() != torch::kLong) {
        return absl::InvalidArgumentError(
            absl::StrCat("the input index of '", name, "' must be a 1-d int64 tensor"));
      }
      *it->second = index.clone();
    }
    return ValidateShapes();
  });
}

absl::Status BidafImpl::ValidateShapes() const {
  // Checks one direction reading a layer of width `in`; its output width goes to *out.
  auto direction = [](const std::string& name, const LstmLayerWeights& w,
                      const torch::Tensor& index, int64_t in, int64_t* out) -> absl::Status {
    const int64_t h = w.w_hh.dim() == 2 ? w.w_hh.size(1) : 0;
    const int64_t reads = index.defined() ? index.numel() : in;
    if (h < 1 || w.w_hh.size(0) != 4 * h || w.w_ih.dim() != 2 || w.w_ih.size(0) != 4 * h ||
        w.w_ih.size(1) != reads || w.b_ih.numel() != 4 * h || w.b_hh.numel() != 4 * h) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LSTM '", name, "': w_ih ", c10::str(w.w_ih.sizes()), ", w_hh ", c10::str(w.w_hh.sizes()),
          " and the biases must be [4H, ", reads, "], [4H, H], [4H]"));
    }
    if (index.defined() && index.numel() > 0 &&
        (index.min().item<int64_t>() < 0 || index.max().item<int64_t>() >= in)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LSTM '", name, "': its input index must lie in [0, ", in, ") (the width of its input)"));
    }
    *out += h;
    return absl::OkStatus();
  };
  auto layer = [&](const BidafLstm& l, int64_t in, int64_t* out) -> absl::Status {
    *out = 0;
    absl::Status s = direction(l.name + ".fw", l.forward, l.forward_input, in, out);
    if (s.ok()) s = direction(l.name + ".bw", l.backward, l.backward_input, in, out);
    return s;
  };
  auto vector = [](const char* name, const torch::Tensor& t, int64_t n) -> absl::Status {
    if (t.dim() == 1 && t.size(0) == n) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be [", n, "], got ", c10::str(t.sizes())));
  };
  int64_t c = 0, m = 0, m2 = 0;
  RETURN_IF_ERROR(layer(lstms_[0], config_.EmbeddingWidth(), &c));
  int64_t below = 4 * c;
  for (size_t i = 1; i + 1 < lstms_.size(); ++i) {
    RETURN_IF_ERROR(layer(lstms_[i], below, &m));
    below = m;
  }
  RETURN_IF_ERROR(layer(lstms_.back(), m, &m2));
  RETURN_IF_ERROR(vector("w_similarity", w_similarity_, 3 * c));
  RETURN_IF_ERROR(vector("w_start", w_start_, 4 * c + m));
  return vector("w_end", w_end_, 4 * c + m2);
}

std::vector<BidafLstm*> BidafImpl::lstms() {
  std::vector<BidafLstm*> out;
  for (BidafLstm& l : lstms_) out.push_back(&l);
  return out;
}

std::vector<const BidafLstm*> BidafImpl::lstms() const {
  std::vector<const BidafLstm*> out;
  for (const BidafLstm& l : lstms_) out.push_back(&l);
  return out;
}

torch::Tensor BidafLoss(const BidafOutput& output, const BidafBatch& batch) {
  TORCH_CHECK(output.start_logits.defined() && output.end_logits.defined() &&
                  output.start_logits.dim() == 2 &&
                  output.end_logits.sizes() == output.start_logits.sizes(),
              "BidafLoss: start and end logits must both be [B, Tc]");
  BidafConfig any_vocab;  // the answers' check does not look at ids
  any_vocab.word_vocab_size = any_vocab.char_vocab_size = INT64_MAX;
  const absl::Status s = ValidateBidafBatch(batch, any_vocab, /*require_answers=*/true);
  TORCH_CHECK(s.ok(), "BidafLoss: ", std::string(s.message()));
  TORCH_CHECK(batch.context_mask.sizes() == output.start_logits.sizes(), "BidafLoss: logits ",
              output.start_logits.sizes(), " do not match the batch's ",
              batch.context_mask.sizes());
  const torch::Tensor ls = torch::log_softmax(output.start_logits, 1);
  const torch::Tensor le = torch::log_softmax(output.end_logits, 1);
  return -(ls.gather(1, batch.answer_first.unsqueeze(1)) +
           le.gather(1, batch.answer_last.unsqueeze(1)))
              .mean();
}

}  // namespace rnnprune
