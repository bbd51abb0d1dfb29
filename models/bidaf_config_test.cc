#include "models/bidaf_config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

BidafConfig SmallConfig() {
  BidafConfig c;
  c.word_vocab_size = 50;
  c.char_vocab_size = 30;
  c.word_dim = 6;
  c.char_dim = 4;
  c.char_channels = 5;
  c.char_kernel_width = 3;
  c.hidden_size = 8;
  return c;
}

TEST(BidafConfig, ValidateNamesFieldAndRule) {
  EXPECT_TRUE(SmallConfig().Validate().ok());
  auto message = [](BidafConfig c) { return std::string(c.Validate().message()); };
  BidafConfig c = SmallConfig();
  c.word_vocab_size = 1;
  EXPECT_THAT(message(c), HasSubstr("word_vocab_size=1 must be >= 2"));
  c = SmallConfig();
  c.char_kernel_width = 0;
  EXPECT_THAT(message(c), HasSubstr("char_kernel_width=0 must be >= 1"));
  c = SmallConfig();
  c.highway_layers = -1;
  EXPECT_THAT(message(c), HasSubstr("highway_layers=-1 must be >= 0"));
  c = SmallConfig();
  c.modelling_layers = 0;
  EXPECT_THAT(message(c), HasSubstr("modelling_layers=0 must be >= 1"));
  c = SmallConfig();
  c.max_answer_tokens = -3;
  EXPECT_THAT(message(c), HasSubstr("max_answer_tokens=-3"));
  c = SmallConfig();
  c.dropout = 1.0;
  EXPECT_THAT(message(c), HasSubstr("dropout=1 must be in [0, 1)"));
  EXPECT_EQ(c.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BidafConfig, JsonRoundTripAndErrors) {
  BidafConfig c = SmallConfig();
  c.highway_layers = 1;
  c.modelling_layers = 3;
  c.dropout = 0.25;
  c.max_answer_tokens = 30;
  c.freeze_word_embedding = false;
  absl::StatusOr<BidafConfig> back = BidafConfig::FromJson(c.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), c.ToJson());
  EXPECT_EQ(back->modelling_layers, 3);
  EXPECT_EQ(back->dropout, 0.25);
  EXPECT_FALSE(back->freeze_word_embedding);

  EXPECT_FALSE(BidafConfig::FromJson("{not json").ok());
  EXPECT_THAT(std::string(BidafConfig::FromJson("{}").status().message()),
              HasSubstr("word_vocab_size"));
  c.hidden_size = 0;
  EXPECT_THAT(std::string(BidafConfig::FromJson(c.ToJson()).status().message()),
              HasSubstr("hidden_size=0"));
}

TEST(Bidaf, NumParametersMatchesModule) {
  for (int64_t layers : {1, 2, 3}) {
    BidafConfig c = SmallConfig();
    c.modelling_layers = layers;
    c.highway_layers = layers - 1;
    Bidaf model(c);
    int64_t n = 0, trainable = 0;
    for (const auto& p : model->parameters()) {
      n += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    EXPECT_EQ(c.NumParameters(), n) << "modelling_layers=" << layers;
    EXPECT_EQ(c.NumTrainableParameters(), trainable);
  }
  BidafConfig paper;
  paper.word_vocab_size = 2;
  paper.char_vocab_size = 2;
  // d = 100, D = 200: the LSTMs alone, as a sanity figure (8d -> d, 2d -> d, ...).
  EXPECT_GT(paper.NumParameters(), 2 * (400 * 300 + 800) + 2 * (400 * 900 + 800));
}

}  // namespace
}  // namespace rnnprune
