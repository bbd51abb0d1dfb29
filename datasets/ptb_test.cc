#include "datasets/ptb.h"

#include <cstdlib>
#include <string>

#include "common/data_dir.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

const char kFixture[] = "datasets/testdata/tiny_ptb";

std::string TmpCorpus(const std::string& name, const std::string& train, const std::string& valid,
                      const std::string& test) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(dir + "/ptb.train.txt", train).ok());
  EXPECT_TRUE(WriteFileAtomically(dir + "/ptb.valid.txt", valid).ok());
  EXPECT_TRUE(WriteFileAtomically(dir + "/ptb.test.txt", test).ok());
  return dir;
}

PtbLoadOptions NoChecksums() {
  PtbLoadOptions o;
  o.verify_checksums = false;
  return o;
}

TEST(Ptb, LoadsFixtureWithEosAndFrequencyOrderedVocab) {
  auto corpus = LoadPtb(kFixture, NoChecksums());
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  // train: 6 + 6 + 5 words + 3 <eos> = 20 tokens.
  EXPECT_EQ(corpus->train.size(0), 20);
  EXPECT_EQ(corpus->valid.size(0), 5 + 3 + 2);
  EXPECT_EQ(corpus->test.size(0), 6 + 1);
  EXPECT_EQ(corpus->train.scalar_type(), torch::kInt64);
  // "the" (4) is most frequent, then "<eos>" (3); ties ("dog", "on", "sat": 2) by byte order.
  EXPECT_EQ(corpus->vocab.WordOf(0), "the");
  EXPECT_EQ(corpus->vocab.WordOf(1), "<eos>");
  EXPECT_EQ(corpus->vocab.WordOf(2), "dog");
  EXPECT_EQ(corpus->vocab.WordOf(3), "on");
  EXPECT_EQ(corpus->vocab.WordOf(4), "sat");
  // The stream keeps order and puts <eos> at each line end.
  const auto t = corpus->train;
  EXPECT_EQ(corpus->vocab.WordOf(t[0].item<int64_t>()), "the");
  EXPECT_EQ(corpus->vocab.WordOf(t[5].item<int64_t>()), "mat");
  EXPECT_EQ(corpus->vocab.WordOf(t[6].item<int64_t>()), "<eos>");
  EXPECT_EQ(corpus->vocab.WordOf(t[19].item<int64_t>()), "<eos>");
  EXPECT_EQ(corpus->vocab.IdOf("unicorn"), -1);
}

TEST(Ptb, MissingFileNamesIt) {
  auto corpus = LoadPtb("/nonexistent/ptb", NoChecksums());
  ASSERT_FALSE(corpus.ok());
  EXPECT_EQ(corpus.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(corpus.status().message(), HasSubstr("/nonexistent/ptb/ptb.train.txt"));
}

TEST(Ptb, EmptyFileNamesIt) {
  const std::string dir = TmpCorpus("empty", "a b\n", "", "a\n");
  auto corpus = LoadPtb(dir, NoChecksums());
  ASSERT_FALSE(corpus.ok());
  EXPECT_THAT(corpus.status().message(), HasSubstr("ptb.valid.txt: file is empty"));
}

TEST(Ptb, UnknownWordNamesFileAndLine) {
  const std::string dir = TmpCorpus("oov", "a b\nb c\n", "a b\nc zebra a\n", "a\n");
  auto corpus = LoadPtb(dir, NoChecksums());
  ASSERT_FALSE(corpus.ok());
  EXPECT_EQ(corpus.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(corpus.status().message(), HasSubstr("ptb.valid.txt:2: word 'zebra'"));
}

TEST(Ptb, InvalidUtf8NamesFileAndLine) {
  const std::string dir = TmpCorpus("utf8", "a b\nb \xC3\x28 c\n", "a\n", "a\n");
  auto corpus = LoadPtb(dir, NoChecksums());
  ASSERT_FALSE(corpus.ok());
  EXPECT_THAT(corpus.status().message(), HasSubstr("ptb.train.txt:2: line is not valid UTF-8"));
}

TEST(Ptb, Utf8Validator) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(Ptb, ChecksumMismatchNamesFileAndHashes) {
  auto corpus = LoadPtb(kFixture);  // verify_checksums defaults to true
  ASSERT_FALSE(corpus.ok());
  EXPECT_THAT(corpus.status().message(), HasSubstr("ptb.train.txt: SHA-256"));
  EXPECT_THAT(corpus.status().message(), HasSubstr(kPtbTrain.sha256));
}

TEST(Ptb, BatchifyMakesContiguousColumns) {
  auto ids = torch::arange(0, 11, torch::kInt64);
  auto b = Batchify(ids, 3);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->sizes(), (torch::IntArrayRef{3, 3}));
  // column 0 = 0 1 2, column 1 = 3 4 5, column 2 = 6 7 8; 9, 10 dropped.
  EXPECT_EQ((*b)[0][0].item<int64_t>(), 0);
  EXPECT_EQ((*b)[2][0].item<int64_t>(), 2);
  EXPECT_EQ((*b)[0][1].item<int64_t>(), 3);
  EXPECT_EQ((*b)[2][2].item<int64_t>(), 8);
  EXPECT_FALSE(Batchify(ids, 0).ok());
  EXPECT_FALSE(Batchify(ids, 12).ok());
  EXPECT_FALSE(Batchify(ids.view({11, 1}), 2).ok());
}

TEST(Ptb, BpttWindowsCoverTheStreamOnce) {
  auto data = *Batchify(torch::arange(0, 20, torch::kInt64), 2);  // [10, 2]
  ASSERT_EQ(NumBpttWindows(data, 4), 3);                          // 9 targets: 4 + 4 + 1
  int64_t targets = 0;
  for (int64_t i = 0; i < NumBpttWindows(data, 4); ++i) {
    BpttWindow w = GetBpttWindow(data, i, 4);
    EXPECT_TRUE(torch::equal(w.target, w.input + 1)) << "window " << i;
    targets += w.target.size(0);
  }
  EXPECT_EQ(targets, 9);
  EXPECT_EQ(GetBpttWindow(data, 2, 4).input.size(0), 1);
  EXPECT_THROW(GetBpttWindow(data, 3, 4), c10::Error);
}

TEST(PtbRealData, CanonicalFilesHaveThePublishedSizes) {
  const std::string dir = TestDataDir("ptb/ptb.train.txt");
  if (dir.empty()) GTEST_SKIP() << "real PTB not found (set RNNPRUNE_DATA or ../shared/data)";
  auto corpus = LoadPtb(dir + "/ptb");
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  EXPECT_EQ(corpus->vocab.size(), 10000);
  EXPECT_EQ(corpus->train.size(0), 929589);
  EXPECT_EQ(corpus->valid.size(0), 73760);
  EXPECT_EQ(corpus->test.size(0), 82430);
  EXPECT_EQ(corpus->vocab.WordOf(0), "the");
  EXPECT_GE(corpus->vocab.IdOf("<unk>"), 0);
  EXPECT_GE(corpus->vocab.IdOf("N"), 0);
}

}  // namespace
}  // namespace rnnprune
