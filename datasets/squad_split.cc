#include "datasets/squad_split.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace rnnprune {
namespace {

std::vector<std::string> Titles(const SquadDataset& data) {
  std::vector<std::string> out;
  for (const SquadArticle& a : data.articles) out.push_back(a.title);
  return out;
}

// OK when every title of `listed` (named `what` in errors) is one of `available` and appears once.
absl::Status CheckListedTitles(const std::vector<std::string>& listed,
                               const std::vector<std::string>& available, const std::string& what,
                               const std::string& among) {
  std::set<std::string> seen;
  for (const std::string& t : listed) {
    if (std::find(available.begin(), available.end(), t) == available.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": '", t, "' is not the title of any ", among));
    }
    if (!seen.insert(t).second) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": '", t, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

// The stride rule of kSquadValidationStride over `titles` (the training articles, file order).
std::vector<std::string> StrideValidationTitles(const std::vector<std::string>& titles) {
  std::vector<std::string> out;
  const int64_t n = static_cast<int64_t>(titles.size());
  for (int64_t p = 0; p < n; ++p) {
    if ((n - 1 - p) % kSquadValidationStride == 0) out.push_back(titles[static_cast<size_t>(p)]);
  }
  return out;
}

// Cuts `pool` (the training side before validation is carved) into train and validation.
absl::Status CarveValidation(const SquadDataset& pool, const SquadSplitSpec& spec,
                             SquadSplit* split) {
  const std::vector<std::string> pool_titles = Titles(pool);
  std::vector<std::string> validation = spec.validation_titles;
  if (validation.empty()) {
    validation = StrideValidationTitles(pool_titles);
    absl::StrAppend(&split->description, "; validation: the last training article and every ",
                    kSquadValidationStride, "th before it");
  } else {
    for (const std::string& t : validation) {
      if (std::find(split->eval_titles.begin(), split->eval_titles.end(), t) !=
          split->eval_titles.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "SQuAD split: '", t, "' is listed both as a validation and as an evaluation article"));
      }
    }
    RETURN_IF_ERROR(
        CheckListedTitles(validation, pool_titles, "SQuAD validation titles", "training article"));
    absl::StrAppend(&split->description, "; validation: ", validation.size(), " titles given");
  }
  split->validation = SelectSquadArticles(pool, validation, /*keep=*/true);
  split->train = SelectSquadArticles(pool, validation, /*keep=*/false);
  split->validation_titles = Titles(split->validation);
  if (split->train.articles.empty() || split->validation.articles.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SQuAD split: ", pool.articles.size(), " training articles leave ",
        split->train.articles.size(), " to train on and ", split->validation.articles.size(),
        " to validate on; each side needs at least one"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SquadFoldTitles(const SquadDataset& dev, int fold) {
  if (fold < 0 || fold >= kSquadLocalFolds) {
    return absl::InvalidArgumentError(
        absl::StrCat("SQuAD fold ", fold, " must be in [0, ", kSquadLocalFolds, ")"));
  }
  std::vector<std::string> out;
  for (size_t i = static_cast<size_t>(fold); i < dev.articles.size(); i += kSquadLocalFolds) {
    out.push_back(dev.articles[i].title);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("SQuAD fold ", fold, " selects no article: the ",
                                                   "dataset has ", dev.articles.size()));
  }
  return out;
}

SquadDataset SelectSquadArticles(const SquadDataset& data, const std::vector<std::string>& titles,
                                 bool keep) {
  SquadDataset out;
  out.version = data.version;
  out.skipped = data.skipped;
  for (const SquadArticle& a : data.articles) {
    const bool listed = std::find(titles.begin(), titles.end(), a.title) != titles.end();
    if (listed != keep) continue;
    out.articles.push_back(a);
    for (const SquadParagraph& p : a.paragraphs) {
      ++out.num_paragraphs;
      for (const SquadQuestion& q : p.questions) {
        ++out.num_questions;
        out.num_answers += static_cast<int64_t>(q.answers.size());
      }
    }
  }
  return out;
}

absl::StatusOr<SquadSplit> SplitSquadLocal(const SquadDataset& dev, const SquadSplitSpec& spec) {
  SquadSplit split;
  split.protocol = "local";
  std::vector<std::string> eval = spec.eval_titles;
  if (eval.empty()) {
    ASSIGN_OR_RETURN(eval, SquadFoldTitles(dev, spec.fold));
    split.description = absl::StrCat("fold ", spec.fold, " of ", kSquadLocalFolds, " (articles ",
                                     spec.fold, ", ", spec.fold + kSquadLocalFolds, ", ... of ",
                                     dev.articles.size(), " in file order)");
  } else {
    RETURN_IF_ERROR(
        CheckListedTitles(eval, Titles(dev), "SQuAD evaluation titles", "article of the dataset"));
    split.description = absl::StrCat(eval.size(), " evaluation titles given");
  }
  split.eval = SelectSquadArticles(dev, eval, /*keep=*/true);
  split.eval_titles = Titles(split.eval);
  RETURN_IF_ERROR(CarveValidation(SelectSquadArticles(dev, eval, /*keep=*/false), spec, &split));
  return split;
}

absl::StatusOr<SquadSplit> SplitSquadOfficial(SquadDataset train, SquadDataset dev,
                                              const SquadSplitSpec& spec) {
  if (!spec.eval_titles.empty() || spec.fold != kSquadDefaultFold) {
    return absl::InvalidArgumentError(
        "SQuAD split: evaluation titles and folds belong to the local protocol; the official one "
        "evaluates on the whole dev set");
  }
  SquadSplit split;
  split.protocol = "official";
  split.description = "the whole dev set";
  split.eval = std::move(dev);
  split.eval_titles = Titles(split.eval);
  RETURN_IF_ERROR(CarveValidation(train, spec, &split));
  return split;
}

}  // namespace rnnprune
