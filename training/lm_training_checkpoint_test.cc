#include "training/lm_training_checkpoint.h"

#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/serialize.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// A checkpoint with every field set, heterogeneous shapes included.
LmTrainingCheckpoint Example() {
  torch::manual_seed(3);
  LmTrainingCheckpoint c;
  c.config_hash = std::string(64, 'a');
  c.progress.epoch = 2;
  c.progress.step = 7;
  c.progress.global_step = 17;
  c.progress.steps_per_epoch = 10;
  c.progress.batch_size = 3;
  c.progress.epoch_nll_sum = 0.1 + 1e-12;
  c.progress.epoch_tokens = 210;
  c.progress.epoch_train_seconds = 1.5;
  EpochStats e;
  e.epoch = 1;
  e.learning_rate = 1.0;
  e.steps = 10;
  e.tokens = 300;
  e.train_perplexity = 123.456789012345;
  e.valid_perplexity = std::numeric_limits<double>::infinity();  // must survive JSON
  c.progress.epochs = {e};
  c.progress.tokens = 300;
  c.progress.train_seconds = 2.25;
  c.model_parameters = {{"embedding.weight", torch::randn({5, 4})},
                        {"lstm0_w_ih", torch::randn({8, 4})},
                        {"decoder.bias", torch::randn({5})}};
  c.extra_parameters = {torch::randn({4}), torch::randn({2})};
  {  // a real optimizer archive (the loader checks it as one)
    torch::optim::SGD sgd({c.model_parameters[0].second}, torch::optim::SGDOptions(0.5));
    torch::serialize::OutputArchive archive;
    sgd.save(archive);
    std::ostringstream bytes;
    archive.save_to(bytes);
    c.optimizer_state = bytes.str();
  }
  c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  c.lstm_state.h = {torch::randn({1, 3, 2})};
  c.lstm_state.c = {torch::randn({1, 3, 2})};
  c.hook_state = {{"step", torch::tensor(int64_t{17})},
                  {"masks/lstm0_w_ih", torch::rand({8, 4}) > 0.5}};
  return c;
}

// The optimizer state is an archive of its own, parsed by LibTorch on restore: checked on load.
TEST(LmTrainingCheckpoint, CorruptOptimizerStateIsRefusedOnLoad) {
  const std::string path = TmpPath("bad_optimizer/ckpt.pt");
  LmTrainingCheckpoint c = Example();
  c.optimizer_state = std::string("\0\1not an archive", 17);
  ASSERT_TRUE(SaveLmTrainingCheckpoint(c, path).ok());
  absl::StatusOr<LmTrainingCheckpoint> r = LoadLmTrainingCheckpoint(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("corrupt 'weights' optimiser state"));
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(path));
}

TEST(LmTrainingCheckpoint, RoundTripsEveryField) {
  const std::string path = TmpPath("roundtrip/ckpt.pt");
  const LmTrainingCheckpoint c = Example();
  ASSERT_TRUE(SaveLmTrainingCheckpoint(c, path).ok());
  EXPECT_FALSE(PathExists(path + ".tmp." + std::to_string(::getpid())));
  absl::StatusOr<LmTrainingCheckpoint> r = LoadLmTrainingCheckpoint(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config_hash, c.config_hash);
  EXPECT_EQ(r->progress.epoch, 2);
  EXPECT_EQ(r->progress.step, 7);
  EXPECT_EQ(r->progress.global_step, 17);
  EXPECT_EQ(r->progress.steps_per_epoch, 10);
  EXPECT_EQ(r->progress.batch_size, 3);
  EXPECT_EQ(r->progress.epoch_nll_sum, c.progress.epoch_nll_sum);  // bit-exact
  EXPECT_EQ(r->progress.epoch_tokens, 210);
  EXPECT_EQ(r->progress.tokens, 300);
  EXPECT_EQ(r->progress.train_seconds, 2.25);
  ASSERT_EQ(r->progress.epochs.size(), 1u);
  EXPECT_EQ(r->progress.epochs[0].train_perplexity, 123.456789012345);
  EXPECT_EQ(r->progress.epochs[0].valid_perplexity, std::numeric_limits<double>::infinity());
  ASSERT_EQ(r->model_parameters.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r->model_parameters[i].first, c.model_parameters[i].first);
    EXPECT_TRUE(torch::equal(r->model_parameters[i].second, c.model_parameters[i].second));
  }
  ASSERT_EQ(r->extra_parameters.size(), 2u);
  EXPECT_TRUE(torch::equal(r->extra_parameters[1], c.extra_parameters[1]));
  EXPECT_EQ(r->optimizer_state, c.optimizer_state);
  EXPECT_TRUE(torch::equal(r->rng_state, c.rng_state));
  ASSERT_EQ(r->lstm_state.h.size(), 1u);
  EXPECT_TRUE(torch::equal(r->lstm_state.c[0], c.lstm_state.c[0]));
  ASSERT_EQ(r->hook_state.size(), 2u);
  EXPECT_EQ(r->hook_state.at("step").item<int64_t>(), 17);
  EXPECT_TRUE(
      torch::equal(r->hook_state.at("masks/lstm0_w_ih"), c.hook_state.at("masks/lstm0_w_ih")));
}

TEST(LmTrainingCheckpoint, TruncatedOrCorruptFileIsInvalidArgumentAndKept) {
  const std::string path = TmpPath("corrupt/ckpt.pt");
  ASSERT_TRUE(SaveLmTrainingCheckpoint(Example(), path).ok());
  const std::string bytes = *ReadFile(path);
  for (const std::string& damaged : {bytes.substr(0, bytes.size() / 2), bytes.substr(0, 10),
                                     std::string(), std::string("not a zip archive at all")}) {
    ASSERT_TRUE(WriteFileAtomically(path, damaged).ok());
    absl::StatusOr<LmTrainingCheckpoint> r = LoadLmTrainingCheckpoint(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
    EXPECT_EQ(*ReadFile(path), damaged);  // left in place, untouched
  }
}

TEST(LmTrainingCheckpoint, OtherArchivesAndVersionsAreRefused) {
  const std::string path = TmpPath("other_ckpt.pt");
  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(std::string("rnnprune.lstm_lm.v1")));
  a.save_to(path);
  absl::StatusOr<LmTrainingCheckpoint> r = LoadLmTrainingCheckpoint(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a training checkpoint"));

  torch::serialize::OutputArchive b;
  b.write("format", c10::IValue(std::string("rnnprune.training_checkpoint")));
  b.write("version", c10::IValue(int64_t{99}));
  b.save_to(path);
  r = LoadLmTrainingCheckpoint(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("version 99"));

  // The right header but a missing key.
  torch::serialize::OutputArchive c;
  c.write("format", c10::IValue(std::string("rnnprune.training_checkpoint")));
  c.write("version", c10::IValue(int64_t{kTrainingCheckpointVersion}));
  c.save_to(path);
  r = LoadLmTrainingCheckpoint(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));

  r = LoadLmTrainingCheckpoint(TmpPath("missing_ckpt.pt"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST(LmTrainingCheckpoint, NonFiniteStateIsNeverWritten) {
  const std::string path = TmpPath("nonfinite/ckpt.pt");
  ASSERT_TRUE(SaveLmTrainingCheckpoint(Example(), path).ok());
  const std::string good = *ReadFile(path);
  LmTrainingCheckpoint bad = Example();
  bad.model_parameters[1].second[2][3] = std::numeric_limits<float>::quiet_NaN();
  absl::Status s = SaveLmTrainingCheckpoint(bad, path);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("lstm0_w_ih"));
  bad = Example();
  bad.extra_parameters[0][0] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(std::string(SaveLmTrainingCheckpoint(bad, path).message()), HasSubstr("extra '0'"));
  bad = Example();
  bad.lstm_state.c[0][0][0][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(std::string(SaveLmTrainingCheckpoint(bad, path).message()), HasSubstr("lstm 'c/0'"));
  EXPECT_EQ(*ReadFile(path), good);
}

// Plain SGD has no state; the format carries whatever an optimizer saves (here momentum).
TEST(LmTrainingCheckpoint, OptimizerStateSuchAsMomentumIsRestored) {
  LstmLmConfig cfg;
  cfg.vocab_size = 7;
  cfg.embedding_size = 4;
  cfg.hidden_sizes = {5};
  const auto step = [](LstmLm& m, torch::optim::SGD& sgd) {
    sgd.zero_grad();
    LstmState state = m->InitialState(2);
    m->forward(torch::tensor({1, 2, 3, 4}, torch::kInt64).view({2, 2}), &state)
        .pow(2)
        .mean()
        .backward();
    sgd.step();
  };
  const auto momentum = torch::optim::SGDOptions(0.5).momentum(0.9);
  torch::manual_seed(1);
  LstmLm a(cfg);
  torch::optim::SGD sgd_a(a->parameters(), momentum);
  step(a, sgd_a);
  TrainingHooks hooks;
  LmTrainingProgress at_start;  // an epoch boundary of a run of 4 steps per epoch at batch 2
  at_start.steps_per_epoch = 4;
  at_start.batch_size = 2;
  auto captured = CaptureLmTrainingCheckpoint(a, hooks, sgd_a, LstmState{}, "h", at_start);
  ASSERT_TRUE(captured.ok()) << captured.status();
  const std::string path = TmpPath("momentum.ckpt");
  ASSERT_TRUE(SaveLmTrainingCheckpoint(*captured, path).ok());
  auto loaded = LoadLmTrainingCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  torch::manual_seed(2);
  LstmLm b(cfg);
  torch::optim::SGD sgd_b(b->parameters(), momentum);
  LstmState unused;
  absl::Status s = RestoreLmTrainingCheckpoint(*loaded, path, b, hooks, sgd_b, &unused);
  ASSERT_TRUE(s.ok()) << s;
  step(a, sgd_a);
  step(b, sgd_b);  // differs without the momentum buffers
  const auto pa = a->parameters();
  const auto pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;

  // A model of another shape does not fit, and says so.
  cfg.hidden_sizes = {6};
  LstmLm other(cfg);
  torch::optim::SGD sgd_other(other->parameters(), momentum);
  s = RestoreLmTrainingCheckpoint(*loaded, path, other, hooks, sgd_other, &unused);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_THAT(std::string(s.message()), HasSubstr("lstm0_w_ih"));
}

TEST(TensorsSha256, ChangesWithAnyBitNameOrShape) {
  torch::Tensor a = torch::randn({3, 4});
  const std::string h = TensorsSha256({{"a", a}});
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, TensorsSha256({{"a", a.clone()}}));
  EXPECT_NE(h, TensorsSha256({{"b", a}}));
  EXPECT_NE(h, TensorsSha256({{"a", a.reshape({4, 3})}}));
  torch::Tensor flipped = a.clone();
  int32_t* bits = reinterpret_cast<int32_t*>(flipped.data_ptr<float>());
  bits[5] ^= 1;  // the lowest mantissa bit of one entry
  EXPECT_NE(h, TensorsSha256({{"a", flipped}}));
  EXPECT_EQ(TensorsSha256({{"a", a.t()}}), TensorsSha256({{"a", a.t().contiguous()}}));
}

}  // namespace
}  // namespace rnnprune
