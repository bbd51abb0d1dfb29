#include "pruning/protocol.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "pruning/protocol_testing.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

LstmLmConfig Tiny() {
  LstmLmConfig c;
  c.vocab_size = 12;
  c.embedding_size = 10;
  c.hidden_sizes = {16, 12};
  c.init_scale = 0.5;
  return c;
}

torch::Tensor PatternStream(int64_t n) {
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(123);
  auto base = torch::arange(0, n, torch::kInt64).remainder(7);
  return torch::where(torch::rand({n}, gen) < 0.1, torch::randint(0, 12, {n}, gen, torch::kInt64),
                      base);
}

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// A method that counts what the protocol calls and, at Finish, closes embedding dim 0 and hidden
// unit 0 of each layer (structured), or zeroes every other weight of the LSTM matrices
// (unstructured), or keeps everything (neither); optionally with its structure fixed at the
// start.
class ProbeMethod : public PruningMethod {
 public:
  enum Kind { kStructured, kUnstructured, kNone };
  ProbeMethod(Kind kind, bool fixed) : kind_(kind), fixed_(fixed) {}

  absl::Status Begin(LstmLm& model) override {
    ++begins;
    return absl::OkStatus();
  }
  LmOutput Forward(LstmLm& model, const torch::Tensor& input, LstmState* state) override {
    ++forwards;
    return model->Run(input, state);
  }
  void AfterStep(LstmLm& model, double learning_rate) override { ++after_steps; }
  // A function of the training state only (so that it survives a resume).
  nlohmann::json Diagnostics(const LstmLm& model) override {
    return {{"w_hh_sum", model->layer(0).w_hh.sum().item<double>()}};
  }
  bool StructureFixedAtStart() const override { return fixed_; }
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    ++finishes;
    PruningStructure s;
    if (kind_ == kStructured) {
      s.structured = true;
      s.neurons = NeuronMask::AllOpen(model->config());
      s.neurons.input[0][0] = 0;
      for (auto& h : s.neurons.hidden) h[0] = 0;
    } else if (kind_ == kUnstructured) {
      torch::NoGradGuard no_grad;
      for (const std::string& name : LstmWeightNames(model)) {
        torch::Tensor w = ParameterByName(model, name);
        torch::Tensor mask = torch::ones_like(w, torch::kBool);
        mask.view({-1}).slice(0, 0, mask.numel(), 2).fill_(false);
        w.masked_fill_(mask.logical_not(), 0.0);
        s.weight_masks[name] = mask;
      }
    }
    return s;
  }

  int begins = 0, forwards = 0, after_steps = 0, finishes = 0;

 private:
  Kind kind_;
  bool fixed_;
};

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    stream_ = PatternStream(4000);
    train_ = stream_.narrow(0, 0, 3000);  // 75 windows of 10 at batch 4
    valid_ = stream_.narrow(0, 3000, 1000);
    torch::manual_seed(5);
    start_ = LstmLm(Tiny());
  }

  // Search 12 steps from window 0, recovery 8 steps from window 12, lr 0.5 then 0.25.
  ProtocolOptions Options(const std::string& base = "") const {
    ProtocolOptions o = TinyTwoPhaseProtocol(/*bptt=*/10, 12, 8, 75);
    o.diagnostics_every_steps = 5;
    o.agreement_tokens = 500;
    o.checkpoint_base = base;
    o.checkpoint_every_steps = 2;
    o.config_hash = "protocol-test";
    o.seed = 3;
    o.log = [](const std::string&) {};
    return o;
  }

  static int64_t Steps(const TrainResult& r) {
    int64_t n = 0;
    for (const EpochStats& e : r.epochs) n += e.steps;
    return n;
  }

  torch::Tensor stream_, train_, valid_;
  LstmLm start_{nullptr};
};

TEST(LayOutPhase, PartOfAnEpochOrWholeEpochs) {
  ZarembaSchedule s;
  auto p = LayOutPhase(s, 400, 0, 1327);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->schedule.epochs, 1);
  EXPECT_EQ(p->first_window, 0);
  EXPECT_EQ(p->max_steps_per_epoch, 400);
  p = LayOutPhase(s, 200, 400, 1327);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first_window, 400);
  EXPECT_EQ(p->max_steps_per_epoch, 200);
  p = LayOutPhase(s, 1327, 1327, 1327);  // a second epoch after a first one
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first_window, 0);
  EXPECT_EQ(p->schedule.epochs, 1);
  p = LayOutPhase(s, 2654, 0, 1327);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->schedule.epochs, 2);
  EXPECT_EQ(p->max_steps_per_epoch, 0);
  auto bad = LayOutPhase(s, 1000, 400, 1327);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("cannot be laid out"));
  EXPECT_FALSE(LayOutPhase(s, 0, 0, 1327).ok());
}

TEST_F(ProtocolTest, SearchThenCompactionThenRecoveryOfTheCompactedModel) {
  ProbeMethod method(ProbeMethod::kStructured, /*fixed=*/false);
  const std::string base = TmpPath("structured");
  ProtocolOptions o = Options(base);
  std::vector<std::string> lines;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  auto r = RunPruningProtocol(start_, method, train_, valid_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  // The search phase is the method's: every step through its hooks, on the dense model.
  EXPECT_EQ(method.begins, 1);
  EXPECT_EQ(method.after_steps, 12);
  EXPECT_EQ(method.forwards, 12);
  EXPECT_EQ(method.finishes, 1);
  EXPECT_EQ(Steps(r->search), 12);
  EXPECT_EQ(r->search.epochs[0].learning_rate, 0.5);
  // Diagnostics at search steps 0, 5, 10 and 12.
  ASSERT_EQ(r->search.diagnostics.size(), 4u);
  EXPECT_EQ(r->search.diagnostics[3]["step"], 12);
  EXPECT_TRUE(r->search.diagnostics[3].contains("w_hh_sum"));
  // The recovery phase: 8 plain steps (the method's hooks see none) of the compacted model.
  EXPECT_EQ(Steps(r->recovery), 8);
  EXPECT_EQ(r->recovery.epochs[0].learning_rate, 0.25);
  EXPECT_TRUE(r->structured);
  EXPECT_EQ(r->kept_hidden_sizes, (std::vector<int64_t>{15, 11}));
  EXPECT_EQ(r->model->config().hidden_sizes, (std::vector<int64_t>{15, 11}));
  EXPECT_EQ(r->model->config().embedding_size, 9);
  EXPECT_EQ(r->agreement["tokens"], 500);
  // What the recovery started from is on disk: the compacted model, trained on since.
  auto searched = LoadLstmLm(base + ".searched.pt");
  ASSERT_TRUE(searched.ok()) << searched.status();
  EXPECT_EQ(searched->model->config().hidden_sizes, r->model->config().hidden_sizes);
  EXPECT_FALSE(torch::equal(searched->model->layer(0).w_hh, r->model->layer(0).w_hh));
  EXPECT_FALSE(PathExists(base + ".search.train.ckpt"));  // replaced by the searched model
  // The dense starting model is not modified.
  EXPECT_EQ(start_->config().hidden_sizes, (std::vector<int64_t>{16, 12}));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("recovery phase")));
}

TEST_F(ProtocolTest, StructureFixedAtStartTrainsTheCompactedModelForBothPhases) {
  ProbeMethod method(ProbeMethod::kStructured, /*fixed=*/true);
  auto r = RunPruningProtocol(start_, method, train_, valid_, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(method.finishes, 1);
  EXPECT_EQ(method.forwards, 0);  // never trained through the method's hooks
  EXPECT_EQ(method.after_steps, 0);
  EXPECT_EQ(Steps(r->search), 12);
  EXPECT_EQ(Steps(r->recovery), 8);
  EXPECT_TRUE(r->search.diagnostics.empty());
  EXPECT_EQ(r->model->config().hidden_sizes, (std::vector<int64_t>{15, 11}));
  EXPECT_FALSE(r->agreement.is_null());  // checked before any training
}

TEST_F(ProtocolTest, UnstructuredMasksHoldThroughTheRecovery) {
  ProbeMethod method(ProbeMethod::kUnstructured, /*fixed=*/false);
  auto r = RunPruningProtocol(start_, method, train_, valid_, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->structured);
  ASSERT_EQ(r->weight_masks.size(), 4u);
  for (const auto& [name, mask] : r->weight_masks) {
    const torch::Tensor w = ParameterByName(r->model, name);
    EXPECT_EQ((w.ne(0) & mask.logical_not()).sum().item<int64_t>(), 0) << name;
    EXPECT_NEAR(mask.to(torch::kFloat64).mean().item<double>(), 0.5, 0.01) << name;
  }
  EXPECT_EQ(Steps(r->recovery), 8);
  // The dense control: no structure, the dense model trained S + M steps.
  ProbeMethod none(ProbeMethod::kNone, false);
  auto d = RunPruningProtocol(start_, none, train_, valid_, Options());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->weight_masks.empty());
  EXPECT_EQ(d->model->config().hidden_sizes, (std::vector<int64_t>{16, 12}));
  EXPECT_EQ(Steps(d->search) + Steps(d->recovery), 20);
}

TEST_F(ProtocolTest, CollapsedStructureEndsBeforeTheRecovery) {
  class CloseAll : public ProbeMethod {
   public:
    CloseAll() : ProbeMethod(kStructured, false) {}
    absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
      PruningStructure s;
      s.structured = true;
      s.neurons = NeuronMask::AllOpen(model->config());
      s.neurons.hidden[1].zero_();
      return s;
    }
  } method;
  auto r = RunPruningProtocol(start_, method, train_, valid_, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->collapsed, HasSubstr("LSTM 'lstm1': every hidden neuron is closed"));
  EXPECT_TRUE(r->model.is_empty());
  EXPECT_TRUE(r->recovery.epochs.empty());
}

TEST_F(ProtocolTest, KilledInTheSearchOrTheRecoveryResumesBitIdentically) {
  ProbeMethod a_method(ProbeMethod::kStructured, false);
  auto a = RunPruningProtocol(start_, a_method, train_, valid_, Options(TmpPath("a")));
  ASSERT_TRUE(a.ok()) << a.status();
  for (const std::string phase : {"search phase", "recovery phase"}) {
    SCOPED_TRACE(phase);
    const std::string base = TmpPath(phase == "search phase" ? "b_search" : "b_recovery");
    ProbeMethod b_method(ProbeMethod::kStructured, false);
    ProtocolOptions crash = Options(base);
    crash.log = CrashAt(phase, 5);  // after step 5: the checkpoint of step 4 is left
    auto b = RunPruningProtocol(start_, b_method, train_, valid_, crash);
    ASSERT_FALSE(b.ok());
    EXPECT_THAT(std::string(b.status().message()), HasSubstr("simulated crash"));
    ProtocolOptions resume = Options(base);
    resume.resume = true;
    ProbeMethod c_method(ProbeMethod::kStructured, false);
    auto c = RunPruningProtocol(start_, c_method, train_, valid_, resume);
    ASSERT_TRUE(c.ok()) << c.status();
    const TrainResult& resumed_phase = phase == "search phase" ? c->search : c->recovery;
    EXPECT_TRUE(resumed_phase.resumed);
    EXPECT_EQ(resumed_phase.resumed_at_global_step, 4);
    EXPECT_EQ(c->search_reused, phase == "recovery phase");
    const auto pa = a->model->named_parameters(), pc = c->model->named_parameters();
    ASSERT_EQ(pa.size(), pc.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      EXPECT_TRUE(torch::equal(pa[i].value(), pc[i].value())) << pa[i].key();
    }
    EXPECT_EQ(c->search.diagnostics, a->search.diagnostics);
    EXPECT_EQ(c->kept_hidden_sizes, a->kept_hidden_sizes);
    EXPECT_EQ(c->agreement, a->agreement);
  }
}

TEST_F(ProtocolTest, SearchedModelOfAnotherConfigIsRefused) {
  const std::string base = TmpPath("other");
  ProbeMethod m1(ProbeMethod::kStructured, false);
  ASSERT_TRUE(RunPruningProtocol(start_, m1, train_, valid_, Options(base)).ok());
  ProtocolOptions other = Options(base);
  other.resume = true;
  other.config_hash = "another";
  ProbeMethod m2(ProbeMethod::kStructured, false);
  auto r = RunPruningProtocol(start_, m2, train_, valid_, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("config hash protocol-test"));
}

}  // namespace
}  // namespace rnnprune
