#include "datasets/squad_split.h"

#include <set>
#include <string>

#include "common/data_dir.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

SquadDataset HandDataset(const std::vector<std::string>& titles) {
  SquadDataset d;
  d.version = "1.1";
  int id = 0;
  for (const std::string& t : titles) {
    SquadArticle a;
    a.title = t;
    SquadParagraph p;
    p.context = "Some context.";
    for (int q = 0; q < 2; ++q) {
      p.questions.push_back({std::to_string(id++), "What?", {{"Some", 0, 4}, {"Some", 0, 4}}});
    }
    a.paragraphs.push_back(p);
    d.articles.push_back(a);
  }
  return d;
}

TEST(SquadSplit, SelectsArticlesAndRecounts) {
  const SquadDataset d = HandDataset({"A", "B", "C"});
  const SquadDataset kept = SelectSquadArticles(d, {"C", "A"}, true);
  ASSERT_EQ(kept.articles.size(), 2u);
  EXPECT_EQ(kept.articles[0].title, "A");  // file order, not list order
  EXPECT_EQ(kept.articles[1].title, "C");
  EXPECT_EQ(kept.num_paragraphs, 2);
  EXPECT_EQ(kept.num_questions, 4);
  EXPECT_EQ(kept.num_answers, 8);
  const SquadDataset rest = SelectSquadArticles(d, {"C", "A"}, false);
  ASSERT_EQ(rest.articles.size(), 1u);
  EXPECT_EQ(rest.articles[0].title, "B");
  EXPECT_EQ(rest.num_questions, 2);
}

std::vector<std::string> Names(const SquadDataset& d) {
  std::vector<std::string> out;
  for (const SquadArticle& a : d.articles) out.push_back(a.title);
  return out;
}

std::string SplitError(const SquadDataset& d, const SquadSplitSpec& spec) {
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(d, spec);
  EXPECT_FALSE(s.ok());
  return s.ok() ? std::string() : std::string(s.status().message());
}

TEST(SquadSplit, FoldsAndStrideValidationOnHandData) {
  const SquadDataset d = HandDataset({"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"});
  SquadSplitSpec spec;
  spec.fold = 1;  // positions 1, 6
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(d, spec);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->protocol, "local");
  EXPECT_EQ(Names(s->eval), (std::vector<std::string>{"B", "G"}));
  // Training side A C D E F H I J K: the last and every 8th before it.
  EXPECT_EQ(Names(s->validation), (std::vector<std::string>{"A", "K"}));
  EXPECT_EQ(Names(s->train), (std::vector<std::string>{"C", "D", "E", "F", "H", "I", "J"}));
  EXPECT_EQ(s->validation_titles, (std::vector<std::string>{"A", "K"}));
  EXPECT_EQ(s->eval_titles, (std::vector<std::string>{"B", "G"}));
  EXPECT_NE(s->description.find("fold 1 of 5"), std::string::npos) << s->description;
}

TEST(SquadSplit, ExplicitListsInFileOrder) {
  const SquadDataset d = HandDataset({"A", "B", "C", "D"});
  SquadSplitSpec spec;
  spec.eval_titles = {"D", "A"};
  spec.validation_titles = {"C"};
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(d, spec);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Names(s->eval), (std::vector<std::string>{"A", "D"}));
  EXPECT_EQ(Names(s->validation), (std::vector<std::string>{"C"}));
  EXPECT_EQ(Names(s->train), (std::vector<std::string>{"B"}));
  EXPECT_EQ(s->train.num_questions, 2);
  EXPECT_EQ(s->eval.num_questions, 4);
}

TEST(SquadSplit, BadSpecsAreClearErrors) {
  const SquadDataset d = HandDataset({"A", "B", "C", "D"});
  SquadSplitSpec spec;
  spec.fold = 5;
  EXPECT_NE(SplitError(d, spec).find("SQuAD fold 5 must be in [0, 5)"), std::string::npos);
  spec.fold = 4;  // 4 articles: fold 4 is empty
  EXPECT_NE(SplitError(d, spec).find("selects no article"), std::string::npos);
  spec = {};
  spec.eval_titles = {"A", "Z"};
  EXPECT_NE(SplitError(d, spec).find("'Z' is not the title of any article"), std::string::npos);
  spec.eval_titles = {"A", "A"};
  EXPECT_NE(SplitError(d, spec).find("'A' is listed twice"), std::string::npos);
  spec.eval_titles = {"A"};
  spec.validation_titles = {"A"};  // overlapping lists
  EXPECT_NE(SplitError(d, spec).find("'A' is listed both as a validation and as an evaluation"),
            std::string::npos);
  spec.validation_titles = {"B", "C", "D"};  // nothing left to train on
  EXPECT_NE(SplitError(d, spec).find("leave 0 to train on"), std::string::npos);
  spec.validation_titles = {};
  spec.eval_titles = {"A", "B", "C", "D"};  // an empty training side
  EXPECT_NE(SplitError(d, spec).find("0 training articles"), std::string::npos);
  spec.eval_titles = {"B", "C", "D"};  // one training article: none left to validate on
  EXPECT_NE(SplitError(d, spec).find("each side needs at least one"), std::string::npos);
}

TEST(SquadSplit, OfficialCarvesValidationFromTrain) {
  SquadSplitSpec spec;
  absl::StatusOr<SquadSplit> s =
      SplitSquadOfficial(HandDataset({"A", "B", "C"}), HandDataset({"X", "Y"}), spec);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->protocol, "official");
  EXPECT_EQ(Names(s->eval), (std::vector<std::string>{"X", "Y"}));
  EXPECT_EQ(Names(s->validation), (std::vector<std::string>{"C"}));
  EXPECT_EQ(Names(s->train), (std::vector<std::string>{"A", "B"}));
  spec.fold = 2;
  s = SplitSquadOfficial(HandDataset({"A", "B"}), HandDataset({"X"}), spec);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("belong to the local protocol"), std::string::npos);
}

TEST(SquadSplit, DefaultFoldOfTheRealDevSet) {
  const std::string dir = TestDataDir("squad/dev-v1.1.json");
  if (dir.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  absl::StatusOr<SquadDataset> dev = LoadSquad(dir + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok()) << dev.status();
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(*dev, SquadSplitSpec{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->eval.articles.size(), 9u);
  EXPECT_EQ(s->eval.num_questions, 1975);
  EXPECT_EQ(s->validation.articles.size(), 5u);  // 39 training articles: positions 38, 30, ..., 6
  EXPECT_EQ(s->train.articles.size(), 34u);
  EXPECT_EQ(s->train.num_questions + s->validation.num_questions, 8595);
  // Every fifth article from the fifth, and no title on two sides.
  for (size_t i = 0; i < s->eval.articles.size(); ++i) {
    EXPECT_EQ(s->eval.articles[i].title, dev->articles[4 + 5 * i].title) << i;
  }
  std::set<std::string> seen;
  for (const SquadDataset* side : {&s->train, &s->validation, &s->eval}) {
    for (const SquadArticle& a : side->articles)
      EXPECT_TRUE(seen.insert(a.title).second) << a.title;
  }
  EXPECT_EQ(seen.size(), dev->articles.size());
}

}  // namespace
}  // namespace rnnprune
