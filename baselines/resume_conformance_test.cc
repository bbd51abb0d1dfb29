// Resume conformance: for every registered pruning method, a run of the pruning protocol
// (pruning/protocol.h) stopped mid-way through its search phase, or through its recovery phase,
// and started again the way a restarted job would (a fresh starting model, a fresh method, the
// same files) ends with the same parameters, bit for bit, the same final structure and the same
// gate statistics as a run that was not stopped. A method whose training depends on state of
// its own (a step counter, masks) must save it through TrainingHooks::SaveTrainingState, and an
// optimiser of its own through ExtraOptimizer, for this to pass.
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "baselines/conformance_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pruning/method.h"
#include "pruning/protocol.h"
#include "pruning/protocol_testing.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

class ResumeConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    const torch::Tensor stream = ConformanceStream(kVocab);
    train_ = stream.narrow(0, 0, 1200);
    valid_ = stream.narrow(0, 1200, 50);
    config_ = ConformanceModelConfig(kVocab);
    options_ = ConformanceMethodOptions(config_, 10);
  }

  // Runs the protocol from a fresh starting model and method, as a (re)started job would.
  absl::StatusOr<ProtocolResult> Run(const std::string& base, bool resume,
                                     std::function<void(const std::string&)> log) {
    torch::manual_seed(3);
    LstmLm start(config_);
    auto method = CreatePruningMethod(GetParam(), options_);
    if (!method.ok()) return method.status();
    method_ = *std::move(method);
    ProtocolOptions o = TinyTwoPhaseProtocol(/*bptt=*/8, 10, 8, 37);
    o.diagnostics_every_steps = 3;
    o.agreement_tokens = 40;
    o.checkpoint_base = TmpPath(GetParam() + "_" + base);
    o.checkpoint_every_steps = 3;
    o.resume = resume;
    o.config_hash = "conformance-" + GetParam();
    o.seed = 7;
    o.log = log ? log : [](const std::string&) {};
    return RunPruningProtocol(start, *method_, train_, valid_, o);
  }

  static constexpr int64_t kVocab = 20;
  torch::Tensor train_, valid_;
  LstmLmConfig config_;
  MethodOptions options_;
  std::unique_ptr<PruningMethod> method_;
};

TEST_P(ResumeConformance, KilledInEitherPhaseResumesBitIdentically) {
  auto a = Run("a", false, nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->collapsed.empty());
  for (const std::string phase : {"search phase", "recovery phase"}) {
    SCOPED_TRACE(phase);
    const std::string name = phase == "search phase" ? "search" : "recovery";
    // Stopped after step 5 of the phase: its checkpoint of step 3 is left.
    auto b = Run(name, false, CrashAt(phase, 5));
    ASSERT_FALSE(b.ok());
    EXPECT_THAT(std::string(b.status().message()), ::testing::HasSubstr("simulated crash"));
    auto c = Run(name, true, nullptr);
    ASSERT_TRUE(c.ok()) << c.status();
    const TrainResult& resumed = phase == "search phase" ? c->search : c->recovery;
    EXPECT_TRUE(resumed.resumed);
    EXPECT_EQ(resumed.resumed_at_global_step, 3);

    const auto pa = a->model->named_parameters();
    const auto pc = c->model->named_parameters();
    ASSERT_EQ(pa.size(), pc.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      EXPECT_TRUE(torch::equal(pa[i].value(), pc[i].value())) << pa[i].key();
    }
    EXPECT_EQ(c->structured, a->structured);
    EXPECT_EQ(c->kept_input_sizes, a->kept_input_sizes);
    EXPECT_EQ(c->kept_hidden_sizes, a->kept_hidden_sizes);
    EXPECT_EQ(c->search.diagnostics, a->search.diagnostics);
    ASSERT_EQ(c->weight_masks.size(), a->weight_masks.size());
    for (const auto& [w, mask] : a->weight_masks) {
      EXPECT_TRUE(torch::equal(mask, c->weight_masks.at(w))) << w;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredMethods, ResumeConformance,
                         ::testing::ValuesIn(RegisteredPruningMethods()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace rnnprune
