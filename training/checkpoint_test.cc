// The one training-checkpoint container: round trip from a file and from bytes, the trainer's
// name checked, and what every trainer gets from its one validation (names, duplicates,
// non-finite tensors, optimiser archives).
#include "training/checkpoint.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::string TmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

TrainingCheckpoint Example() {
  torch::manual_seed(5);
  TrainingCheckpoint c;
  c.trainer = "test_trainer";
  c.config_hash = "abc";
  c.progress = {{"step", 3}, {"loss", DoubleToJson(std::numeric_limits<double>::infinity())}};
  c.groups["model"] = {{"w", torch::randn({2, 3})}, {"b", torch::randn({3})}};
  c.groups["state"] = {{"h/0", torch::randn({1, 2, 4})}, {"mask", torch::rand({3}) > 0.5}};
  c.groups["empty"] = {};
  torch::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::Adam adam(std::vector<torch::Tensor>{w}, torch::optim::AdamOptions(0.1));
  w.sum().backward();
  adam.step();
  c.optimizers["weights"] = SerializeOptimizer(adam);
  c.rng_state = CaptureTorchCpuRng();
  return c;
}

TEST(TrainingCheckpointContainer, RoundTripsFromAFileAndFromBytes) {
  const TrainingCheckpoint c = Example();
  const std::string path = TmpPath("container/ckpt");
  ASSERT_TRUE(SaveTrainingCheckpoint(c, path).ok());
  const absl::StatusOr<TrainingCheckpoint> from_file = LoadTrainingCheckpoint(path, "test_trainer");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  const absl::StatusOr<TrainingCheckpoint> from_bytes =
      ParseTrainingCheckpoint(*ReadFile(path), "test_trainer", "bytes");
  ASSERT_TRUE(from_bytes.ok()) << from_bytes.status();
  for (const TrainingCheckpoint* r : {&*from_file, &*from_bytes}) {
    EXPECT_EQ(r->trainer, "test_trainer");
    EXPECT_EQ(r->config_hash, "abc");
    EXPECT_EQ(r->progress, c.progress);
    ASSERT_EQ(r->groups.size(), 3u);
    EXPECT_TRUE(r->groups.at("empty").empty());
    for (const std::string g : {"model", "state"}) {
      ASSERT_EQ(r->groups.at(g).size(), c.groups.at(g).size()) << g;
      for (size_t i = 0; i < c.groups.at(g).size(); ++i) {
        EXPECT_EQ(r->groups.at(g)[i].first, c.groups.at(g)[i].first);
        EXPECT_TRUE(torch::equal(r->groups.at(g)[i].second, c.groups.at(g)[i].second));
      }
    }
    EXPECT_EQ(r->optimizers.at("weights"), c.optimizers.at("weights"));
    EXPECT_TRUE(torch::equal(r->rng_state, c.rng_state));
  }
}

TEST(TrainingCheckpointContainer, AnotherTrainersCheckpointIsRefused) {
  const std::string path = TmpPath("container/other");
  ASSERT_TRUE(SaveTrainingCheckpoint(Example(), path).ok());
  absl::StatusOr<TrainingCheckpoint> r = LoadTrainingCheckpoint(path, "bidaf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("written by the 'test_trainer' trainer, not 'bidaf'"));
  EXPECT_EQ(LoadTrainingCheckpoint(TmpPath("container/absent"), "x").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TrainingCheckpointContainer, BadStateIsRefusedBeforeAnythingIsWritten) {
  const std::string path = TmpPath("container/bad");
  ASSERT_TRUE(SaveTrainingCheckpoint(Example(), path).ok());
  const std::string good = *ReadFile(path);

  TrainingCheckpoint c = Example();
  c.groups["model"].emplace_back("w", torch::zeros({1}));
  absl::Status s = SaveTrainingCheckpoint(c, path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model 'w' appears twice"));

  c = Example();
  c.groups["state"].emplace_back("bad name", torch::zeros({1}));
  EXPECT_THAT(std::string(SaveTrainingCheckpoint(c, path).message()),
              HasSubstr("names are [A-Za-z0-9_./]+"));

  c = Example();
  c.groups["model"][1].second[0] = std::numeric_limits<float>::quiet_NaN();
  s = SaveTrainingCheckpoint(c, path);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model 'b' holds NaN/Inf"));

  c = Example();
  c.progress = nlohmann::json::array();
  EXPECT_THAT(std::string(SaveTrainingCheckpoint(c, path).message()),
              HasSubstr("progress is not a JSON object"));

  c = Example();
  c.optimizers["weights"] = "not an archive";
  ASSERT_TRUE(SaveTrainingCheckpoint(c, TmpPath("container/bad_optimizer")).ok());
  absl::StatusOr<TrainingCheckpoint> r =
      LoadTrainingCheckpoint(TmpPath("container/bad_optimizer"), "test_trainer");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("corrupt 'weights' optimiser state"));

  EXPECT_EQ(*ReadFile(path), good);
}

TEST(TrainingCheckpointContainer, RequiredPartsAreFoundOrNamedWhenMissing) {
  const TrainingCheckpoint c = Example();
  EXPECT_EQ(RequiredGroup(c, "model").size(), 2u);
  EXPECT_EQ(RequiredOptimizer(c, "weights"), c.optimizers.at("weights"));
  EXPECT_THROW(RequiredGroup(c, "absent"), std::invalid_argument);
  EXPECT_THROW(RequiredOptimizer(c, "extra"), std::invalid_argument);
}

TEST(TrainingCheckpointContainer, NamedMismatchNamesTheFirstDifference) {
  const NamedTensors live = {{"a", torch::zeros({2})}, {"b", torch::zeros({3})}};
  EXPECT_EQ(NamedMismatch("parameters", live, live), "");
  EXPECT_THAT(NamedMismatch("parameters", {{"a", torch::zeros({2})}}, live),
              HasSubstr("it holds 1 parameters, this run has 2"));
  EXPECT_THAT(
      NamedMismatch("parameters", {{"a", torch::zeros({2})}, {"b", torch::zeros({4})}}, live),
      HasSubstr("parameters 1 is 'b' [4] Float, this run has 'b' [3] Float"));
}

TEST(TrainingCheckpointContainer, DoublesSurviveJsonIncludingNonFinite) {
  for (double x : {0.1 + 1e-12, -3.0, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(DoubleFromJson(nlohmann::json::parse(DoubleToJson(x).dump())), x);
  }
  EXPECT_TRUE(std::isnan(DoubleFromJson(DoubleToJson(std::nan("")))));
  EXPECT_THROW(DoubleFromJson(nlohmann::json("infinite")), std::invalid_argument);
}

}  // namespace
}  // namespace rnnprune
