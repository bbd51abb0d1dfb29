#include "models/bidaf_spans.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// log-softmax of x[0, n) in place; false when some x[i] is not finite.
bool LogSoftmax(double* x, int64_t n) {
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
    max = std::max(max, x[i]);
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - max);
  const double log_z = max + std::log(sum);
  for (int64_t i = 0; i < n; ++i) x[i] -= log_z;
  return true;
}

// Best (first, last) of log p1 = s[0, n), log p2 = e[0, n); cap 0 = none.
BidafSpan BestSpan(const double* s, const double* e, int64_t n, int64_t cap) {
  BidafSpan best;
  double best_score = -std::numeric_limits<double>::infinity();
  if (cap == 0 || cap >= n) {
    int64_t best_start = 0;  // argmax of s over [0, j], the earliest on ties
    for (int64_t j = 0; j < n; ++j) {
      if (s[j] > s[best_start]) best_start = j;
      const double score = s[best_start] + e[j];
      if (score > best_score) {
        best_score = score;
        best.first = best_start;
        best.last = j;
      }
    }
  } else {
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t i = std::max<int64_t>(0, j - cap + 1); i <= j; ++i) {
        const double score = s[i] + e[j];
        if (score > best_score) {
          best_score = score;
          best.first = i;
          best.last = j;
        }
      }
    }
  }
  best.probability = std::exp(best_score);
  return best;
}

}  // namespace

absl::StatusOr<std::vector<BidafSpan>> DecodeSpans(const torch::Tensor& start_logits,
                                                   const torch::Tensor& end_logits,
                                                   const torch::Tensor& context_mask,
                                                   int64_t max_answer_tokens) {
  if (max_answer_tokens < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeSpans: max_answer_tokens=", max_answer_tokens, " must be >= 0"));
  }
  auto is_float = [](const torch::Tensor& t) {
    return t.defined() && (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kDouble);
  };
  if (!is_float(start_logits) || !is_float(end_logits) || !context_mask.defined() ||
      context_mask.scalar_type() != torch::kBool || start_logits.dim() != 2 ||
      end_logits.sizes() != start_logits.sizes() || context_mask.sizes() != start_logits.sizes()) {
    return absl::InvalidArgumentError(
        "DecodeSpans: start_logits and end_logits must be float [B, Tc] and context_mask bool "
        "[B, Tc] of the same shape");
  }
  return CatchTorch("DecodeSpans", [&]() -> absl::StatusOr<std::vector<BidafSpan>> {
    const torch::Tensor s = start_logits.detach().to(torch::kCPU, torch::kDouble).contiguous();
    const torch::Tensor e = end_logits.detach().to(torch::kCPU, torch::kDouble).contiguous();
    const torch::Tensor mask = context_mask.to(torch::kCPU).contiguous();
    const int64_t b = s.size(0), tc = s.size(1);
    const bool* m = mask.data_ptr<bool>();
    std::vector<double> ls(static_cast<size_t>(tc)), le(static_cast<size_t>(tc));
    std::vector<BidafSpan> spans;
    for (int64_t r = 0; r < b; ++r) {
      int64_t len = 0;
      while (len < tc && m[r * tc + len]) ++len;
      for (int64_t t = len; t < tc; ++t) {
        if (m[r * tc + t]) len = 0;  // a real position after padding: not a prefix
      }
      if (len == 0) {
        return absl::InvalidArgumentError(absl::StrCat("DecodeSpans: context_mask row ", r,
                                                       " must be true on a non-empty prefix"));
      }
      std::copy(s.data_ptr<double>() + r * tc, s.data_ptr<double>() + r * tc + len, ls.begin());
      std::copy(e.data_ptr<double>() + r * tc, e.data_ptr<double>() + r * tc + len, le.begin());
      if (!LogSoftmax(ls.data(), len) || !LogSoftmax(le.data(), len)) {
        return absl::InvalidArgumentError(
            absl::StrCat("DecodeSpans: example ", r, " has a non-finite logit at a real position"));
      }
      spans.push_back(BestSpan(ls.data(), le.data(), len, max_answer_tokens));
    }
    return spans;
  });
}

}  // namespace rnnprune
