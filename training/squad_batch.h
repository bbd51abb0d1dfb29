// SQuAD examples (datasets/squad.h) to BiDAF batches (models/bidaf.h). It lives in pruning/, the
// first package above both: models take tensors, not dataset types, and datasets know no model.
#ifndef RNNPRUNE_TRAINING_SQUAD_BATCH_H_
#define RNNPRUNE_TRAINING_SQUAD_BATCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/squad.h"
#include "models/bidaf.h"

namespace rnnprune {

// The examples examples[indices[0]], examples[indices[1]], ... as one right-padded BidafBatch
// (CPU tensors): B = indices.size(), Tc and Tq the longest context and question, W the widest
// token in characters over both sides (each example's width is its chars' size / words' size,
// the max_word_chars it was made with). Padding is SquadVocab::kPad (0) for word and character
// ids, false in the masks; answers are the examples' first gold token spans. Errors:
// InvalidArgument naming the position and example id for an empty index list, an index outside
// [0, examples.size()), an example with no context or question token, character ids whose count
// is not a positive multiple of the token count, or an answer outside its context.
absl::StatusOr<BidafBatch> MakeBidafBatch(const std::vector<SquadExample>& examples,
                                          const std::vector<int64_t>& indices);

// Rows [first, first + count) of `batch` (every tensor narrowed along dimension 0; the padded
// lengths Tc, Tq, W stay the batch's): a data-parallel rank's share of a global batch, on which
// each row computes exactly what it computes in the whole batch. Requires 0 <= first,
// count >= 1, first + count <= B (c10::Error otherwise).
BidafBatch RowsOfBidafBatch(const BidafBatch& batch, int64_t first, int64_t count);

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_SQUAD_BATCH_H_
