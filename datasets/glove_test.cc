#include "datasets/glove.h"

#include <zlib.h>

#include <cstdlib>
#include <string>

#include "common/data_dir.h"
#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

std::string Tmp(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

TEST(Glove, ReadsTextAndGzipAlike) {
  const std::string text = "the 0.5 -1 2\ncat 1e-3 0 3.25\n";
  ASSERT_TRUE(WriteFileAtomically(Tmp("g.txt"), text).ok());
  gzFile gz = gzopen(Tmp("g.txt.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  for (const char* name : {"g.txt", "g.txt.gz"}) {
    absl::StatusOr<GloveVectors> g = LoadGlove(Tmp(name));
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->dim, 3);
    ASSERT_EQ(g->vectors.size(), 2u);
    EXPECT_EQ(g->vectors.at("cat"), (std::vector<float>{1e-3f, 0.0f, 3.25f}));
  }
}

TEST(Glove, RejectsBadFilesNamingTheLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"the 1 2\ncat 1\n", ":2: 1 values, but the first line has 2"},
      {"the 1 2\ncat 1 x\n", ":2: value 2 'x' is not a number"},
      {"lonely\n", ":1: needs a word and at least one value"},
      {"\n\n", "no vectors"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomically(Tmp("bad.txt"), c.text).ok());
    absl::StatusOr<GloveVectors> g = LoadGlove(Tmp("bad.txt"));
    ASSERT_FALSE(g.ok()) << c.text;
    EXPECT_NE(g.status().message().find(c.message), std::string::npos) << g.status();
  }
  EXPECT_EQ(LoadGlove(Tmp("absent.txt")).status().code(), absl::StatusCode::kNotFound);
}

TEST(Glove, EmbeddingFromGloveWithRandomFallback) {
  GloveVectors g;
  g.dim = 2;
  g.vectors["the"] = {1, 2};
  g.vectors["paris"] = {3, 4};
  absl::StatusOr<EmbeddingInit> e = MakeEmbedding({"the", "Paris", "zzz"}, &g, 2, 7, "test");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->from_glove, 2);  // "Paris" found lowercased
  EXPECT_EQ(e->random, 1);
  EXPECT_EQ(std::vector<float>(e->weights.begin(), e->weights.begin() + 4),
            (std::vector<float>{1, 2, 3, 4}));
  EXPECT_LE(std::abs(e->weights[4]), 0.1f);
  EXPECT_NE(e->message.find("GloVe test for 2 of 3 words"), std::string::npos) << e->message;
  absl::StatusOr<EmbeddingInit> r1 = MakeEmbedding({"a", "b"}, nullptr, 3, 5, "");
  absl::StatusOr<EmbeddingInit> r2 = MakeEmbedding({"a", "b"}, nullptr, 3, 5, "");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->weights, r2->weights);  // same seed, same rows
  EXPECT_NE(r1->message.find("random initialisation U(-0.1, 0.1) (no GloVe file)"),
            std::string::npos)
      << r1->message;
  // N(0, 1) rows: the sample moments of 20,000 draws are those of a standard normal.
  absl::StatusOr<EmbeddingInit> n =
      MakeEmbedding({"a", "b"}, nullptr, 10000, 5, "", RandomRows::kNormal);
  ASSERT_TRUE(n.ok()) << n.status();
  double sum = 0, sum_sq = 0;
  for (float x : n->weights) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const double mean = sum / n->weights.size();
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(sum_sq / n->weights.size() - mean * mean, 1.0, 0.05);
  EXPECT_NE(n->message.find("random initialisation N(0, 1)"), std::string::npos) << n->message;
  EXPECT_FALSE(MakeEmbedding({"a"}, &g, 3, 1, "test").ok());  // dims differ
  EXPECT_FALSE(MakeEmbedding({"a"}, nullptr, 0, 1, "").ok());
}

TEST(Glove, ReadsTheSharedSamples) {
  const std::string dir = TestDataDir("glove/glove.6B.100d.first100.txt.gz");
  if (dir.empty()) GTEST_SKIP() << "GloVe samples not in the test's data (../shared/data)";
  for (const auto& [file, dim] : std::vector<std::pair<std::string, int64_t>>{
           {"glove.6B.100d.first100.txt.gz", 100}, {"glove.6B.300d.first100.txt.gz", 300}}) {
    absl::StatusOr<GloveVectors> g = LoadGlove(dir + "/glove/" + file);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->dim, dim);
    EXPECT_EQ(g->vectors.size(), 100u);
    ASSERT_EQ(g->vectors.count("the"), 1u);
  }
  absl::StatusOr<GloveVectors> g = LoadGlove(dir + "/glove/glove.6B.100d.first100.txt.gz");
  EXPECT_FLOAT_EQ(g->vectors.at("the")[0], -0.038194f);  // the file's first value
}

}  // namespace
}  // namespace rnnprune
