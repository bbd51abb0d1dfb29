// The two SQuAD v1.1 protocols. `official`: train on train-v1.1.json (supplied by the user),
// evaluate on dev-v1.1.json. `local` (only the dev set is at hand): train on a fixed list of dev
// articles and evaluate on the others. The split is by article, never by question, so that no
// paragraph is seen in both training and evaluation.
#ifndef RNNPRUNE_DATASETS_SQUAD_SPLIT_H_
#define RNNPRUNE_DATASETS_SQUAD_SPLIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/squad.h"

namespace rnnprune {

// The local protocol's evaluation articles: every fifth article of dev-v1.1.json in file order,
// starting from the fifth (indices 4, 9, ..., 44): 9 of the 48 articles, 1,975 of the 10,570
// questions. The other 39 articles (8,595 questions) are the training set. Fixed here (not
// drawn at random) so that every run and every report uses the same split.
const std::vector<std::string>& SquadLocalEvalTitles();

// The articles of `data` whose titles are (keep = true) or are not (keep = false) in `titles`,
// in file order, with the paragraph, question and answer counts recomputed. `skipped` is copied.
SquadDataset SelectSquadArticles(const SquadDataset& data, const std::vector<std::string>& titles,
                                 bool keep);

struct SquadSplit {
  std::string protocol;  // "local" or "official"
  SquadDataset train, eval;
};

// The local protocol's split of the dev set. Errors: InvalidArgument naming the first title of
// SquadLocalEvalTitles() that `dev` does not have (it is not dev-v1.1.json).
absl::StatusOr<SquadSplit> SplitSquadLocal(const SquadDataset& dev);

}  // namespace rnnprune

#endif  // RNNPRUNE_DATASETS_SQUAD_SPLIT_H_
