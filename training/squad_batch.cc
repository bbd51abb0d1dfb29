#include "training/squad_batch.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// Characters per token of one side of an example, or InvalidArgument.
absl::StatusOr<int64_t> Width(const std::vector<int64_t>& words, const std::vector<int64_t>& chars,
                              const std::string& what) {
  const int64_t n = static_cast<int64_t>(words.size());
  const int64_t c = static_cast<int64_t>(chars.size());
  if (n == 0) return absl::InvalidArgumentError(absl::StrCat(what, " has no token"));
  if (c == 0 || c % n != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", c, " character ids for ", n,
                                                   " tokens (not a positive multiple)"));
  }
  return c / n;
}

// Copies one side of example `row` into words [B, T], chars [B, T, W], mask [B, T].
void Fill(int64_t row, const std::vector<int64_t>& words, const std::vector<int64_t>& chars,
          int64_t width, torch::Tensor* out_words, torch::Tensor* out_chars,
          torch::Tensor* out_mask) {
  auto w = out_words->accessor<int64_t, 2>();
  auto c = out_chars->accessor<int64_t, 3>();
  auto m = out_mask->accessor<bool, 2>();
  for (size_t t = 0; t < words.size(); ++t) {
    const int64_t ti = static_cast<int64_t>(t);
    w[row][ti] = words[t];
    m[row][ti] = true;
    for (int64_t k = 0; k < width; ++k)
      c[row][ti][k] = chars[t * static_cast<size_t>(width) + static_cast<size_t>(k)];
  }
}

}  // namespace

absl::StatusOr<BidafBatch> MakeBidafBatch(const std::vector<SquadExample>& examples,
                                          const std::vector<int64_t>& indices) {
  if (indices.empty()) return absl::InvalidArgumentError("MakeBidafBatch: no index");
  const int64_t b = static_cast<int64_t>(indices.size());
  std::vector<int64_t> context_width(indices.size()), question_width(indices.size());
  int64_t tc = 0, tq = 0, width = 0;
  for (size_t r = 0; r < indices.size(); ++r) {
    const int64_t i = indices[r];
    if (i < 0 || i >= static_cast<int64_t>(examples.size())) {
      return absl::InvalidArgumentError(absl::StrCat("MakeBidafBatch: indices[", r, "]=", i,
                                                     " is outside [0, ", examples.size(), ")"));
    }
    const SquadExample& e = examples[static_cast<size_t>(i)];
    const std::string what = absl::StrCat("MakeBidafBatch: example ", i, " (id ", e.id, ")");
    absl::StatusOr<int64_t> cw = Width(e.context_words, e.context_chars, what + " context");
    if (!cw.ok()) return cw.status();
    absl::StatusOr<int64_t> qw = Width(e.question_words, e.question_chars, what + " question");
    if (!qw.ok()) return qw.status();
    const int64_t len = static_cast<int64_t>(e.context_words.size());
    if (e.answer_first < 0 || e.answer_first > e.answer_last || e.answer_last >= len) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": answer [", e.answer_first, ", ",
                                                     e.answer_last,
                                                     "] must satisfy 0 <= first "
                                                     "<= last < ",
                                                     len, " (context tokens)"));
    }
    context_width[r] = *cw;
    question_width[r] = *qw;
    tc = std::max(tc, len);
    tq = std::max(tq, static_cast<int64_t>(e.question_words.size()));
    width = std::max({width, *cw, *qw});
  }
  const auto ids = torch::TensorOptions().dtype(torch::kLong);
  const auto flags = torch::TensorOptions().dtype(torch::kBool);
  BidafBatch batch;
  batch.context_words = torch::zeros({b, tc}, ids);
  batch.context_chars = torch::zeros({b, tc, width}, ids);
  batch.context_mask = torch::zeros({b, tc}, flags);
  batch.question_words = torch::zeros({b, tq}, ids);
  batch.question_chars = torch::zeros({b, tq, width}, ids);
  batch.question_mask = torch::zeros({b, tq}, flags);
  batch.answer_first = torch::empty({b}, ids);
  batch.answer_last = torch::empty({b}, ids);
  auto first = batch.answer_first.accessor<int64_t, 1>();
  auto last = batch.answer_last.accessor<int64_t, 1>();
  for (size_t r = 0; r < indices.size(); ++r) {
    const SquadExample& e = examples[static_cast<size_t>(indices[r])];
    const int64_t row = static_cast<int64_t>(r);
    Fill(row, e.context_words, e.context_chars, context_width[r], &batch.context_words,
         &batch.context_chars, &batch.context_mask);
    Fill(row, e.question_words, e.question_chars, question_width[r], &batch.question_words,
         &batch.question_chars, &batch.question_mask);
    first[row] = e.answer_first;
    last[row] = e.answer_last;
  }
  return batch;
}

BidafBatch RowsOfBidafBatch(const BidafBatch& batch, int64_t first, int64_t count) {
  const int64_t b = batch.context_words.size(0);
  TORCH_CHECK(first >= 0 && count >= 1 && first + count <= b, "RowsOfBidafBatch: rows [", first,
              ", ", first + count, ") of a batch of ", b);
  auto rows = [&](const torch::Tensor& t) {
    return t.defined() ? t.narrow(0, first, count).contiguous() : t;
  };
  BidafBatch out;
  out.context_words = rows(batch.context_words);
  out.context_chars = rows(batch.context_chars);
  out.context_mask = rows(batch.context_mask);
  out.question_words = rows(batch.question_words);
  out.question_chars = rows(batch.question_chars);
  out.question_mask = rows(batch.question_mask);
  out.answer_first = rows(batch.answer_first);
  out.answer_last = rows(batch.answer_last);
  return out;
}

}  // namespace rnnprune
