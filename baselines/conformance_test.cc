// Conformance suite: every registered pruning method (pruning/ and baselines/), run a few steps
// on the tiny PTB fixture, must train without NaN, yield a valid final structure and survive an
// exact compaction round trip (structured: the compacted dense model's logits equal the gated
// model's; unstructured: the CSR matrices convert back to the masked weights bit for bit and the
// CSR inference path gives the dense-with-zeros model's outputs). A method added with one file
// and one registration line is picked up here without editing this file.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "baselines/conformance_fixture.h"
#include "datasets/ptb.h"
#include "gtest/gtest.h"
#include "models/sparse_lstm.h"
#include "pruning/compaction.h"
#include "pruning/method.h"
#include "pruning/neuron_mask.h"
#include "pruning/trainer.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, TrainsAndYieldsAStructureThatRoundTrips) {
  torch::set_num_threads(1);
  PtbLoadOptions lo;
  lo.verify_checksums = false;
  auto corpus = LoadPtb("datasets/testdata/tiny_ptb", lo);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  auto info = GetPruningMethodInfo(GetParam());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->description.empty());

  torch::manual_seed(3);
  const LstmLmConfig config = ConformanceModelConfig(corpus->vocab.size());
  LstmLm model(config);
  const MethodOptions options = ConformanceMethodOptions(config, 12);
  auto method = CreatePruningMethod(GetParam(), options);
  ASSERT_TRUE(method.ok()) << method.status();
  ASSERT_TRUE((*method)->Begin(model).ok());

  TrainOptions to;
  to.schedule.epochs = 2;
  to.schedule.batch_size = 4;
  to.schedule.bptt = 8;
  to.schedule.learning_rate = 0.5;
  to.max_steps_per_epoch = options.total_steps / 2;
  to.eval_each_epoch = false;
  to.log = [](const std::string&) {};
  auto trained = Train(model, corpus->train, corpus->valid, to, method->get());
  ASSERT_TRUE(trained.ok()) << trained.status();  // a NaN/Inf loss or gradient is an error
  for (const EpochStats& e : trained->epochs) EXPECT_TRUE(std::isfinite(e.train_perplexity));
  for (const torch::Tensor& p : model->parameters()) {
    EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  }

  auto structure = (*method)->Finish(model);
  ASSERT_TRUE(structure.ok()) << structure.status();
  ASSERT_TRUE(ValidateStructure(model, *structure).ok()) << ValidateStructure(model, *structure);
  EXPECT_EQ(structure->structured, info->structured);

  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::randint(0, config.vocab_size, {9, 3}, torch::kInt64);
  if (structure->structured || !structure->has_weight_masks()) {
    const NeuronMask mask =
        structure->structured ? structure->neurons : NeuronMask::AllOpen(config);
    auto compacted = Compact(model, mask);
    ASSERT_TRUE(compacted.ok()) << compacted.status();
    LstmState s1 = model->InitialState(3), s2 = compacted->model->InitialState(3);
    const torch::Tensor gated = RunGated(model, mask, input, &s1).Logits();
    const torch::Tensor small = compacted->model->Run(input, &s2).Logits();
    EXPECT_TRUE(torch::allclose(gated, small, 1e-5, 1e-5))
        << (gated - small).abs().max().item<float>();
    if (info->setting == SettingKind::kTargetSizes) {
      // Methods given target sizes reach them.
      EXPECT_LT(compacted->model->config().NumParameters(), config.NumParameters());
    }
  } else {
    auto sparse = SparseLstmLm::FromDense(model);
    ASSERT_TRUE(sparse.ok()) << sparse.status();
    int64_t kept = 0;
    for (int64_t l = 0; l < model->num_layers(); ++l) {
      for (bool recurrent : {false, true}) {
        const std::string name = absl::StrCat("lstm", l, recurrent ? "_w_hh" : "_w_ih");
        const torch::Tensor& mask = structure->weight_masks.at(name);
        EXPECT_TRUE(torch::equal(sparse->DenseWeight(l, recurrent),
                                 ParameterByName(model, name) * mask));
        kept += mask.sum().item<int64_t>();
      }
    }
    EXPECT_EQ(sparse->LstmNonZeros(), kept);
    EXPECT_GT(WeightSparsity(*structure), 0.0);
    LstmState s1 = model->InitialState(3), s2 = sparse->InitialState(3);
    const torch::Tensor dense_out = model->Run(input, &s1).Logits();
    const torch::Tensor sparse_out = sparse->Logits(sparse->Run(input, &s2));
    EXPECT_TRUE(torch::allclose(dense_out, sparse_out, 1e-5, 1e-5))
        << (dense_out - sparse_out).abs().max().item<float>();
    for (size_t l = 0; l < s1.h.size(); ++l) {
      EXPECT_TRUE(torch::allclose(s1.c[l], s2.c[l], 1e-5, 1e-5));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredMethods, Conformance,
                         ::testing::ValuesIn(RegisteredPruningMethods()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(Registry, HasThePaperAndEveryBaselineOfTheIssue) {
  const std::vector<std::string> names = RegisteredPruningMethods();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "dense");
  for (const char* want : {"l0", "iss", "lasso", "magnitude", "structured_magnitude", "random"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  auto unknown = CreatePruningMethod("nope", MethodOptions{});
  EXPECT_TRUE(absl::IsNotFound(unknown.status()));
  EXPECT_NE(std::string(unknown.status().message()).find("registered: dense"), std::string::npos);
}

TEST(Registry, RejectsBadSettingsNamingTheField) {
  MethodOptions o;
  o.config = ConformanceModelConfig(20);
  o.lambda = -1;
  EXPECT_NE(std::string(CreatePruningMethod("iss", o).status().message()).find("lambda=-1"),
            std::string::npos);
  o.lambda = 0;
  o.sparsity = 1.0;
  EXPECT_NE(std::string(CreatePruningMethod("magnitude", o).status().message())
                .find("sparsity=1 must be in [0, 1)"),
            std::string::npos);
  o.target_sizes = {7, 11, 5};
  EXPECT_NE(std::string(CreatePruningMethod("random", o).status().message())
                .find("target size 11 at position 1 must be in [1, 10]"),
            std::string::npos);
}

}  // namespace
}  // namespace rnnprune
