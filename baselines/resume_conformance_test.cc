// Resume conformance: for every registered pruning method, a fine-tuning run stopped mid-epoch
// and resumed from its training checkpoint (the way a restarted job would: a fresh starting
// model, a fresh method, Begin, then Train with resume) ends with the same parameters, bit for
// bit, and the same final structure as a run that was not stopped. A method whose training
// depends on state of its own (a step counter, masks) must save it through
// TrainingHooks::SaveTrainingState for this to pass.
#include <cstdlib>
#include <memory>
#include <string>

#include "baselines/conformance_fixture.h"
#include "gtest/gtest.h"
#include "pruning/interrupting_hooks.h"
#include "pruning/method.h"
#include "pruning/trainer.h"
#include "pruning/training_checkpoint.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

struct Job {
  LstmLm model{nullptr};
  std::unique_ptr<PruningMethod> method;
};

class ResumeConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    // A repeated pattern with 10% noise (38 windows of 8 at batch 4), from its own generator.
    torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(11);
    const torch::Tensor base = torch::arange(0, 1250, torch::kInt64).remainder(9);
    const torch::Tensor noise = torch::randint(0, kVocab, {1250}, gen, torch::kInt64);
    const torch::Tensor stream = torch::where(torch::rand({1250}, gen) < 0.1, noise, base);
    train_ = stream.narrow(0, 0, 1200);
    config_ = ConformanceModelConfig(kVocab);
    options_ = ConformanceMethodOptions(config_, 16);
  }

  // The starting model and the method after Begin, as a (re)started job builds them.
  Job Start() {
    Job r;
    torch::manual_seed(3);
    r.model = LstmLm(config_);
    auto method = CreatePruningMethod(GetParam(), options_);
    EXPECT_TRUE(method.ok()) << method.status();
    r.method = *std::move(method);
    EXPECT_TRUE(r.method->Begin(r.model).ok());
    return r;
  }

  TrainOptions Options(const std::string& path) const {
    TrainOptions to;
    to.schedule.epochs = 2;
    to.schedule.decay_after_epochs = 1;
    to.schedule.batch_size = 4;
    to.schedule.bptt = 8;
    to.schedule.learning_rate = 0.5;
    to.max_steps_per_epoch = options_.total_steps / 2;
    to.eval_each_epoch = false;
    to.log = [](const std::string&) {};
    to.checkpoint_path = path;
    to.checkpoint_every_steps = 3;
    to.config_hash = "conformance-" + GetParam();
    return to;
  }

  static constexpr int64_t kVocab = 20;
  torch::Tensor train_;
  LstmLmConfig config_;
  MethodOptions options_;
};

TEST_P(ResumeConformance, InterruptedRunResumesBitIdentically) {
  Job a = Start();
  ASSERT_TRUE(Train(a.model, train_, torch::Tensor(),
                    Options(TmpPath(GetParam() + "_a.ckpt")), a.method.get())
                  .ok());
  auto structure_a = a.method->Finish(a.model);
  ASSERT_TRUE(structure_a.ok()) << structure_a.status();

  // Stopped at step 11 (epoch 2, step 3): the checkpoint of global step 9 is left.
  const std::string path = TmpPath(GetParam() + "_b.ckpt");
  {
    Job b = Start();
    InterruptingHooks interrupt(b.method.get(), 11, path);
    ASSERT_FALSE(Train(b.model, train_, torch::Tensor(), Options(path), &interrupt).ok());
  }
  Job c = Start();
  TrainOptions resume = Options(path);
  resume.resume = true;
  auto trained = Train(c.model, train_, torch::Tensor(), resume, c.method.get());
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_EQ(trained->resumed_at_global_step, 9);
  auto structure_c = c.method->Finish(c.model);
  ASSERT_TRUE(structure_c.ok()) << structure_c.status();

  const auto pa = a.model->named_parameters();
  const auto pc = c.model->named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pc[i].value())) << pa[i].key();
  }
  const auto ea = a.method->ExtraParameters();
  const auto ec = c.method->ExtraParameters();
  ASSERT_EQ(ea.size(), ec.size());
  for (size_t i = 0; i < ea.size(); ++i) EXPECT_TRUE(torch::equal(ea[i], ec[i])) << i;
  EXPECT_EQ(structure_a->structured, structure_c->structured);
  for (size_t l = 0; l < structure_a->neurons.hidden.size(); ++l) {
    EXPECT_TRUE(torch::equal(structure_a->neurons.hidden[l], structure_c->neurons.hidden[l]));
    EXPECT_TRUE(torch::equal(structure_a->neurons.input[l], structure_c->neurons.input[l]));
  }
  ASSERT_EQ(structure_a->weight_masks.size(), structure_c->weight_masks.size());
  for (const auto& [name, mask] : structure_a->weight_masks) {
    EXPECT_TRUE(torch::equal(mask, structure_c->weight_masks.at(name))) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredMethods, ResumeConformance,
                         ::testing::ValuesIn(RegisteredPruningMethods()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace rnnprune
