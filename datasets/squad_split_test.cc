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

TEST(SquadSplit, LocalSplitNeedsTheDevArticles) {
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(HandDataset({"A", "B"}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("Computational_complexity_theory"), std::string::npos)
      << s.status();
}

TEST(SquadSplit, LocalSplitOfTheRealDevSetIsByArticle) {
  const std::string dir = TestDataDir("squad/dev-v1.1.json");
  if (dir.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  absl::StatusOr<SquadDataset> dev = LoadSquad(dir + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok()) << dev.status();
  absl::StatusOr<SquadSplit> s = SplitSquadLocal(*dev);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->protocol, "local");
  EXPECT_EQ(s->eval.articles.size(), 9u);
  EXPECT_EQ(s->train.articles.size(), 39u);
  EXPECT_EQ(s->eval.num_questions, 1975);
  EXPECT_EQ(s->train.num_questions, 8595);
  // Every fifth article from the fifth, and no title on both sides.
  for (size_t i = 0; i < s->eval.articles.size(); ++i) {
    EXPECT_EQ(s->eval.articles[i].title, dev->articles[4 + 5 * i].title) << i;
  }
  std::set<std::string> train_titles;
  for (const SquadArticle& a : s->train.articles) train_titles.insert(a.title);
  for (const SquadArticle& a : s->eval.articles) EXPECT_EQ(train_titles.count(a.title), 0u);
}

}  // namespace
}  // namespace rnnprune
