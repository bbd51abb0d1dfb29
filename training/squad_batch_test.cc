#include "training/squad_batch.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

// An example whose word ids are 10 + position (context) / 20 + position (question) and whose
// character ids are 100 * (position + 1) + character index + 1, `width` characters a token
// (the last `short_last` characters of the last token are padding).
SquadExample Make(const std::string& id, int64_t tc, int64_t tq, int64_t width, int64_t first,
                  int64_t last) {
  SquadExample e;
  e.id = id;
  for (int64_t t = 0; t < tc; ++t) {
    e.context_words.push_back(10 + t);
    for (int64_t k = 0; k < width; ++k) e.context_chars.push_back(100 * (t + 1) + k + 1);
  }
  for (int64_t t = 0; t < tq; ++t) {
    e.question_words.push_back(20 + t);
    for (int64_t k = 0; k < width; ++k) e.question_chars.push_back(100 * (t + 1) + k + 1);
  }
  e.answer_first = first;
  e.answer_last = last;
  return e;
}

TEST(MakeBidafBatch, ShapesPaddingAndMasks) {
  std::vector<SquadExample> examples = {Make("a", 3, 2, 2, 1, 2), Make("b", 5, 4, 3, 0, 0),
                                        Make("c", 1, 1, 2, 0, 0)};
  // Its last character is padding already (as MakeSquadExamples writes short words).
  examples[0].context_chars.back() = SquadVocab::kPad;
  absl::StatusOr<BidafBatch> batch = MakeBidafBatch(examples, {0, 2, 1});
  ASSERT_TRUE(batch.ok()) << batch.status();
  const BidafBatch& x = *batch;
  EXPECT_EQ(x.context_words.sizes(), torch::IntArrayRef({3, 5}));
  EXPECT_EQ(x.context_chars.sizes(), torch::IntArrayRef({3, 5, 3}));
  EXPECT_EQ(x.question_words.sizes(), torch::IntArrayRef({3, 4}));
  EXPECT_EQ(x.question_chars.sizes(), torch::IntArrayRef({3, 4, 3}));
  EXPECT_EQ(x.context_words.scalar_type(), torch::kLong);
  EXPECT_EQ(x.context_mask.scalar_type(), torch::kBool);

  // Row 0 is example "a" (3 context tokens of 2 characters, padded to 5 x 3).
  EXPECT_TRUE(torch::equal(x.context_words[0], torch::tensor({10, 11, 12, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(x.context_mask[0],
                           torch::tensor({true, true, true, false, false}, torch::kBool)));
  EXPECT_TRUE(torch::equal(x.context_chars[0][1], torch::tensor({201, 202, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(x.context_chars[0][2], torch::tensor({301, 0, 0}, torch::kLong)));
  EXPECT_EQ(x.context_chars[0].narrow(0, 3, 2).abs().sum().item<int64_t>(), 0);
  // Row 1 is example "c", row 2 example "b" (the longest: no padding).
  EXPECT_EQ(x.context_mask[1].sum().item<int64_t>(), 1);
  EXPECT_EQ(x.question_mask[1].sum().item<int64_t>(), 1);
  EXPECT_TRUE(x.context_mask[2].all().item<bool>());
  EXPECT_TRUE(torch::equal(x.question_words[2], torch::tensor({20, 21, 22, 23}, torch::kLong)));
  EXPECT_TRUE(torch::equal(x.question_chars[2][3], torch::tensor({401, 402, 403}, torch::kLong)));
  EXPECT_EQ(x.question_words[0][2].item<int64_t>(), SquadVocab::kPad);
  EXPECT_FALSE(x.question_mask[0][2].item<bool>());
  // Every padded position is 0 and false.
  EXPECT_EQ(x.context_words.masked_select(~x.context_mask).abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(x.question_words.masked_select(~x.question_mask).abs().sum().item<int64_t>(), 0);

  EXPECT_TRUE(torch::equal(x.answer_first, torch::tensor({1, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(x.answer_last, torch::tensor({2, 0, 0}, torch::kLong)));

  BidafConfig config;
  config.word_vocab_size = 30;
  config.char_vocab_size = 600;
  const absl::Status valid = ValidateBidafBatch(x, config, /*require_answers=*/true);
  EXPECT_TRUE(valid.ok()) << valid;
}

TEST(MakeBidafBatch, SameIndexTwice) {
  std::vector<SquadExample> examples = {Make("a", 2, 2, 1, 0, 1)};
  absl::StatusOr<BidafBatch> batch = MakeBidafBatch(examples, {0, 0});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(torch::equal(batch->context_words[0], batch->context_words[1]));
}

TEST(MakeBidafBatch, Errors) {
  std::vector<SquadExample> examples = {Make("ok", 3, 2, 2, 0, 1)};
  auto message = [&](const std::vector<int64_t>& indices) {
    absl::StatusOr<BidafBatch> b = MakeBidafBatch(examples, indices);
    EXPECT_FALSE(b.ok());
    return std::string(b.status().message());
  };
  EXPECT_THAT(message({}), HasSubstr("no index"));
  EXPECT_THAT(message({1}), HasSubstr("indices[0]=1 is outside [0, 1)"));
  EXPECT_THAT(message({-1}), HasSubstr("indices[0]=-1"));

  examples.push_back(Make("no_question", 3, 0, 2, 0, 1));
  EXPECT_THAT(message({0, 1}), HasSubstr("example 1 (id no_question) question has no token"));
  examples.push_back(Make("bad_chars", 3, 2, 2, 0, 1));
  examples.back().context_chars.pop_back();
  EXPECT_THAT(message({2}), HasSubstr("(id bad_chars) context has 5 character ids for 3 tokens"));
  examples.push_back(Make("bad_answer", 3, 2, 2, 2, 3));
  EXPECT_THAT(message({3}), HasSubstr("(id bad_answer): answer [2, 3]"));
  examples.push_back(Make("reversed", 3, 2, 2, 2, 1));
  EXPECT_THAT(message({4}), HasSubstr("(id reversed): answer [2, 1]"));
}

}  // namespace
}  // namespace rnnprune
