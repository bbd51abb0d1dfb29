#include "models/torch_export.h"

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "models/lstm_lm.h"
#include "torch/csrc/jit/serialization/pickle.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") + "/" + name;
}

TEST(TorchStateDict, NamesLstmTensorsAsTorchNnLstm) {
  LstmLmConfig config;
  config.vocab_size = 7;
  config.embedding_size = 3;
  config.hidden_sizes = {4, 2};
  LstmLm model(config);
  const StateDict state = TorchStateDict(*model);
  const std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  std::set<std::string> names;
  for (const auto& [name, tensor] : state) names.insert(name);
  EXPECT_EQ(names,
            (std::set<std::string>{"embedding.weight", "lstm0.weight_ih_l0", "lstm0.weight_hh_l0",
                                   "lstm0.bias_ih_l0", "lstm0.bias_hh_l0", "lstm1.weight_ih_l0",
                                   "lstm1.weight_hh_l0", "lstm1.bias_ih_l0", "lstm1.bias_hh_l0",
                                   "decoder.weight", "decoder.bias"}));
  // Copies: changing the export leaves the model alone.
  const torch::Tensor w_ih = by_name.at("lstm0.weight_ih_l0");
  EXPECT_TRUE(torch::equal(w_ih, model->layer(0).w_ih));
  EXPECT_TRUE(torch::equal(by_name.at("decoder.weight"), model->decoder_weight()));
  w_ih.zero_();
  EXPECT_FALSE(torch::equal(w_ih, model->layer(0).w_ih));
}

TEST(WriteTorchStateDict, RefusesBadNamesAndKeepsTheOldFile) {
  const std::string path = TempPath("state.pt");
  ASSERT_TRUE(WriteTorchStateDict({{"a", torch::ones({2})}}, path).ok());
  const absl::StatusOr<std::string> before = ReadFile(path);
  ASSERT_TRUE(before.ok());
  for (const StateDict& bad : {StateDict{{"", torch::ones({1})}},
                               StateDict{{"a", torch::ones({1})}, {"a", torch::ones({1})}},
                               StateDict{{"b", torch::Tensor()}}}) {
    const absl::Status s = WriteTorchStateDict(bad, path);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find(path), std::string::npos) << s;
  }
  EXPECT_EQ(*ReadFile(path), *before);
  const absl::Status missing = WriteTorchStateDict({{"a", torch::ones({1})}}, "/nonexistent/x.pt");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/x.pt"), std::string::npos) << missing;
}

TEST(WriteTorchStateDict, WritesWhatLibTorchReadsBack) {
  const std::string path = TempPath("round_trip.pt");
  const torch::Tensor a = torch::arange(6, torch::kFloat).view({2, 3});
  ASSERT_TRUE(WriteTorchStateDict({{"a", a}, {"b", torch::tensor({true, false})}}, path).ok());
  const absl::StatusOr<std::string> bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  const c10::IValue loaded =
      torch::jit::pickle_load(std::vector<char>(bytes->begin(), bytes->end()));
  const auto dict = loaded.toGenericDict();
  ASSERT_EQ(dict.size(), 2u);
  EXPECT_TRUE(torch::equal(dict.at("a").toTensor(), a));
  EXPECT_TRUE(torch::equal(dict.at("b").toTensor(), torch::tensor({true, false})));
}

}  // namespace
}  // namespace rnnprune
