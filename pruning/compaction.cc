#include "pruning/compaction.h"

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::vector<int64_t> NonZeroIndices(const torch::Tensor& t) {
  torch::Tensor idx = torch::nonzero(t).view({-1}).contiguous();
  return std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
}

torch::Tensor IndexTensor(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); }

}  // namespace

absl::StatusOr<CompactionResult> Compact(const LstmLm& model, const NeuronMask& mask) {
  return CatchTorch("Compact", [&]() -> absl::StatusOr<CompactionResult> {
    const LstmLmConfig& dense = model->config();
    absl::Status valid = mask.Validate(dense);
    if (!valid.ok()) return valid;
    const size_t layers = dense.hidden_sizes.size();
    torch::NoGradGuard no_grad;

    CompactionResult r;
    r.embedding_dims = NonZeroIndices(mask.input[0]);
    if (r.embedding_dims.empty()) {
      return absl::InvalidArgumentError(
          "layer 1: every input neuron (embedding dimension) is closed; nothing to compact");
    }
    std::vector<std::vector<int64_t>> kept(layers);
    for (size_t l = 0; l < layers; ++l) {
      kept[l] = NonZeroIndices(mask.hidden[l]);
      if (kept[l].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer ", l + 1, ": every hidden neuron is closed; nothing to compact"));
      }
    }
    // consumed[l] (l >= 1): units of layer l-1 read by layer l, i.e. kept there and open here.
    std::vector<std::vector<int64_t>> consumed(layers);
    for (size_t l = 1; l < layers; ++l) {
      const auto z_x = mask.input[l].accessor<float, 1>();
      for (int64_t k : kept[l - 1]) {
        if (k < z_x.size(0) && z_x[k] != 0) consumed[l].push_back(k);
      }
      if (consumed[l].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer ", l + 1, ": every input neuron is closed (no kept unit of layer ",
                         l, " reaches it); nothing to compact"));
      }
    }
    // Order of each layer's units: the ones the next layer reads first.
    r.hidden_units.resize(layers);
    for (size_t l = 0; l < layers; ++l) {
      if (l + 1 < layers) {
        r.hidden_units[l] = consumed[l + 1];
        for (int64_t k : kept[l]) {
          if (mask.input[l + 1].size(0) <= k || mask.input[l + 1][k].item<float>() == 0) {
            r.hidden_units[l].push_back(k);
          }
        }
      } else {
        r.hidden_units[l] = kept[l];
      }
    }

    LstmLmConfig cfg = dense;
    cfg.embedding_size = static_cast<int64_t>(r.embedding_dims.size());
    cfg.hidden_sizes.clear();
    cfg.input_sizes.clear();
    for (size_t l = 0; l < layers; ++l) {
      cfg.hidden_sizes.push_back(static_cast<int64_t>(r.hidden_units[l].size()));
      cfg.input_sizes.push_back(l == 0 ? cfg.embedding_size
                                       : static_cast<int64_t>(consumed[l].size()));
    }
    LstmLm out(cfg);
    const torch::Tensor emb_idx = IndexTensor(r.embedding_dims);
    out->named_parameters()["embedding.weight"].copy_(
        model->embedding_weight().index_select(1, emb_idx));
    for (size_t l = 0; l < layers; ++l) {
      const LstmLayerWeights& w = model->layer(static_cast<int64_t>(l));
      const int64_t h = dense.hidden_sizes[l];
      const torch::Tensor units = IndexTensor(r.hidden_units[l]);
      const torch::Tensor rows = torch::cat({units, units + h, units + 2 * h, units + 3 * h});
      torch::Tensor in_cols, in_scale;
      if (l == 0) {
        in_cols = emb_idx;
        in_scale = mask.input[0].index_select(0, emb_idx);
      } else {
        in_cols = IndexTensor(consumed[l]);
        in_scale =
            mask.input[l].index_select(0, in_cols) * mask.hidden[l - 1].index_select(0, in_cols);
      }
      LstmLayerWeights& o = out->mutable_layer(static_cast<int64_t>(l));
      o.w_ih.copy_(w.w_ih.index_select(0, rows).index_select(1, in_cols) * in_scale.unsqueeze(0));
      o.w_hh.copy_(w.w_hh.index_select(0, rows).index_select(1, units) *
                   mask.hidden[l].index_select(0, units).unsqueeze(0));
      o.b_ih.copy_(w.b_ih.index_select(0, rows));
      o.b_hh.copy_(w.b_hh.index_select(0, rows));
    }
    const torch::Tensor last = IndexTensor(r.hidden_units[layers - 1]);
    out->named_parameters()["decoder.weight"].copy_(
        model->decoder_weight().index_select(1, last) *
        mask.hidden[layers - 1].index_select(0, last).unsqueeze(0));
    out->named_parameters()["decoder.bias"].copy_(model->decoder_bias());
    out->eval();
    r.model = out;
    return r;
  });
}

}  // namespace rnnprune
