// Conformance suite: every registered pruning method (pruning/ and baselines/), run through the
// pruning protocol (pruning/protocol.h: a few search steps, compaction, recovery steps) on a
// synthetic stream, must train without NaN, yield a valid final structure and survive an exact
// compaction round trip (structured: the compacted model agrees with the gated one before the
// recovery; unstructured: the CSR matrices convert back to the masked weights bit for bit and
// the CSR inference path gives the dense-with-zeros model's outputs). A method added with one file
// and one registration line is picked up here without editing this file.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "baselines/conformance_fixture.h"
#include "gtest/gtest.h"
#include "models/sparse_lstm.h"
#include "pruning/compaction.h"
#include "pruning/method.h"
#include "pruning/neuron_mask.h"
#include "pruning/protocol.h"
#include "pruning/protocol_testing.h"
#include "torch/torch.h"
#include "training/lm_trainer.h"

namespace rnnprune {
namespace {

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, RunsTheProtocolAndYieldsAStructureThatRoundTrips) {
  torch::set_num_threads(1);
  const int64_t vocab = 20;
  const torch::Tensor stream = ConformanceStream(vocab);
  const torch::Tensor train = stream.narrow(0, 0, 1200), valid = stream.narrow(0, 1200, 50);
  auto info = GetPruningMethodInfo(GetParam());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->description.empty());

  torch::manual_seed(3);
  const LstmLmConfig config = ConformanceModelConfig(vocab);
  LstmLm model(config);
  const MethodOptions options = ConformanceMethodOptions(config, 12);
  auto method = CreatePruningMethod(GetParam(), options);
  ASSERT_TRUE(method.ok()) << method.status();
  EXPECT_TRUE((*method)->RecordedOptions().is_object());

  ProtocolOptions po = TinyTwoPhaseProtocol(/*bptt=*/8, options.total_steps, 4, 37);
  po.agreement_tokens = 40;
  po.log = [](const std::string&) {};
  // A NaN/Inf loss or gradient is an error; so is a compaction that disagrees with the gates.
  auto r = RunPruningProtocol(model, **method, train, valid, po);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->collapsed.empty()) << r->collapsed;
  EXPECT_EQ(r->structured, info->structured);
  for (const EpochStats& e : r->search.epochs) EXPECT_TRUE(std::isfinite(e.train_perplexity));
  for (const torch::Tensor& p : r->model->parameters()) {
    EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  }
  LstmLm final_model = r->model;
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::randint(0, config.vocab_size, {9, 3}, torch::kInt64);
  if (r->structured) {
    // Compacted before the recovery (the agreement check ran on the gated model).
    EXPECT_EQ(r->agreement["tokens"], 40);
    EXPECT_EQ(r->model->config().hidden_sizes, r->kept_hidden_sizes);
    if (info->setting == SettingKind::kTargetSizes) {
      // Methods given target sizes reach them.
      EXPECT_LT(r->model->config().NumParameters(), config.NumParameters());
    }
  } else if (!r->weight_masks.empty()) {
    PruningStructure s;
    s.weight_masks = r->weight_masks;
    ASSERT_TRUE(ValidateStructure(final_model, s).ok()) << ValidateStructure(final_model, s);
    auto sparse = SparseLstmLm::FromDense(final_model);
    ASSERT_TRUE(sparse.ok()) << sparse.status();
    int64_t kept = 0;
    for (int64_t l = 0; l < final_model->num_layers(); ++l) {
      for (bool recurrent : {false, true}) {
        const std::string name = absl::StrCat("lstm", l, recurrent ? "_w_hh" : "_w_ih");
        const torch::Tensor& mask = r->weight_masks.at(name);
        EXPECT_TRUE(torch::equal(sparse->DenseWeight(l, recurrent),
                                 ParameterByName(final_model, name) * mask));
        kept += mask.sum().item<int64_t>();
      }
    }
    EXPECT_EQ(sparse->LstmNonZeros(), kept);
    EXPECT_GT(WeightSparsity(s), 0.0);
    LstmState s1 = final_model->InitialState(3), s2 = sparse->InitialState(3);
    const torch::Tensor dense_out = final_model->Run(input, &s1).Logits();
    const torch::Tensor sparse_out = sparse->Logits(sparse->Run(input, &s2));
    EXPECT_TRUE(torch::allclose(dense_out, sparse_out, 1e-5, 1e-5))
        << (dense_out - sparse_out).abs().max().item<float>();
    for (size_t l = 0; l < s1.h.size(); ++l) {
      EXPECT_TRUE(torch::allclose(s1.c[l], s2.c[l], 1e-5, 1e-5));
    }
  } else {
    EXPECT_EQ(r->model->config().hidden_sizes, config.hidden_sizes);  // the dense control
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
                .find("target size H1=11 must be in [1, 10]"),
            std::string::npos);
  // E:I2:H1:H2: layer 2 cannot read more units than layer 1 keeps.
  o.target_sizes = {7, 9, 8, 5};
  EXPECT_NE(std::string(CreatePruningMethod("structured_magnitude", o).status().message())
                .find("target size I2 (at most H1)=9 must be in [1, 8]"),
            std::string::npos);
  o.target_sizes = {7, 5};
  EXPECT_NE(
      std::string(CreatePruningMethod("random", o).status().message()).find("must have 3 entries"),
      std::string::npos);
  o.target_sizes = {};
  o.lambda = std::numeric_limits<double>::infinity();
  EXPECT_NE(std::string(CreatePruningMethod("l0", o).status().message())
                .find("lambda=inf must be finite and >= 0"),
            std::string::npos);
  // A method's own options are checked by the method's declared rule, naming the flag.
  o.lambda = 1;
  o.given_options["l0_init_keep"] = "1";
  EXPECT_NE(std::string(CreatePruningMethod("l0", o).status().message())
                .find("--l0_init_keep=1 must be finite and in (0, 1)"),
            std::string::npos);
  o.given_options.clear();
  o.penalty_scale = 0;
  EXPECT_NE(std::string(CreatePruningMethod("lasso", o).status().message())
                .find("penalty_scale=0 must be finite and > 0"),
            std::string::npos);
}

// The options methods declare (pruning/method_option.h) reach the command line through the
// registry, each flag once; a test-only baseline with a hyperparameter of its own, added in one
// file (baselines/testing/uniform_fraction.cc), takes it.
TEST(Registry, MethodsDeclareTheirOwnOptions) {
  std::vector<std::string> flags;
  for (const MethodOptionSpec& spec : RegisteredMethodOptions()) flags.push_back(spec.flag);
  for (const char* want :
       {"l0_init_keep", "l0_gate_learning_rate", "l0_mode", "uniform_fraction_keep"}) {
    EXPECT_EQ(std::count(flags.begin(), flags.end(), want), 1) << want;
  }
  const std::vector<std::string> settings_flags = RegisteredSettingsFlags();
  EXPECT_NE(std::find(settings_flags.begin(), settings_flags.end(), "l0_lambdas"),
            settings_flags.end());
  EXPECT_FALSE(TrainsFromScratch("l0", {}).value());
  EXPECT_TRUE(TrainsFromScratch("l0_speed", {{"l0_mode", "scratch"}}).value());
  EXPECT_FALSE(TrainsFromScratch("iss", {{"l0_mode", "scratch"}}).value());

  MethodOptions o = ConformanceMethodOptions(ConformanceModelConfig(20), 10);
  o.given_options["uniform_fraction_keep"] = "0.25";
  auto method = CreatePruningMethod("uniform_fraction", o);
  ASSERT_TRUE(method.ok()) << method.status();
  EXPECT_EQ((*method)->RecordedOptions(), (nlohmann::json{{"keep_fraction", 0.25}}));
  LstmLm model(o.config);
  ASSERT_TRUE((*method)->Begin(model).ok());
  absl::StatusOr<PruningStructure> s = (*method)->Finish(model);
  ASSERT_TRUE(s.ok()) << s.status();
  // ceil(0.25 * 12) = 3 embedding dims, ceil(0.25 * 10) = 3 and ceil(0.25 * 8) = 2 hidden units.
  EXPECT_EQ(s->neurons.input[0].count_nonzero().item<int64_t>(), 3);
  EXPECT_EQ(s->neurons.hidden[0].count_nonzero().item<int64_t>(), 3);
  EXPECT_EQ(s->neurons.hidden[1].count_nonzero().item<int64_t>(), 2);
  o.given_options["uniform_fraction_keep"] = "0";
  EXPECT_NE(std::string(CreatePruningMethod("uniform_fraction", o).status().message())
                .find("--uniform_fraction_keep=0 must be finite and in (0, 1]"),
            std::string::npos);
}

}  // namespace
}  // namespace rnnprune
