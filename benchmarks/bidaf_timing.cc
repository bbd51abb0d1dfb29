#include "benchmarks/bidaf_timing.h"

#include <chrono>
#include <string>
#include <utility>

#include "common/quantile.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

template <typename Fn>
double Seconds(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int64_t OutputWidth(const BidafLstm& l) { return l.forward.w_hh.size(1) + l.backward.w_hh.size(1); }

// The inputs every LSTM layer of `model` reads for `batch`, in lstms() order (the contextual
// layer twice: context, then question), with their lengths.
struct LstmInputs {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> layers;  // (x [B, T, I], lengths [B])
};

LstmInputs DrawLstmInputs(const Bidaf& model, const BidafBatch& batch) {
  const std::vector<const BidafLstm*> lstms = model->lstms();
  const int64_t b = batch.context_words.size(0), tc = batch.context_words.size(1);
  const torch::Tensor c_len = batch.context_mask.sum(1), q_len = batch.question_mask.sum(1);
  const int64_t d = model->config().EmbeddingWidth();
  LstmInputs in;
  in.layers.emplace_back(torch::randn({b, tc, d}), c_len);
  in.layers.emplace_back(torch::randn({b, batch.question_words.size(1), d}), q_len);
  int64_t width = 4 * OutputWidth(*lstms[0]);  // G
  for (size_t i = 1; i < lstms.size(); ++i) {
    if (i + 1 == lstms.size()) width = OutputWidth(*lstms[lstms.size() - 2]);  // M
    in.layers.emplace_back(torch::randn({b, tc, width}), c_len);
    width = OutputWidth(*lstms[i]);
  }
  return in;
}

void RunLstms(const Bidaf& model, const LstmInputs& in) {
  const std::vector<const BidafLstm*> lstms = model->lstms();
  for (size_t k = 0; k < in.layers.size(); ++k) {
    const BidafLstm& l = *lstms[k < 2 ? 0 : k - 1];
    RunBidirectionalLstm(l, in.layers[k].first, in.layers[k].second);
  }
}

// Times configuration `c` (0 lstms_b1, 1 model_b1, 2 lstms_b32, 3 model_b32) of every model.
void TimeConfiguration(std::vector<Bidaf>& models, const std::vector<BidafBatch>& batches,
                       bool whole, int c, int repeats, std::vector<BidafTiming>* out) {
  std::vector<std::vector<LstmInputs>> inputs(models.size());
  for (size_t m = 0; m < models.size(); ++m) {
    for (const BidafBatch& batch : batches) inputs[m].push_back(DrawLstmInputs(models[m], batch));
  }
  for (int i = -1; i < repeats; ++i) {  // i = -1: warm-up, not recorded
    const size_t k = static_cast<size_t>(i < 0 ? 0 : i) % batches.size();
    const double questions = static_cast<double>(batches[k].context_words.size(0));
    for (size_t m = 0; m < models.size(); ++m) {
      const double s = whole ? Seconds([&] { models[m]->forward(batches[k]); })
                             : Seconds([&] { RunLstms(models[m], inputs[m][k]); });
      if (i >= 0) (*out)[m].rounds[c].push_back(questions / s);
    }
  }
}

}  // namespace

nlohmann::json BidafTiming::ToJson() const {
  return {{"lstms_b1_questions_per_s", lstms_b1_qps},
          {"model_b1_questions_per_s", model_b1_qps},
          {"lstms_b32_questions_per_s", lstms_b32_qps},
          {"model_b32_questions_per_s", model_b32_qps},
          {"rounds", rounds[0].size()}};
}

std::vector<BidafTiming> TimeBidafsSideBySide(std::vector<Bidaf>& models,
                                              const std::vector<BidafBatch>& single,
                                              const std::vector<BidafBatch>& batches_32,
                                              int repeats) {
  std::vector<BidafTiming> out(models.size());
  torch::NoGradGuard no_grad;
  for (Bidaf& m : models) m->eval();
  for (int c = 0; c < 4; ++c) {
    TimeConfiguration(models, c < 2 ? single : batches_32, c % 2 == 1, c, repeats, &out);
  }
  for (BidafTiming& t : out) {
    t.lstms_b1_qps = Quantile(t.rounds[0], 0.5);
    t.model_b1_qps = Quantile(t.rounds[1], 0.5);
    t.lstms_b32_qps = Quantile(t.rounds[2], 0.5);
    t.model_b32_qps = Quantile(t.rounds[3], 0.5);
  }
  return out;
}

nlohmann::json BidafSpeedups(const BidafTiming& dense, const BidafTiming& pruned) {
  nlohmann::json out = nlohmann::json::object();
  const char* names[] = {"lstms_b1", "model_b1", "lstms_b32", "model_b32"};
  for (int c = 0; c < 4; ++c) {
    std::vector<double> ratios;
    const size_t n = std::min(dense.rounds[c].size(), pruned.rounds[c].size());
    for (size_t i = 0; i < n; ++i) ratios.push_back(pruned.rounds[c][i] / dense.rounds[c][i]);
    out[names[c]] = Quantile(ratios, 0.5);
    out[std::string(names[c]) + "_iqr"] = {Quantile(ratios, 0.25), Quantile(ratios, 0.75)};
  }
  return out;
}

}  // namespace rnnprune
