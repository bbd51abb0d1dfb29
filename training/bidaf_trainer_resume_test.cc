// Training checkpoints in TrainBidaf: resuming after an interruption is bit-identical to not
// being interrupted (Adam and Adadelta, moving average and dropout on), and checkpoints of
// another configuration, damaged ones and bad state are refused.
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"
#include "training/bidaf_testing.h"
#include "training/bidaf_trainer.h"
#include "training/bidaf_training_checkpoint.h"
#include "training/model_hooks.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// The tiny task with dropout, so that torch's generator is in play at every step.
TinyTask Task() {
  TinyTask task = MakeTinyTask();
  task.config.dropout = 0.2;
  return task;
}

// 3 epochs of 3 batches of 2 questions (9 steps), a checkpoint every 2 steps and at each epoch
// end (global steps 2, 3, 4, 6, 8, 9), the moving average and the clip on, and the first three
// questions scored after every epoch (their scores are part of what must resume exactly).
BidafTrainOptions Options(const std::string& optimizer, const std::string& path,
                          std::vector<std::string>* log = nullptr) {
  BidafTrainOptions o;
  o.optimizer = optimizer;
  o.epochs = 3;
  o.batch_size = 2;
  o.ema_decay = 0.9;
  o.max_grad_norm = 5.0;
  o.seed = 7;
  o.log = [log](const std::string& line) {
    if (log != nullptr) log->push_back(line);
  };
  o.checkpoint_path = path;
  o.checkpoint_every_steps = 2;
  o.config_hash = "hash-one";
  static const auto* validation = [] {
    const std::vector<SquadExample> all = Task().examples;
    return new std::vector<SquadExample>(all.begin(), all.begin() + 3);
  }();
  o.validation = validation;
  return o;
}

// Stands for a crash: the gradient of w_end becomes NaN at backward pass `at` (1-based) of
// `model`, so TrainBidaf stops there before the update. Just before, the bytes of the file at
// `path` go to *snapshot, to check that the stop did not touch it.
void InterruptAt(Bidaf& model, int64_t at, const std::string& path, std::string* snapshot) {
  auto calls = std::make_shared<int64_t>(0);
  model->named_parameters()["w_end"].register_hook([=](torch::Tensor grad) {
    if (++*calls != at) return grad;
    *snapshot = ReadFile(path).value_or("");
    return grad * std::numeric_limits<float>::quiet_NaN();
  });
}

void ExpectSameParameters(const Bidaf& a, const Bidaf& b) {
  const auto pa = a->named_parameters();
  const auto pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
  }
}

void ExpectSameRun(const BidafTrainResult& a, const BidafTrainResult& b) {
  EXPECT_EQ(a.step_losses_nats, b.step_losses_nats);  // exact, not near
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.questions, b.questions);
  EXPECT_EQ(a.final_loss_nats, b.final_loss_nats);
  EXPECT_EQ(a.holds_averaged_weights, b.holds_averaged_weights);
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].epoch, b.epochs[e].epoch);
    EXPECT_EQ(a.epochs[e].steps, b.epochs[e].steps) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].questions, b.epochs[e].questions) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].mean_loss_nats, b.epochs[e].mean_loss_nats) << "epoch " << e + 1;
    EXPECT_TRUE(a.epochs[e].validated) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].validated, b.epochs[e].validated) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].validation_f1, b.epochs[e].validation_f1) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].validation_exact_match, b.epochs[e].validation_exact_match)
        << "epoch " << e + 1;
  }
}

class BidafResume : public ::testing::TestWithParam<std::string> {};

TEST_P(BidafResume, AfterAnInterruptionIsBitIdentical) {
  const std::string optimizer = GetParam();
  const TinyTask task = Task();
  Bidaf reference = MakeModel(task.config, 1);
  const std::string path_a = TmpPath(optimizer + "_a.ckpt");
  absl::StatusOr<BidafTrainResult> a =
      TrainBidaf(reference, task.examples, Options(optimizer, path_a));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->steps, 9);
  EXPECT_FALSE(a->resumed);
  EXPECT_TRUE(a->holds_averaged_weights);

  // Stopped at global step `fail_at`, the file holds the checkpoint of step `saved`: mid epoch
  // 1, at the end of epoch 1, at the end of epoch 2 (also a multiple of 2: written once), and
  // mid epoch 3.
  const std::vector<std::pair<int64_t, int64_t>> cases = {{3, 2}, {4, 3}, {7, 6}, {9, 8}};
  for (const auto& [fail_at, saved] : cases) {
    SCOPED_TRACE(optimizer + " interrupted at step " + std::to_string(fail_at));
    const std::string path = TmpPath(optimizer + "_b" + std::to_string(fail_at) + ".ckpt");
    Bidaf model = MakeModel(task.config, 1);
    std::string snapshot;
    InterruptAt(model, fail_at, path, &snapshot);
    absl::StatusOr<BidafTrainResult> b = TrainBidaf(model, task.examples, Options(optimizer, path));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(std::string(b.status().message()), HasSubstr("'w_end' has NaN/Inf"));
    // The bad step never reached the file: it holds the last good checkpoint, unchanged.
    ASSERT_FALSE(snapshot.empty());
    EXPECT_EQ(*ReadFile(path), snapshot);
    absl::StatusOr<BidafTrainingCheckpoint> ckpt = LoadBidafTrainingCheckpoint(path);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    EXPECT_EQ(ckpt->progress.global_step, saved);
    EXPECT_EQ(ckpt->progress.step, saved % 3);
    EXPECT_EQ(ckpt->progress.epoch, saved / 3 + 1);
    EXPECT_EQ(ckpt->optimizer_name, optimizer);
    EXPECT_EQ(
        ckpt->progress.step_losses_nats,
        std::vector<double>(a->step_losses_nats.begin(), a->step_losses_nats.begin() + saved));

    Bidaf resumed = MakeModel(task.config, 999);  // only the restore can make it agree
    std::vector<std::string> log;
    BidafTrainOptions o = Options(optimizer, path, &log);
    o.resume = true;
    absl::StatusOr<BidafTrainResult> c = TrainBidaf(resumed, task.examples, o);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->resumed);
    EXPECT_EQ(c->resumed_at_global_step, saved);
    ASSERT_FALSE(log.empty());
    EXPECT_THAT(log[0], HasSubstr("resuming from " + path));
    ExpectSameRun(*a, *c);
    ExpectSameParameters(reference, resumed);
  }

  // The reference's last checkpoint (after its final epoch): resuming only puts the average in.
  Bidaf finished = MakeModel(task.config, 998);
  BidafTrainOptions o = Options(optimizer, path_a);
  o.resume = true;
  absl::StatusOr<BidafTrainResult> d = TrainBidaf(finished, task.examples, o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->resumed_at_global_step, 9);
  ExpectSameRun(*a, *d);
  ExpectSameParameters(reference, finished);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, BidafResume, ::testing::Values("adam", "adadelta"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(BidafResume, EveryStepsZeroWritesOnlyAtEpochEnds) {
  const TinyTask task = Task();
  const std::string path = TmpPath("epoch_ends.ckpt");
  BidafTrainOptions o = Options("adam", path);
  o.checkpoint_every_steps = 0;
  Bidaf model = MakeModel(task.config, 1);
  std::string snapshot;
  InterruptAt(model, 6, path, &snapshot);
  ASSERT_FALSE(TrainBidaf(model, task.examples, o).ok());
  absl::StatusOr<BidafTrainingCheckpoint> ckpt = LoadBidafTrainingCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->progress.global_step, 3);
  EXPECT_EQ(ckpt->progress.epoch, 2);
  EXPECT_EQ(ckpt->progress.step, 0);
  ASSERT_EQ(ckpt->progress.epochs.size(), 1u);
  EXPECT_EQ(ckpt->progress.epochs[0].questions, 6);
  EXPECT_EQ(ckpt->ema_num_updates, 3);
  // No average: none is saved, and a run with one refuses the file.
  const std::string plain_path = TmpPath("no_ema.ckpt");
  BidafTrainOptions plain = Options("adam", plain_path);
  plain.ema_decay = 0;
  plain.epochs = 1;
  Bidaf plain_model = MakeModel(task.config, 1);
  ASSERT_TRUE(TrainBidaf(plain_model, task.examples, plain).ok());
  absl::StatusOr<BidafTrainingCheckpoint> no_ema = LoadBidafTrainingCheckpoint(plain_path);
  ASSERT_TRUE(no_ema.ok()) << no_ema.status();
  EXPECT_TRUE(no_ema->ema_shadows.empty());
}

TEST(BidafResume, AnotherConfigHashIsRefusedAndTheFileLeftAsItIs) {
  const TinyTask task = Task();
  const std::string path = TmpPath("hash.ckpt");
  BidafTrainOptions o = Options("adadelta", path);
  o.epochs = 1;
  Bidaf model = MakeModel(task.config, 1);
  ASSERT_TRUE(TrainBidaf(model, task.examples, o).ok());
  const std::string bytes = *ReadFile(path);

  Bidaf other = MakeModel(task.config, 2);
  const std::vector<torch::Tensor> before = Snapshot(other);
  o.resume = true;
  o.config_hash = "hash-two";
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(other, task.examples, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("made with config hash hash-one, this run has config hash hash-two"));
  EXPECT_EQ(*ReadFile(path), bytes);
  const std::vector<torch::Tensor> after = Snapshot(other);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;

  // Same hash, but another optimizer or another model: refused before anything changes.
  o.config_hash = "hash-one";
  o.optimizer = "adam";
  r = TrainBidaf(other, task.examples, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("trained with optimizer 'adadelta', this run uses 'adam'"));
  o.optimizer = "adadelta";
  BidafConfig wider = task.config;
  wider.hidden_size = 6;
  Bidaf narrow = MakeModel(wider, 2);
  r = TrainBidaf(narrow, task.examples, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not fit this run: parameters"));
  // Other data under the same hash (fewer examples, so fewer batches per epoch).
  const std::vector<SquadExample> fewer(task.examples.begin(), task.examples.begin() + 3);
  r = TrainBidaf(other, fewer, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is the data different?"));
  EXPECT_EQ(*ReadFile(path), bytes);

  // resume off: the file is replaced by the new run's.
  std::vector<std::string> log;
  BidafTrainOptions fresh = Options("adadelta", path, &log);
  fresh.epochs = 1;
  fresh.config_hash = "hash-two";
  ASSERT_TRUE(TrainBidaf(other, task.examples, fresh).ok());
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(log[0], HasSubstr("exists but resume is off"));
  EXPECT_EQ(LoadBidafTrainingCheckpoint(path)->config_hash, "hash-two");
}

// Hooks with state of their own (a step counter), which refuse it when told to.
class CountingHooks : public ModelHooks {
 public:
  int64_t steps = 0;
  bool refuse = false;
  void AfterStep(PrunableModelView&, const StepSizes&) override { ++steps; }
  std::map<std::string, torch::Tensor> SaveTrainingState() override {
    return {{"steps", torch::tensor(steps)}};
  }
  absl::Status RestoreTrainingState(const std::map<std::string, torch::Tensor>& s) override {
    if (refuse) return absl::InvalidArgumentError("counting hooks: refused");
    steps = s.at("steps").item<int64_t>();
    return absl::OkStatus();
  }
};

// The hooks' own state travels in the checkpoint (group "hook"): a resumed run gets it back; hooks
// that refuse it, or a run without hooks, stop before any weight changes.
TEST(BidafResume, TheHooksOwnStateIsSavedAndRestored) {
  const TinyTask task = Task();
  const std::string path = TmpPath("hook_state.ckpt");
  BidafTrainOptions o = Options("adam", path);
  o.epochs = 1;
  CountingHooks first;
  o.hooks = &first;
  Bidaf model = MakeModel(task.config, 1);
  ASSERT_TRUE(TrainBidaf(model, task.examples, o).ok());
  ASSERT_EQ(first.steps, 3);
  absl::StatusOr<BidafTrainingCheckpoint> c = LoadBidafTrainingCheckpoint(path);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->hook_state.count("steps"), 1u);
  EXPECT_EQ(c->hook_state.at("steps").item<int64_t>(), 3);

  o.resume = true;
  o.epochs = 2;
  Bidaf other = MakeModel(task.config, 2);
  const std::vector<torch::Tensor> before = Snapshot(other);
  CountingHooks refusing;
  refusing.refuse = true;
  o.hooks = &refusing;
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(other, task.examples, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("counting hooks: refused"));
  o.hooks = nullptr;
  r = TrainBidaf(other, task.examples, o);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("it holds the state of pruning hooks this run lacks"));
  const std::vector<torch::Tensor> after = Snapshot(other);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;

  CountingHooks resumed;
  o.hooks = &resumed;
  ASSERT_TRUE(TrainBidaf(other, task.examples, o).ok());
  EXPECT_EQ(resumed.steps, 6);  // 3 restored, 3 of epoch 2
}

TEST(BidafResume, ATruncatedOrCorruptCheckpointIsInvalidArgumentNamingThePath) {
  const TinyTask task = Task();
  const std::string good_path = TmpPath("good.ckpt");
  BidafTrainOptions o = Options("adam", good_path);
  o.epochs = 1;
  Bidaf model = MakeModel(task.config, 1);
  ASSERT_TRUE(TrainBidaf(model, task.examples, o).ok());
  const std::string bytes = *ReadFile(good_path);
  ASSERT_GT(bytes.size(), 1000u);

  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"truncated", bytes.substr(0, bytes.size() / 2)},
      {"flipped", flipped},
      {"empty", ""},
      {"text", "not a checkpoint\n"}};
  for (const auto& [name, contents] : damaged) {
    SCOPED_TRACE(name);
    const std::string path = TmpPath(name + ".ckpt");
    ASSERT_TRUE(WriteFileAtomically(path, contents).ok());
    absl::StatusOr<BidafTrainingCheckpoint> c = LoadBidafTrainingCheckpoint(path);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(path));

    Bidaf resumed = MakeModel(task.config, 3);
    BidafTrainOptions r_options = Options("adam", path);
    r_options.epochs = 1;
    r_options.resume = true;
    absl::StatusOr<BidafTrainResult> r = TrainBidaf(resumed, task.examples, r_options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
    EXPECT_EQ(*ReadFile(path), contents);  // left in place for a look
  }
  EXPECT_EQ(LoadBidafTrainingCheckpoint(TmpPath("absent.ckpt")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BidafResume, NonFiniteStateIsNeverWritten) {
  const TinyTask task = Task();
  Bidaf model = MakeModel(task.config, 1);
  BidafTrainingProgress progress;
  progress.steps_per_epoch = 3;
  progress.batch_size = 2;
  progress.train_examples = 6;
  torch::optim::Adam adam(model->parameters());
  absl::StatusOr<BidafTrainingCheckpoint> c =
      CaptureBidafTrainingCheckpoint(model, adam, "adam", nullptr, nullptr, "h", progress);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string path = TmpPath("nan.ckpt");
  ASSERT_TRUE(SaveBidafTrainingCheckpoint(*c, path).ok());
  absl::StatusOr<BidafTrainingCheckpoint> back = LoadBidafTrainingCheckpoint(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->parameters.size(), c->parameters.size());
  const std::string bytes = *ReadFile(path);
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["w_start"][0].fill_(std::numeric_limits<float>::infinity());
  }
  absl::Status s = SaveBidafTrainingCheckpoint(*c, path);  // the captured tensors alias them
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model 'w_start' holds NaN/Inf"));
  EXPECT_EQ(*ReadFile(path), bytes);
  BidafTrainingCheckpoint bad_loss = *back;
  bad_loss.progress.global_step = 1;
  bad_loss.progress.step = 1;
  bad_loss.progress.step_losses_nats = {std::numeric_limits<double>::quiet_NaN()};
  s = SaveBidafTrainingCheckpoint(bad_loss, path);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the loss of global step 1 is nan"));
  EXPECT_EQ(*ReadFile(path), bytes);
}

TEST(BidafTrainOptions, CheckpointOptionsAreValidatedNamingTheField) {
  BidafTrainOptions o;
  o.checkpoint_every_steps = -1;
  EXPECT_THAT(std::string(o.Validate().message()),
              HasSubstr("BidafTrainOptions.checkpoint_every_steps=-1 must be >= 0"));
  o.checkpoint_every_steps = 0;
  o.checkpoint_path = "/tmp/x.ckpt";
  EXPECT_THAT(std::string(o.Validate().message()),
              HasSubstr("BidafTrainOptions.config_hash='' must be non-empty when "
                        "checkpoint_path is set (checkpoint_path='/tmp/x.ckpt')"));
  o.config_hash = "h";
  EXPECT_TRUE(o.Validate().ok());
}

}  // namespace
}  // namespace rnnprune
