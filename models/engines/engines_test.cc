// Every registered inference engine against LibTorch (LstmLm in eval mode): hidden outputs,
// logits and the carried state within 1e-5 relative, on dense and heterogeneous (compacted)
// shapes, batch 1 and 3, whole sequences and token by token; plus the argument checks.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/engines/engine.h"
#include "models/lstm_lm.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

struct Shape {
  std::string name;
  LstmLmConfig config;
};

std::vector<Shape> Shapes() {
  LstmLmConfig dense;
  dense.vocab_size = 53;
  dense.embedding_size = 12;
  dense.hidden_sizes = {12, 12};
  LstmLmConfig hetero;  // a compacted model: E 7, H 9 and 5, layer 2 reads 6 of layer 1's 9
  hetero.vocab_size = 41;
  hetero.embedding_size = 7;
  hetero.hidden_sizes = {9, 5};
  hetero.input_sizes = {7, 6};
  LstmLmConfig three;  // three layers, every size different
  three.vocab_size = 30;
  three.embedding_size = 16;
  three.hidden_sizes = {20, 3, 11};
  return {{"dense", dense}, {"hetero", hetero}, {"three_layers", three}};
}

// Relative closeness: max |a - b| <= 1e-5 * max(1, max |b|).
void ExpectClose(const float* got, const torch::Tensor& want, const std::string& what) {
  torch::Tensor w = want.detach().contiguous();
  torch::Tensor g = torch::from_blob(const_cast<float*>(got), w.sizes(), torch::kFloat32);
  const double scale = std::max(1.0, w.abs().max().item<double>());
  const double diff = (g - w).abs().max().item<double>();
  EXPECT_LE(diff, 1e-5 * scale) << what;
}

class EnginesTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A model with random weights; for sparse engines about half of each LSTM matrix is zero.
  LstmLm MakeModel(const LstmLmConfig& config, bool sparse) {
    torch::manual_seed(7);
    LstmLm model(config);
    model->eval();
    if (sparse) {
      torch::NoGradGuard no_grad;
      for (int64_t l = 0; l < model->num_layers(); ++l) {
        LstmLayerWeights& w = model->mutable_layer(l);
        w.w_ih.mul_((torch::rand_like(w.w_ih) > 0.5).to(torch::kFloat32));
        w.w_hh.mul_((torch::rand_like(w.w_hh) > 0.5).to(torch::kFloat32));
      }
    }
    return model;
  }
};

TEST_P(EnginesTest, MatchesLibTorchWholeSequenceAndTokenByToken) {
  const std::string name = GetParam();
  const bool sparse = GetInferenceEngineInfo(name)->sparse;
  for (const Shape& shape : Shapes()) {
    for (int64_t batch : {1, 3}) {
      SCOPED_TRACE(shape.name + " batch " + std::to_string(batch));
      LstmLm model = MakeModel(shape.config, sparse);
      torch::NoGradGuard no_grad;
      const int64_t t_len = 6;
      torch::Tensor input =
          torch::randint(0, shape.config.vocab_size, {t_len, batch}, torch::kInt64);
      std::vector<int64_t> ids(input.data_ptr<int64_t>(),
                               input.data_ptr<int64_t>() + input.numel());
      // Reference: two calls of 3 steps with the state carried (LibTorch ops).
      LstmState ref_state = model->InitialState(batch);
      torch::Tensor ref_logits = model->forward(input, &ref_state);
      LstmState ref_state2 = model->InitialState(batch);
      torch::Tensor ref_hidden = model->Run(input, &ref_state2).hidden;

      absl::StatusOr<std::unique_ptr<InferenceEngine>> engine = CreateInferenceEngine(name, model);
      ASSERT_TRUE(engine.ok()) << engine.status();
      // Whole sequence, in two calls of 3 steps (state carried between them).
      ASSERT_TRUE((*engine)->Reset(batch, t_len).ok());
      for (int64_t part = 0; part < 2; ++part) {
        absl::Span<const int64_t> span(ids.data() + part * 3 * batch, 3 * batch);
        ASSERT_TRUE((*engine)->Run(span, /*logits=*/true).ok());
        ExpectClose((*engine)->hidden(), ref_hidden.narrow(0, part * 3, 3), name + " hidden");
        ExpectClose((*engine)->logits(), ref_logits.narrow(0, part * 3, 3), name + " logits");
      }
      for (int64_t l = 0; l < model->num_layers(); ++l) {
        std::vector<float> h = (*engine)->State(l, false), c = (*engine)->State(l, true);
        ExpectClose(h.data(), ref_state.h[l].squeeze(0), name + " h");
        ExpectClose(c.data(), ref_state.c[l].squeeze(0), name + " c");
      }
      // Token by token after a Reset: same outputs step by step.
      ASSERT_TRUE((*engine)->Reset(batch, t_len).ok());
      for (int64_t t = 0; t < t_len; ++t) {
        absl::Span<const int64_t> span(ids.data() + t * batch, batch);
        ASSERT_TRUE((*engine)->Run(span, /*logits=*/t % 2 == 0).ok());
        ExpectClose((*engine)->hidden(), ref_hidden.narrow(0, t, 1), name + " token hidden");
        if (t % 2 == 0) {
          ExpectClose((*engine)->logits(), ref_logits.narrow(0, t, 1), name + " token logits");
        }
      }
      for (int64_t l = 0; l < model->num_layers(); ++l) {
        std::vector<float> c = (*engine)->State(l, true);
        ExpectClose(c.data(), ref_state.c[l].squeeze(0), name + " token c");
      }
    }
  }
}

TEST_P(EnginesTest, RejectsBadCalls) {
  const std::string name = GetParam();
  LstmLm model = MakeModel(Shapes()[1].config, GetInferenceEngineInfo(name)->sparse);
  auto engine = CreateInferenceEngine(name, model);
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::vector<int64_t> ids = {1, 2, 3, 4};
  EXPECT_EQ((*engine)->Run(ids, false).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*engine)->Reset(0, 4).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*engine)->Reset(2, -1).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*engine)->Reset(2, 2).ok());
  EXPECT_TRUE((*engine)->Run(ids, false).ok());
  std::vector<int64_t> odd = {1, 2, 3};
  EXPECT_EQ((*engine)->Run(odd, false).code(), absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> too_long = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ((*engine)->Run(too_long, false).code(), absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> out_of_vocab = {1, 41};
  absl::Status s = (*engine)->Run(out_of_vocab, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("token id 41"), std::string::npos) << s;
  EXPECT_GT((*engine)->LstmWeightBytes(), 0);
  EXPECT_EQ((*engine)->DecoderWeightBytes(), 4 * (41 * 5 + 41));
}

INSTANTIATE_TEST_SUITE_P(AllEngines, EnginesTest, ::testing::ValuesIn(RegisteredInferenceEngines()),
                         [](const auto& info) { return info.param; });

TEST(EngineRegistryTest, ListsEnginesAndRejectsUnknownOnes) {
  std::vector<std::string> names = RegisteredInferenceEngines();
  for (const char* want : {"auto", "blas", "csr", "onednn", "torch"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(names.back(), "csr");  // dense engines first
  EXPECT_TRUE(GetInferenceEngineInfo(kDefaultInferenceEngine).ok());
  absl::StatusOr<InferenceEngineInfo> unknown = GetInferenceEngineInfo("fast");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("blas"), std::string::npos);
  EXPECT_EQ(SetInferenceThreads(0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SetInferenceThreads(1).ok());
}

// Products above the packed kernel's 64 Ki-weight threshold run on both threads (one block of
// panels each): every engine still matches LibTorch, token by token and whole sequences.
TEST(EngineRegistryTest, TwoThreadsMatchLibTorchOnLargerProducts) {
  LstmLmConfig config;
  config.vocab_size = 400;  // decoder 400 x 192 = 76,800 weights
  config.embedding_size = 128;
  config.hidden_sizes = {256, 192};  // layer 1: 1024 x 384 weights
  config.input_sizes = {128, 200};   // layer 2 reads 200 of layer 1's 256 units
  torch::manual_seed(3);
  LstmLm model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t t_len = 5;
  torch::Tensor input = torch::randint(0, 400, {t_len, 1}, torch::kInt64);
  std::vector<int64_t> ids(input.data_ptr<int64_t>(), input.data_ptr<int64_t>() + t_len);
  LstmState state = model->InitialState(1);
  const torch::Tensor want = model->forward(input, &state);
  ASSERT_TRUE(SetInferenceThreads(2).ok());
  for (const std::string& name : RegisteredInferenceEngines()) {
    if (GetInferenceEngineInfo(name)->sparse) continue;
    SCOPED_TRACE(name);
    auto engine = CreateInferenceEngine(name, model);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_TRUE((*engine)->Reset(1, t_len).ok());
    for (int64_t t = 0; t < t_len; ++t) {
      ASSERT_TRUE((*engine)->Run(absl::MakeConstSpan(ids.data() + t, 1), true).ok());
      ExpectClose((*engine)->logits(), want.narrow(0, t, 1), name + " token logits, 2 threads");
    }
    ASSERT_TRUE((*engine)->Reset(1, t_len).ok());
    ASSERT_TRUE((*engine)->Run(ids, true).ok());
    ExpectClose((*engine)->logits(), want, name + " sequence logits, 2 threads");
  }
  ASSERT_TRUE(SetInferenceThreads(1).ok());
}

}  // namespace
}  // namespace rnnprune
