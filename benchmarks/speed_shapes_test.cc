#include "benchmarks/speed_shapes.h"

#include <cstdlib>
#include <string>

#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

const char kRecords[] =
    // dense parent: not a pruned shape
    R"({"method":"dense","config_name":"small","structured":false,"model":{"vocab_size":10000,"embedding_size":200,"hidden_sizes":[200,200]}})"
    "\n"
    R"({"method":"l0","setting":"1.5e-4","config_name":"small","structured":true,"preset":"default","git_commit":"abcdef123","model":{"vocab_size":10000,"embedding_size":13,"hidden_sizes":[200,66],"input_sizes":[13,200]}})"
    "\n"
    // same sizes: merged into the l0 shape
    R"({"method":"random","setting":"13:200:66","config_name":"small","structured":true,"model":{"vocab_size":10000,"embedding_size":13,"hidden_sizes":[200,66],"input_sizes":[13,200]}})"
    "\n"
    // unstructured and collapsed runs are not compacted shapes
    R"({"method":"magnitude","setting":"0.9","config_name":"small","structured":false,"model":{"vocab_size":10000,"embedding_size":200,"hidden_sizes":[200,200]}})"
    "\n"
    R"({"method":"l0","setting":"2e-3","config_name":"small","structured":true,"collapsed":"layer 2 lost every unit","model":{"vocab_size":10000,"embedding_size":200,"hidden_sizes":[200,200]}})"
    "\n";

TEST(SpeedShapes, ReadsTheCommittedFileAndTheCompactedRuns) {
  const std::string dir = TmpDir() + "/shapes_ok";
  ASSERT_TRUE(MakeDirs(dir + "/results").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/results/ptb_mine.jsonl", kRecords).ok());
  absl::StatusOr<SpeedShapes> s = LoadSpeedShapes("benchmarks/speed_shapes.json", "",
                                                  {{"reports_dir", dir}, {"preset", "mine"}});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->notes.empty());
  auto find = [&](const std::string& name) -> const SpeedShape* {
    for (const SpeedShape& shape : s->shapes) {
      if (shape.name == name) return &shape;
    }
    return nullptr;
  };
  for (const char* name : {"zaremba_small", "zaremba_medium", "zaremba_large", "iss_373_315",
                           "magnitude_large_80", "magnitude_large_90", "magnitude_large_95"}) {
    EXPECT_NE(find(name), nullptr) << name;
  }
  const SpeedShape* iss = find("iss_373_315");
  ASSERT_NE(iss, nullptr);
  EXPECT_EQ(iss->parent, "zaremba_large");
  EXPECT_EQ(iss->config.embedding_size, 1500);
  EXPECT_EQ(iss->config.hidden_sizes, (std::vector<int64_t>{373, 315}));
  EXPECT_EQ(iss->config.InputSize(1), 373);
  const SpeedShape* sparse = find("magnitude_large_95");
  ASSERT_NE(sparse, nullptr);
  EXPECT_DOUBLE_EQ(sparse->sparsity, 0.95);
  EXPECT_EQ(sparse->config.hidden_sizes, (std::vector<int64_t>{1500, 1500}));  // the parent's

  const SpeedShape* l0 = find("l0_1.5e-4");
  ASSERT_NE(l0, nullptr);
  EXPECT_EQ(l0->parent, "zaremba_small");
  EXPECT_EQ(l0->config.embedding_size, 13);
  EXPECT_EQ(l0->config.InputSize(1), 200);
  EXPECT_EQ(l0->also, (std::vector<std::string>{"random_13:200:66"}));
  EXPECT_NE(l0->source.find("abcdef1"), std::string::npos);
  EXPECT_EQ(find("magnitude_0.9"), nullptr);
  EXPECT_EQ(find("l0_2e-3"), nullptr);
  EXPECT_EQ(find("dense_"), nullptr);
}

TEST(SpeedShapes, MissingResultsAreANoteNotAnError) {
  absl::StatusOr<SpeedShapes> s =
      LoadSpeedShapes("benchmarks/speed_shapes.json", "",
                      {{"reports_dir", TmpDir() + "/nowhere"}, {"preset", "x"}});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->notes.size(), 1u);
  EXPECT_NE(s->notes[0].find("not found"), std::string::npos);
}

struct BadCase {
  const char* json;
  const char* message;
};

TEST(SpeedShapes, RejectsBadFilesNamingTheProblem) {
  const BadCase cases[] = {
      {"{", "not valid JSON"},
      {R"({"shapes": 3})", "array \"shapes\""},
      {R"({"shapes": [{"source": "x"}]})", "\"name\""},
      {R"({"shapes": [{"name": "a b", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [3]}]})",
       "must match"},
      {R"({"shapes": [{"name": "a", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [3]},
                      {"name": "a", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [3]}]})",
       "duplicate name 'a'"},
      {R"({"shapes": [{"name": "a", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [0]}]})",
       "shapes[0]"},
      {R"({"shapes": [{"name": "a", "embedding_size": 2, "hidden_sizes": [3]}]})", "vocab_size"},
      {R"({"shapes": [{"name": "a", "parent": "b", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [3]}]})",
       "parent 'b'"},
      {R"({"shapes": [{"name": "a", "vocab_size": 5, "embedding_size": 2, "hidden_sizes": [3]},
                      {"name": "s", "parent": "a", "sparsity": 1.0}]})",
       "sparsity 1 must be in [0, 1)"},
      {R"({"shapes": [{"name": "s", "sparsity": 0.5}]})", "needs a \"parent\""},
      {R"({"shapes": [], "compacted_runs": [{"results": "${nope}/x.jsonl"}]})", "${nope}"},
  };
  int i = 0;
  for (const BadCase& c : cases) {
    const std::string path = TmpDir() + "/bad_" + std::to_string(i++) + ".json";
    ASSERT_TRUE(WriteFileAtomically(path, c.json).ok());
    absl::StatusOr<SpeedShapes> s = LoadSpeedShapes(path, "", {});
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(s.status().message().find(c.message), std::string::npos)
        << s.status() << " should mention " << c.message;
    EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status();
  }
  EXPECT_EQ(LoadSpeedShapes(TmpDir() + "/absent.json", "", {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rnnprune
