#include "models/bidaf.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/bidaf_testing.h"
#include "models/lstm_layer.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using bidaf_testing::Example;
using bidaf_testing::RandomExample;
using bidaf_testing::ToBatch;
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

void ExpectClose(const torch::Tensor& got, const torch::Tensor& want, double tol,
                 const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const auto g = got.to(torch::kDouble).contiguous(), w = want.to(torch::kDouble).contiguous();
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double a = g.data_ptr<double>()[i], b = w.data_ptr<double>()[i];
    ASSERT_NEAR(a, b, tol + tol * std::abs(b)) << what << " at flat index " << i;
  }
}

TEST(Bidaf, LstmsAreNamedParameters) {
  BidafConfig c = SmallConfig();
  c.modelling_layers = 3;
  Bidaf model(c);
  std::vector<BidafLstm*> lstms = model->lstms();
  ASSERT_EQ(lstms.size(), 5u);
  const char* names[] = {"contextual", "modelling.0", "modelling.1", "modelling.2", "output"};
  const int64_t inputs[] = {c.EmbeddingWidth(), 64, 16, 16, 16};
  auto params = model->named_parameters();
  for (size_t i = 0; i < lstms.size(); ++i) {
    EXPECT_EQ(lstms[i]->name, names[i]);
    for (const LstmLayerWeights* w : {&lstms[i]->forward, &lstms[i]->backward}) {
      EXPECT_EQ(w->w_ih.sizes(), torch::IntArrayRef({32, inputs[i]})) << names[i];
      EXPECT_EQ(w->w_hh.sizes(), torch::IntArrayRef({32, 8}));
      EXPECT_EQ(w->b_ih.sizes(), torch::IntArrayRef({32}));
      // Aliases of registered parameters (same storage).
      bool found = false;
      for (const auto& p : params) found |= p.value().data_ptr() == w->w_hh.data_ptr();
      EXPECT_TRUE(found) << names[i];
      // Forget-gate bias starts at 1 +- 1/sqrt(d).
      EXPECT_GT(w->b_ih.narrow(0, 8, 8).min().item<float>(), 0.6f);
    }
  }
  const BidafImpl& const_model = *model;
  EXPECT_EQ(const_model.lstms()[4]->name, "output");
}

TEST(Bidaf, OutputShapesAndMaskedPositions) {
  torch::manual_seed(1);
  std::mt19937 rng(1);
  const BidafConfig c = SmallConfig();
  Bidaf model(c);
  model->eval();
  const std::vector<Example> ex = {RandomExample(&rng, c, 7, 3), RandomExample(&rng, c, 4, 5)};
  const BidafBatch batch = ToBatch(ex);
  const BidafOutput out = model->forward(batch);
  for (const torch::Tensor* t : {&out.start_logits, &out.end_logits}) {
    EXPECT_EQ(t->sizes(), torch::IntArrayRef({2, 7}));
    EXPECT_EQ(t->scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::isfinite(t->masked_select(batch.context_mask)).all().item<bool>());
    EXPECT_TRUE((t->masked_select(~batch.context_mask) == kBidafMaskedLogit).all().item<bool>());
    // Softmax gives padded positions exactly 0.
    EXPECT_EQ(torch::softmax(*t, 1)[1].narrow(0, 4, 3).abs().sum().item<float>(), 0.0f);
  }
}

// The core invariant: in eval mode an example's logits depend neither on the other examples
// of its batch nor on how far (tokens, question tokens, characters) it is padded, nor on what
// the padded positions hold.
TEST(Bidaf, LogitsDoNotDependOnPadding) {
  torch::manual_seed(2);
  std::mt19937 rng(2);
  BidafConfig c = SmallConfig();
  c.dropout = 0.3;  // eval mode must switch it off
  Bidaf model(c);
  model->eval();
  const Example target = RandomExample(&rng, c, 6, 4);
  const std::vector<Example> others = {RandomExample(&rng, c, 11, 2), RandomExample(&rng, c, 3, 9)};
  for (bool adversarial : {false, true}) {
    // Then an all-padding character window (value relu(bias) = 3) would beat every real one
    // (bias minus a positive sum) in the max-pool, if it were pooled.
    if (adversarial) {
      torch::NoGradGuard no_grad;
      auto params = model->named_parameters();
      params["char_conv.bias"].fill_(3.0);
      params["char_conv.weight"].abs_().neg_();
      params["char_embedding.weight"].abs_();
    }
    const BidafOutput alone = model->forward(ToBatch({target}));
    for (int64_t pad_word : {0, 17}) {
      const BidafBatch padded = ToBatch({others[0], target, others[1]}, /*min_tc=*/15,
                                        /*min_tq=*/12, /*min_w=*/10, pad_word);
      const BidafOutput out = model->forward(padded);
      SCOPED_TRACE(testing::Message() << "pad_word=" << pad_word << " adversarial=" << adversarial);
      ExpectClose(out.start_logits[1].narrow(0, 0, 6), alone.start_logits[0], 1e-5, "start");
      ExpectClose(out.end_logits[1].narrow(0, 0, 6), alone.end_logits[0], 1e-5, "end");
    }
  }
}

TEST(Bidaf, ReverseWithinLengths) {
  const torch::Tensor x = torch::arange(12, torch::kFloat).view({4, 3});  // [T=4, B=3]
  const torch::Tensor lengths = torch::tensor({4, 2, 0}, torch::kLong);
  const torch::Tensor r = ReverseWithinLengths(x, lengths);
  // Column b holds b, 3 + b, 6 + b, 9 + b.
  EXPECT_TRUE(torch::equal(r.select(1, 0), torch::tensor({9.f, 6.f, 3.f, 0.f})));
  EXPECT_TRUE(torch::equal(r.select(1, 1), torch::tensor({4.f, 1.f, 7.f, 10.f})));
  EXPECT_TRUE(torch::equal(r.select(1, 2), torch::tensor({2.f, 5.f, 8.f, 11.f})));
  EXPECT_TRUE(torch::equal(ReverseWithinLengths(r, lengths), x));
  EXPECT_THROW(ReverseWithinLengths(x, torch::tensor({5, 1, 1}, torch::kLong)), c10::Error);
  EXPECT_THROW(ReverseWithinLengths(x, torch::tensor({1, 1}, torch::kLong)), c10::Error);
}

// Each example's backward direction against the layer run on its own un-padded reversed
// sequence (batch of one), values and input gradients.
TEST(Bidaf, BidirectionalLstmMatchesPerExampleReference) {
  torch::manual_seed(3);
  const int64_t b = 4, t = 9, in = 5, h = 6;
  auto mk = [](std::vector<int64_t> s) { return (torch::rand(s) - 0.5).requires_grad_(); };
  BidafLstm lstm;
  lstm.name = "test";
  for (LstmLayerWeights* w : {&lstm.forward, &lstm.backward}) {
    w->w_ih = mk({4 * h, in});
    w->w_hh = mk({4 * h, h});
    w->b_ih = mk({4 * h});
    w->b_hh = mk({4 * h});
  }
  const torch::Tensor x = mk({b, t, in});
  const torch::Tensor lengths = torch::tensor({9, 1, 5, 3}, torch::kLong);
  const torch::Tensor y = RunBidirectionalLstm(lstm, x, lengths);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({b, t, 2 * h}));
  const torch::Tensor gy = torch::randn_like(y);
  torch::Tensor mask = (torch::arange(t).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(2);
  const torch::Tensor dx = torch::autograd::grad({(y * gy * mask).sum()}, {x})[0];
  const torch::Tensor z = torch::zeros({1, h});
  for (int64_t r = 0; r < b; ++r) {
    SCOPED_TRACE(testing::Message() << "example " << r);
    const int64_t len = lengths[r].item<int64_t>();
    const torch::Tensor xr = x[r].narrow(0, 0, len).unsqueeze(1);  // [len, 1, I]
    const LstmLayerWeights &f = lstm.forward, &bw = lstm.backward;
    const torch::Tensor fw =
        std::get<0>(LstmLayerForward(xr, z, z, f.w_ih, f.w_hh, f.b_ih, f.b_hh));
    const torch::Tensor back =
        std::get<0>(LstmLayerForward(xr.flip(0), z, z, bw.w_ih, bw.w_hh, bw.b_ih, bw.b_hh)).flip(0);
    const torch::Tensor want = torch::cat({fw, back}, 2).squeeze(1);  // [len, 2h]
    ExpectClose(y[r].narrow(0, 0, len), want, 1e-6, "y");
    const torch::Tensor g = gy[r].narrow(0, 0, len);
    const torch::Tensor want_dx = torch::autograd::grad({(want * g).sum()}, {x})[0][r];
    ExpectClose(dx[r], want_dx, 1e-6, "dx");
  }
}

TEST(Bidaf, GradientsReachEveryTrainableParameter) {
  for (bool freeze : {true, false}) {
    SCOPED_TRACE(testing::Message() << "freeze_word_embedding=" << freeze);
    torch::manual_seed(4);
    std::mt19937 rng(4);
    BidafConfig c = SmallConfig();
    c.freeze_word_embedding = freeze;
    Bidaf model(c);
    model->train();
    const BidafBatch batch = ToBatch({RandomExample(&rng, c, 8, 4), RandomExample(&rng, c, 5, 6)});
    BidafLoss(model->forward(batch), batch).backward();
    for (const auto& p : model->named_parameters()) {
      if (p.key() == "word_embedding.weight" && freeze) {
        EXPECT_FALSE(p.value().requires_grad());
        EXPECT_FALSE(p.value().grad().defined());
        continue;
      }
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    }
  }
}

TEST(Bidaf, LossIsMeanCrossEntropyInNats) {
  BidafOutput out;
  out.start_logits = torch::tensor({{1.0f, 2.0f, kBidafMaskedLogit}, {0.5f, -1.0f, 3.0f}});
  out.end_logits = torch::tensor({{0.0f, 0.0f, kBidafMaskedLogit}, {2.0f, 1.0f, 0.0f}});
  BidafBatch batch;
  batch.context_words = torch::ones({2, 3}, torch::kLong);
  batch.context_chars = torch::ones({2, 3, 1}, torch::kLong);
  batch.context_mask = torch::tensor({{true, true, false}, {true, true, true}});
  batch.question_words = torch::ones({2, 1}, torch::kLong);
  batch.question_chars = torch::ones({2, 1, 1}, torch::kLong);
  batch.question_mask = torch::ones({2, 1}, torch::kBool);
  batch.answer_first = torch::tensor({0, 2}, torch::kLong);
  batch.answer_last = torch::tensor({1, 2}, torch::kLong);
  const double l0 = -(1.0 - std::log(std::exp(1.0) + std::exp(2.0))) + std::log(2.0);
  const double z1s = std::log(std::exp(0.5) + std::exp(-1.0) + std::exp(3.0));
  const double z1e = std::log(std::exp(2.0) + std::exp(1.0) + std::exp(0.0));
  const double l1 = -(3.0 - z1s) - (0.0 - z1e);
  EXPECT_NEAR(BidafLoss(out, batch).item<double>(), (l0 + l1) / 2, 1e-5);
  batch.answer_last = torch::tensor({2, 2}, torch::kLong);  // outside example 0's context
  EXPECT_THROW(BidafLoss(out, batch), c10::Error);
  batch.answer_last = torch::Tensor();
  EXPECT_THROW(BidafLoss(out, batch), c10::Error);
}

TEST(Bidaf, BadBatchesAreErrors) {
  torch::manual_seed(5);
  std::mt19937 rng(5);
  const BidafConfig c = SmallConfig();
  Bidaf model(c);
  const BidafBatch good = ToBatch({RandomExample(&rng, c, 5, 3), RandomExample(&rng, c, 2, 2)});
  ASSERT_TRUE(model->TryForward(good).ok());
  auto message = [&](const BidafBatch& b) {
    absl::StatusOr<BidafOutput> r = model->TryForward(b);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  BidafBatch b = good;
  b.context_words = good.context_words.clone();
  b.context_words[0][0] = 50;
  EXPECT_THAT(message(b), HasSubstr(", 50]; they must be in [0, 50)"));
  b = good;
  b.question_mask = good.question_mask.clone();
  b.question_mask[1][0] = false;  // not a prefix
  EXPECT_THAT(message(b), HasSubstr("question_mask must be true on a non-empty prefix"));
  b = good;
  b.context_chars = good.context_chars.to(torch::kInt);
  EXPECT_THAT(message(b), HasSubstr("context_chars must be a 3-d Long"));
  b = good;
  b.question_chars = good.question_chars.narrow(0, 0, 1);
  EXPECT_THAT(message(b), HasSubstr("question: words"));
  b = good;
  b.answer_first = torch::tensor({0, 3}, torch::kLong);
  EXPECT_THAT(message(b), HasSubstr("example 1: answer [3, "));
  EXPECT_THROW(model->forward(b), c10::Error);
  b.answer_first = b.answer_last = torch::Tensor();  // answers are optional for inference
  EXPECT_TRUE(model->TryForward(b).ok());
}

TEST(Bidaf, ForwardWithLstmsAndWordEmbedding) {
  torch::manual_seed(6);
  std::mt19937 rng(6);
  const BidafConfig c = SmallConfig();
  Bidaf model(c);
  model->eval();
  const BidafBatch batch = ToBatch({RandomExample(&rng, c, 6, 3)});
  std::vector<BidafLstm> weights;
  for (const BidafLstm* l : model->lstms()) weights.push_back(*l);
  const BidafOutput base = model->forward(batch);
  EXPECT_TRUE(
      torch::equal(model->ForwardWithLstms(batch, weights).start_logits, base.start_logits));
  // Closing every hidden neuron of the output LSTM (as a pruning gate would) changes only p2.
  for (LstmLayerWeights* w : {&weights.back().forward, &weights.back().backward}) {
    w->w_ih = w->w_ih * 0;
    w->w_hh = w->w_hh * 0;
    w->b_ih = w->b_ih * 0;
    w->b_hh = w->b_hh * 0;
  }
  const BidafOutput gated = model->ForwardWithLstms(batch, weights);
  EXPECT_TRUE(torch::equal(gated.start_logits, base.start_logits));
  EXPECT_FALSE(torch::equal(gated.end_logits, base.end_logits));
  weights.pop_back();
  EXPECT_THROW(model->ForwardWithLstms(batch, weights), c10::Error);

  const torch::Tensor glove = torch::randn({c.word_vocab_size, c.word_dim});
  ASSERT_TRUE(model->SetWordEmbedding(glove).ok());
  EXPECT_TRUE(torch::equal(model->word_embedding(), glove));
  EXPECT_FALSE(model->word_embedding().requires_grad());
  EXPECT_THAT(std::string(model->SetWordEmbedding(torch::zeros({3, 6})).message()),
              HasSubstr("must be [word_vocab_size, word_dim] = [50, 6], got [3, 6]"));
  EXPECT_FALSE(model->SetWordEmbedding(torch::zeros({50, 6}, torch::kDouble)).ok());
}

// The model can learn: a few examples are memorised (loss < 20% of its start) in 100 Adam steps.
TEST(Bidaf, OverfitsAFewExamples) {
  torch::manual_seed(7);
  std::mt19937 rng(7);
  BidafConfig c = SmallConfig();
  c.dropout = 0.0;
  Bidaf model(c);
  model->train();
  std::vector<Example> ex;
  for (int i = 0; i < 4; ++i) ex.push_back(RandomExample(&rng, c, 10 + 2 * i, 4 + i));
  const BidafBatch batch = ToBatch(ex);
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam adam(trainable, torch::optim::AdamOptions(0.01));
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 100; ++step) {
    adam.zero_grad();
    torch::Tensor loss = BidafLoss(model->forward(batch), batch);
    loss.backward();
    adam.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  RecordProperty("first_loss_nats", std::to_string(first));
  RecordProperty("last_loss_nats", std::to_string(last));
  EXPECT_GT(first, 3.0);  // about 2 ln(13) at random initialisation
  EXPECT_LT(last, 0.2 * first) << "loss went from " << first << " to " << last;
}

}  // namespace
}  // namespace rnnprune
