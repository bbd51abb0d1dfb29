#include "models/lstm_lm.h"

#include <cstdlib>
#include <functional>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/checkpoint_testing.h"
#include "models/zaremba.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig Tiny(std::vector<int64_t> hidden = {7, 5}) {
  LstmLmConfig c;
  c.vocab_size = 11;
  c.embedding_size = 6;
  c.hidden_sizes = std::move(hidden);
  c.dropout = 0.3;
  c.init_scale = 0.2;
  return c;
}

TEST(LstmLmConfig, ValidateNamesTheField) {
  LstmLmConfig c = Tiny();
  c.hidden_sizes = {4, 0};
  EXPECT_THAT(std::string(c.Validate().message()), HasSubstr("hidden_sizes[1]=0"));
  c = Tiny();
  c.dropout = 1.0;
  EXPECT_THAT(std::string(c.Validate().message()), HasSubstr("dropout=1"));
  c = Tiny();
  c.hidden_sizes.clear();
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_TRUE(Tiny().Validate().ok());
}

TEST(LstmLmConfig, JsonRoundTrip) {
  const LstmLmConfig c = Tiny({9, 3, 4});
  auto back = LstmLmConfig::FromJson(c.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->hidden_sizes, c.hidden_sizes);
  EXPECT_EQ(back->embedding_size, c.embedding_size);
  EXPECT_DOUBLE_EQ(back->dropout, c.dropout);
  EXPECT_FALSE(LstmLmConfig::FromJson("{\"vocab_size\": 3}").ok());
  EXPECT_FALSE(LstmLmConfig::FromJson("not json").ok());
}

TEST(LstmLm, HeterogeneousShapesAndParameterCount) {
  torch::manual_seed(1);
  LstmLm m(Tiny({7, 5}));
  int64_t n = 0;
  for (const auto& p : m->parameters()) {
    n += p.numel();
    EXPECT_LE(p.abs().max().item<float>(), 0.2f);
  }
  EXPECT_EQ(n, m->config().NumParameters());
  LstmState s = m->InitialState(3);
  auto logits = m->forward(torch::randint(0, 11, {4, 3}, torch::kInt64), &s);
  EXPECT_EQ(logits.sizes(), (torch::IntArrayRef{4, 3, 11}));
  EXPECT_EQ(s.h[0].sizes(), (torch::IntArrayRef{1, 3, 7}));
  EXPECT_EQ(s.c[1].sizes(), (torch::IntArrayRef{1, 3, 5}));
}

// Reference: our per-layer stack equals LibTorch's own 2-layer nn::LSTM with the same weights.
TEST(LstmLm, MatchesTorchNnLstmReference) {
  torch::manual_seed(2);
  LstmLmConfig c = Tiny({8, 8});
  c.embedding_size = 8;
  LstmLm m(c);
  m->eval();
  torch::nn::LSTM ref(torch::nn::LSTMOptions(8, 8).num_layers(2));
  {
    torch::NoGradGuard g;
    for (int l = 0; l < 2; ++l) {
      const std::string s = std::to_string(l);
      ref->named_parameters()["weight_ih_l" + s].copy_(m->layer(l).w_ih);
      ref->named_parameters()["weight_hh_l" + s].copy_(m->layer(l).w_hh);
      ref->named_parameters()["bias_ih_l" + s].copy_(m->layer(l).b_ih);
      ref->named_parameters()["bias_hh_l" + s].copy_(m->layer(l).b_hh);
    }
  }
  ref->eval();
  auto input = torch::randint(0, 11, {6, 2}, torch::kInt64);
  LstmState s = m->InitialState(2);
  auto got = m->forward(input, &s);
  auto emb = torch::embedding(m->embedding_weight(), input);
  auto out = std::get<0>(ref->forward(emb));
  auto want = torch::linear(out, m->decoder_weight(), m->decoder_bias());
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6));
  // Carrying the state across two halves equals one pass over the whole sequence.
  LstmState s2 = m->InitialState(2);
  auto a = m->forward(input.narrow(0, 0, 3), &s2);
  auto b = m->forward(input.narrow(0, 3, 3), &s2);
  EXPECT_TRUE(torch::allclose(torch::cat({a, b}), got, 1e-5, 1e-6));
}

TEST(LstmLm, DropoutOnlyInTraining) {
  torch::manual_seed(3);
  LstmLm m(Tiny());
  auto input = torch::randint(0, 11, {5, 2}, torch::kInt64);
  m->eval();
  LstmState s1 = m->InitialState(2), s2 = m->InitialState(2);
  EXPECT_TRUE(torch::equal(m->forward(input, &s1), m->forward(input, &s2)));
  m->train();
  LstmState s3 = m->InitialState(2), s4 = m->InitialState(2);
  EXPECT_FALSE(torch::equal(m->forward(input, &s3), m->forward(input, &s4)));
}

// Per-sequence neuron gates: with one row for the whole batch they equal the gates folded into
// the weights as column scalings; with a row per sequence, each sequence runs as if alone with
// its own gates.
TEST(LstmLm, NeuronGatesPerSequence) {
  torch::manual_seed(21);
  LstmLm model(Tiny());
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t b = 3;
  const torch::Tensor input = torch::randint(0, 11, {6, b}, torch::kInt64);
  const auto gate = [](int64_t n) { return torch::rand({n}).mul_(1.4).sub_(0.2).clamp_(0, 1); };
  const std::vector<torch::Tensor> in_rows = {gate(6), gate(7)}, hid_rows = {gate(7), gate(5)};
  // Folded into the weights: W_ih^l columns * z_x^l (* z_h^{l-1}), W_hh^l columns * z_h^l,
  // decoder columns * z_h^L.
  std::vector<LstmLayerWeights> folded;
  for (int64_t l = 0; l < 2; ++l) {
    const LstmLayerWeights& w = model->layer(l);
    const torch::Tensor in_scale = l == 0 ? in_rows[0] : in_rows[1] * hid_rows[0];
    folded.push_back({w.w_ih * in_scale, w.w_hh * hid_rows[l], w.b_ih, w.b_hh});
  }
  LstmState s1 = model->InitialState(b), s2 = model->InitialState(b);
  const torch::Tensor want =
      model
          ->RunWith(input, &s1, model->embedding_weight(), folded,
                    model->decoder_weight() * hid_rows[1], model->decoder_bias())
          .Logits();
  std::vector<torch::Tensor> in_b, hid_b;
  for (int64_t l = 0; l < 2; ++l) {
    in_b.push_back(in_rows[l].expand({b, -1}));
    hid_b.push_back(hid_rows[l].expand({b, -1}));
  }
  const torch::Tensor got = model->RunWithNeuronGates(input, &s2, in_b, hid_b).Logits();
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << (got - want).abs().max();

  // A different row per sequence: sequence 1 alone with its row gives its slice.
  std::vector<torch::Tensor> in_var, hid_var;
  for (int64_t n : {6, 7}) in_var.push_back(torch::stack({gate(n), gate(n), gate(n)}));
  for (int64_t n : {7, 5}) hid_var.push_back(torch::stack({gate(n), gate(n), gate(n)}));
  LstmState all = model->InitialState(b), one = model->InitialState(1);
  const torch::Tensor batch_out = model->RunWithNeuronGates(input, &all, in_var, hid_var).Logits();
  std::vector<torch::Tensor> in_1, hid_1;
  for (const auto& t : in_var) in_1.push_back(t.narrow(0, 1, 1));
  for (const auto& t : hid_var) hid_1.push_back(t.narrow(0, 1, 1));
  const torch::Tensor alone =
      model->RunWithNeuronGates(input.narrow(1, 1, 1), &one, in_1, hid_1).Logits();
  EXPECT_TRUE(torch::allclose(batch_out.narrow(1, 1, 1), alone, 1e-5, 1e-5));
  EXPECT_THROW(model->RunWithNeuronGates(input, &all, {in_var[0]}, hid_var), c10::Error);
}

TEST(LstmLm, CloneIsDeep) {
  LstmLm m(Tiny());
  LstmLm c = CloneLstmLm(m);
  {
    torch::NoGradGuard g;
    m->mutable_layer(0).w_ih.fill_(0.5);
  }
  EXPECT_FALSE(torch::equal(m->layer(0).w_ih, c->layer(0).w_ih));
}

TEST(Checkpoint, HeterogeneousRoundTrip) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/ckpt/m.pt";
  torch::manual_seed(4);
  LstmLm m(Tiny({9, 3}));
  ASSERT_TRUE(SaveLstmLm(m, path, "{\"epoch\": 3}").ok());
  torch::manual_seed(9);
  const torch::Tensor expected_draw = torch::rand({4});
  torch::manual_seed(9);
  auto back = LoadLstmLm(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_draw)) << "loading drew random numbers";
  EXPECT_EQ(back->model->config().hidden_sizes, (std::vector<int64_t>{9, 3}));
  EXPECT_EQ(back->metadata_json, "{\"epoch\": 3}");
  auto a = m->named_parameters();
  for (const auto& p : back->model->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), a[p.key()])) << p.key();
  }
}

TEST(Checkpoint, CorruptOrTruncatedGivesStatus) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  EXPECT_EQ(LoadLstmLm(dir + "/none.pt").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomically(dir + "/garbage.pt", "definitely not a zip archive").ok());
  auto bad = LoadLstmLm(dir + "/garbage.pt");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("garbage.pt"));
  LstmLm m(Tiny());
  ASSERT_TRUE(SaveLstmLm(m, dir + "/full.pt").ok());
  auto bytes = ReadFile(dir + "/full.pt");
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/cut.pt", bytes->substr(0, bytes->size() / 2)).ok());
  EXPECT_FALSE(LoadLstmLm(dir + "/cut.pt").ok());
  // An unwritable destination is an error, and the old file stays.
  EXPECT_FALSE(SaveLstmLm(m, dir + "/garbage.pt/child.pt").ok());
  EXPECT_EQ(*ReadFile(dir + "/garbage.pt"), "definitely not a zip archive");
}

// Regressions (//fuzz:checkpoint_fuzzer): archives with a faulty entry give InvalidArgument naming
// the file and the fault; a config asking for more parameters than the file holds is refused
// before the model is allocated (it was a 12 TiB allocation); a float size in the config JSON was
// cast to int64 with undefined behaviour.
TEST(Checkpoint, MalformedArchivesGiveStatus) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/malformed";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const LstmLm m(Tiny());
  struct Case {
    std::string name;
    std::function<void(RawCheckpoint&)> edit;
    std::string message;
  };
  const Case cases[] = {
      {"wrong_format", [](RawCheckpoint& r) { r.format = c10::IValue("other.v1"); },
       "is not an rnnprune LSTM LM checkpoint"},
      {"no_format", [](RawCheckpoint& r) { r.format.reset(); }, "is not an rnnprune LSTM LM"},
      {"no_config", [](RawCheckpoint& r) { r.config.reset(); }, "no config"},
      {"config_not_string", [](RawCheckpoint& r) { r.config = c10::IValue(int64_t{7}); },
       "no config"},
      {"config_bad_json", [](RawCheckpoint& r) { r.config = c10::IValue("{\"vocab_size\""); },
       "LstmLmConfig JSON"},
      {"config_mismatch",
       [](RawCheckpoint& r) {
         r.config = c10::IValue(Tiny({7, 6}).ToJson());
       },
       "parameter 'lstm1_w_ih' has shape [20, 7] Float, the config needs [24, 7] Float"},
      {"config_huge",
       [](RawCheckpoint& r) {
         LstmLmConfig c = Tiny();
         c.vocab_size = int64_t{1} << 40;
         r.config = c10::IValue(c.ToJson());
       },
       "float32 parameters, more than the file's"},
      {"config_overflow",
       [](RawCheckpoint& r) {
         LstmLmConfig c = Tiny();
         c.vocab_size = int64_t{1} << 40;
         c.embedding_size = int64_t{1} << 40;
         r.config = c10::IValue(c.ToJson());
       },
       "the parameter count does not fit in int64"},
      {"config_float_size",
       [](RawCheckpoint& r) {
         r.config = c10::IValue(
             "{\"vocab_size\":1e300,\"embedding_size\":6,\"hidden_sizes\":[7,5],"
             "\"dropout\":0.3,\"init_scale\":0.2}");
       },
       "vocab_size=1e+300 must be an integer"},
      {"missing_param", [](RawCheckpoint& r) { r.params.erase("lstm0_w_hh"); },
       "parameter 'lstm0_w_hh' is missing"},
      {"int_param",
       [](RawCheckpoint& r) { r.params["lstm0_b_ih"] = r.params["lstm0_b_ih"].to(torch::kInt64); },
       "parameter 'lstm0_b_ih' has shape [28] Long"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawCheckpoint raw = RawCheckpointOf(m);
    c.edit(raw);
    const std::string path = dir + "/" + c.name + ".pt";
    const absl::Status written = WriteRawCheckpoint(raw, path);
    ASSERT_TRUE(written.ok()) << written;
    auto back = LoadLstmLm(path);
    ASSERT_FALSE(back.ok());
    EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument) << back.status();
    EXPECT_THAT(std::string(back.status().message()), HasSubstr(path));
    EXPECT_THAT(std::string(back.status().message()), HasSubstr(c.message));
  }
  // The unedited entries load; a non-string metadata entry reads as "{}".
  RawCheckpoint raw = RawCheckpointOf(m, "{\"k\": 1}");
  raw.metadata = c10::IValue(1.5);
  ASSERT_TRUE(WriteRawCheckpoint(raw, dir + "/metadata.pt").ok());
  auto back = LoadLstmLm(dir + "/metadata.pt");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->metadata_json, "{}");
  // Not a zip archive (e.g. a flatbuffer, which torch::jit::load would also try): refused first.
  ASSERT_TRUE(WriteFileAtomically(dir + "/flatbuffer.pt", std::string("\0\0\0\0PTMF", 8)).ok());
  auto flat = LoadLstmLm(dir + "/flatbuffer.pt");
  ASSERT_FALSE(flat.ok());
  EXPECT_THAT(std::string(flat.status().message()), HasSubstr("not a LibTorch zip archive"));
  ASSERT_TRUE(MakeDirs(dir + "/folder.pt").ok());
  EXPECT_FALSE(LoadLstmLm(dir + "/folder.pt").ok());
}

TEST(LstmLmConfig, FromJsonNeedsIntegerSizes) {
  const std::string tail = R"("dropout": 0.3, "init_scale": 0.2})";
  EXPECT_TRUE(LstmLmConfig::FromJson(
                  R"({"vocab_size": 11, "embedding_size": 6, "hidden_sizes": [7, 5], )" + tail)
                  .ok());
  for (const std::string bad : {
           R"({"vocab_size": 1e300, "embedding_size": 6, "hidden_sizes": [7, 5], )",
           R"({"vocab_size": 11.5, "embedding_size": 6, "hidden_sizes": [7, 5], )",
           R"({"vocab_size": true, "embedding_size": 6, "hidden_sizes": [7, 5], )",
           R"({"vocab_size": 18446744073709551615, "embedding_size": 6, "hidden_sizes": [7], )",
           R"({"vocab_size": 11, "embedding_size": 6, "hidden_sizes": [7, -1e30], )",
           R"({"vocab_size": 11, "embedding_size": 6, "hidden_sizes": 7, )",
           R"({"vocab_size": 11, "embedding_size": 6, "hidden_sizes": [7], "input_sizes": [6.0], )",
       }) {
    auto c = LstmLmConfig::FromJson(bad + tail);
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Zaremba, NamedConfigs) {
  auto small = GetZarembaConfig("small");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->model.hidden_sizes, (std::vector<int64_t>{200, 200}));
  EXPECT_EQ(small->schedule.epochs, 13);
  auto large = GetZarembaConfig("large");
  ASSERT_TRUE(large.ok());
  EXPECT_DOUBLE_EQ(large->model.dropout, 0.65);
  EXPECT_DOUBLE_EQ(large->schedule.max_grad_norm, 10.0);
  EXPECT_EQ(large->schedule.epochs, 55);
  // 2x1500 large model: 66.0M parameters (Zaremba et al. report 66M).
  EXPECT_NEAR(large->model.NumParameters() / 1e6, 66.0, 0.1);
  auto medium = GetZarembaConfig("medium");
  ASSERT_TRUE(medium.ok());
  EXPECT_NEAR(medium->model.NumParameters() / 1e6, 19.8, 0.1);  // published: 20M
  EXPECT_FALSE(GetZarembaConfig("huge").ok());
}

}  // namespace
}  // namespace rnnprune
