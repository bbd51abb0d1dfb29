// Answer-span decoding for extractive QA (BiDAF, Seo et al. 2017, Section 2 item 6 / Section 4:
// "the answer span (k, l) where k <= l with the maximum value of p1_k p2_l, which can be
// computed in linear time with dynamic programming"), with an optional cap on the span length.
#ifndef RNNPRUNE_MODELS_BIDAF_SPANS_H_
#define RNNPRUNE_MODELS_BIDAF_SPANS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/types.h"

namespace rnnprune {

// A predicted answer: context tokens [first, last] (inclusive) and its probability
// p1(first) * p2(last), each a softmax over the example's real context positions (in [0, 1]).
struct BidafSpan {
  int64_t first = 0;
  int64_t last = 0;
  double probability = 0.0;
};

// For each example b, the span maximising p1(i) p2(j) over 0 <= i <= j < len_b, and with
// max_answer_tokens > 0 also j - i + 1 <= max_answer_tokens (0 = no cap, the paper's rule).
//   start_logits, end_logits: [B, Tc] float32 or float64 (unnormalised, e.g. BidafOutput's);
//   context_mask: [B, Tc] bool, true on a non-empty prefix (len_b) of each row.
// Positions >= len_b are ignored whatever their logits. Cost per example: O(len) with a running
// maximum when uncapped, O(len * cap) when capped. Computed in float64 on CPU. Ties go to the
// earliest end, then the earliest start. Errors: InvalidArgument for bad shapes or dtypes, a
// mask that is not a non-empty prefix, a non-finite real logit, or max_answer_tokens < 0.
absl::StatusOr<std::vector<BidafSpan>> DecodeSpans(const torch::Tensor& start_logits,
                                                   const torch::Tensor& end_logits,
                                                   const torch::Tensor& context_mask,
                                                   int64_t max_answer_tokens);

}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BIDAF_SPANS_H_
