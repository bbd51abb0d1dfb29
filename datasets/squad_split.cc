#include "datasets/squad_split.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rnnprune {

const std::vector<std::string>& SquadLocalEvalTitles() {
  static const auto* titles = new std::vector<std::string>{
      "Computational_complexity_theory",
      "Victoria_(Australia)",
      "Apollo_program",
      "Packet_switching",
      "American_Broadcasting_Company",
      "Construction",
      "Doctor_Who",
      "Chloroplast",
      "Imperialism",
  };
  return *titles;
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

absl::StatusOr<SquadSplit> SplitSquadLocal(const SquadDataset& dev) {
  for (const std::string& t : SquadLocalEvalTitles()) {
    const bool found = std::any_of(dev.articles.begin(), dev.articles.end(),
                                   [&](const SquadArticle& a) { return a.title == t; });
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("local SQuAD protocol: the dataset has no article titled '", t,
                       "'; the local split is defined on dev-v1.1.json (datasets/squad_split.h)"));
    }
  }
  SquadSplit split;
  split.protocol = "local";
  split.train = SelectSquadArticles(dev, SquadLocalEvalTitles(), /*keep=*/false);
  split.eval = SelectSquadArticles(dev, SquadLocalEvalTitles(), /*keep=*/true);
  return split;
}

}  // namespace rnnprune
