// The two SQuAD v1.1 protocols and how their articles are split. `official`: train on
// train-v1.1.json (supplied by the user), evaluate on dev-v1.1.json. `local` (only the dev set is
// at hand): train on some dev articles and evaluate on the others. Either way a validation part
// is carved from the training articles, on which choices (epochs, learning rates, pruning
// settings) are made, never on the evaluation articles. Every split is by article, never by
// question, so that no paragraph is seen on two sides.
#ifndef RNNPRUNE_DATASETS_SQUAD_SPLIT_H_
#define RNNPRUNE_DATASETS_SQUAD_SPLIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/squad.h"

namespace rnnprune {

// The local protocol's folds: fold k evaluates on the articles at file positions i (0-based) of
// dev-v1.1.json with i % kSquadLocalFolds == k. The default fold, 4, is every fifth article from
// the fifth: 9 of the 48 articles, 1,975 of the 10,570 questions.
inline constexpr int kSquadLocalFolds = 5;
inline constexpr int kSquadDefaultFold = 4;
// Without an explicit list, the validation part is the last training article and every
// kSquadValidationStride-th one before it, in file order (5 of the default fold's 39).
inline constexpr int kSquadValidationStride = 8;

// How the articles are split.
struct SquadSplitSpec {
  // Local protocol: the evaluation articles. Non-empty: exactly these titles (each must exist
  // and be listed once); empty: fold `fold`, in [0, kSquadLocalFolds). Must stay at their
  // defaults under the official protocol, whose evaluation set is the whole dev set.
  std::vector<std::string> eval_titles;
  int fold = kSquadDefaultFold;
  // The validation articles, carved from the training articles: non-empty, exactly these
  // titles (each a training article, listed once); empty, the stride rule above.
  std::vector<std::string> validation_titles;
};

struct SquadSplit {
  std::string protocol;  // "local" or "official"
  // How the articles were chosen, for the reports, e.g. "fold 4 of 5 (articles 4, 9, ..., 44 of
  // dev-v1.1.json); validation: every 8th training article from the last".
  std::string description;
  SquadDataset train, validation, eval;
  std::vector<std::string> validation_titles, eval_titles;  // in file order
};

// The titles of local fold `fold` of `dev`, in file order. Errors: InvalidArgument when fold is
// outside [0, kSquadLocalFolds) or selects no article (naming both).
absl::StatusOr<std::vector<std::string>> SquadFoldTitles(const SquadDataset& dev, int fold);

// The articles of `data` whose titles are (keep = true) or are not (keep = false) in `titles`,
// in file order, with the paragraph, question and answer counts recomputed. `skipped` is copied.
SquadDataset SelectSquadArticles(const SquadDataset& data, const std::vector<std::string>& titles,
                                 bool keep);

// The local protocol's split of the dev set. Errors: InvalidArgument naming the value and the
// rule for a fold out of range, a title `dev` does not have (it may not be dev-v1.1.json), a
// title listed twice, a title in both lists, and a side left empty (no training, validation or
// evaluation article).
absl::StatusOr<SquadSplit> SplitSquadLocal(const SquadDataset& dev, const SquadSplitSpec& spec);

// The official protocol: `train` less its validation part, that part, and all of `dev`.
// Errors: InvalidArgument when spec sets eval_titles or another fold (naming them), and as
// SplitSquadLocal for the validation titles and empty sides.
absl::StatusOr<SquadSplit> SplitSquadOfficial(SquadDataset train, SquadDataset dev,
                                              const SquadSplitSpec& spec);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_SQUAD_SPLIT_H_
