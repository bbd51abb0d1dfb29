#include "models/sparse_lstm.h"

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// A model whose LSTM weights are ~80% exact zeros, like a magnitude-pruned one.
LstmLm SparseModel(int64_t vocab) {
  LstmLmConfig c;
  c.vocab_size = vocab;
  c.embedding_size = 9;
  c.hidden_sizes = {13, 6};
  c.init_scale = 0.5;
  LstmLm m(c);
  torch::NoGradGuard no_grad;
  for (int64_t l = 0; l < m->num_layers(); ++l) {
    for (torch::Tensor w : {m->layer(l).w_ih, m->layer(l).w_hh}) {
      w.masked_fill_(torch::rand(w.sizes()) < 0.8, 0.0);
    }
  }
  return m;
}

TEST(SparseLstm, MatchesTheDenseModelWithZerosOverCarriedState) {
  torch::manual_seed(1);
  LstmLm model = SparseModel(31);
  model->eval();
  auto sparse = SparseLstmLm::FromDense(model);
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  torch::NoGradGuard no_grad;
  LstmState s1 = model->InitialState(4), s2 = sparse->InitialState(4);
  for (int call = 0; call < 3; ++call) {  // state carried across calls
    const torch::Tensor input = torch::randint(0, 31, {7, 4}, torch::kInt64);
    const torch::Tensor want = model->forward(input, &s1);
    const torch::Tensor got = sparse->Logits(sparse->Run(input, &s2));
    ASSERT_TRUE(torch::allclose(want, got, 1e-5, 1e-5)) << (want - got).abs().max();
  }
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(torch::allclose(s1.h[l], s2.h[l], 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(s1.c[l], s2.c[l], 1e-5, 1e-5));
  }
}

// One token of one sequence per call (T * B = 1): the gate buffer must not alias the bias (it
// did once, and every call then added its products into the model's bias).
TEST(SparseLstm, TokenByTokenAtBatchOneMatches) {
  torch::manual_seed(2);
  LstmLm model = SparseModel(17);
  model->eval();
  auto sparse = SparseLstmLm::FromDense(model);
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  torch::NoGradGuard no_grad;
  LstmState s1 = model->InitialState(1), s2 = sparse->InitialState(1);
  for (int call = 0; call < 5; ++call) {
    const torch::Tensor input = torch::randint(0, 17, {1, 1}, torch::kInt64);
    const torch::Tensor want = model->forward(input, &s1);
    const torch::Tensor got = sparse->Logits(sparse->Run(input, &s2));
    ASSERT_TRUE(torch::allclose(want, got, 1e-5, 1e-5)) << "call " << call;
  }
}

// A layer with more than 20,000 non-zeros, on 2 threads: Eigen's parallel product path.
TEST(SparseLstm, LargeLayerOnTwoThreadsMatches) {
  torch::manual_seed(3);
  LstmLmConfig c;
  c.vocab_size = 50;
  c.embedding_size = 120;
  c.hidden_sizes = {150};
  c.init_scale = 0.1;
  LstmLm model(c);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor w : {model->layer(0).w_ih, model->layer(0).w_hh}) {
      w.masked_fill_(torch::rand(w.sizes()) < 0.5, 0.0);
    }
  }
  model->eval();
  auto sparse = SparseLstmLm::FromDense(model);
  ASSERT_TRUE(sparse.ok());
  ASSERT_GT(sparse->LstmNonZeros(), 2 * 20000);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  torch::NoGradGuard no_grad;
  LstmState s1 = model->InitialState(3), s2 = sparse->InitialState(3);
  const torch::Tensor input = torch::randint(0, 50, {12, 3}, torch::kInt64);
  const torch::Tensor want = model->forward(input, &s1);
  const torch::Tensor got = sparse->Logits(sparse->Run(input, &s2));
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::allclose(want, got, 1e-5, 1e-5)) << (want - got).abs().max();
}

TEST(SparseLstm, CsrRoundTripIsExactAndCountsNonZeros) {
  torch::manual_seed(2);
  LstmLm model = SparseModel(20);
  auto sparse = SparseLstmLm::FromDense(model);
  ASSERT_TRUE(sparse.ok());
  int64_t nnz = 0;
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(torch::equal(sparse->DenseWeight(l, false), model->layer(l).w_ih));
    EXPECT_TRUE(torch::equal(sparse->DenseWeight(l, true), model->layer(l).w_hh));
    nnz += model->layer(l).w_ih.ne(0).sum().item<int64_t>() +
           model->layer(l).w_hh.ne(0).sum().item<int64_t>();
  }
  EXPECT_EQ(sparse->LstmNonZeros(), nnz);
  EXPECT_EQ(sparse->LstmDenseBytes(), 4 * (52 * 9 + 52 * 13 + 24 * 13 + 24 * 6));
  EXPECT_EQ(sparse->LstmCsrBytes(), 8 * nnz + 4 * (53 + 53 + 25 + 25));
}

TEST(SparseLstm, RejectsANonFloatModel) {
  LstmLmConfig c;
  c.vocab_size = 5;
  c.embedding_size = 2;
  c.hidden_sizes = {3};
  LstmLm m(c);
  m->to(torch::kFloat64);
  auto sparse = SparseLstmLm::FromDense(m);
  EXPECT_FALSE(sparse.ok());
  EXPECT_NE(std::string(sparse.status().message()).find("float32"), std::string::npos);
}

}  // namespace
}  // namespace rnnprune
