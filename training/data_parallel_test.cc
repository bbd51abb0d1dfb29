#include "training/data_parallel.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status_macros.h"
#include "common/subprocess_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::function<const char*(const char*)> Env(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* name) -> const char* {
    const auto it = held->find(name);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}

TEST(ResolveDataParallelOptions, FlagsWinOverTorchrunsVariablesWhichWinOverDefaults) {
  absl::StatusOr<DataParallelOptions> o = ResolveDataParallelOptions(-1, -1, "", -1, 300, Env({}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 1);
  EXPECT_EQ(o->rank, 0);
  EXPECT_EQ(o->master_addr, "127.0.0.1");
  EXPECT_EQ(o->master_port, 29500);
  const auto env = Env(
      {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "1234"}});
  o = ResolveDataParallelOptions(-1, -1, "", -1, 300, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 4);
  EXPECT_EQ(o->rank, 3);
  EXPECT_EQ(o->master_addr, "10.0.0.7");
  EXPECT_EQ(o->master_port, 1234);
  o = ResolveDataParallelOptions(2, 1, "host", 999, 5, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 2);
  EXPECT_EQ(o->rank, 1);
  EXPECT_EQ(o->master_addr, "host");
  EXPECT_EQ(o->master_port, 999);
  EXPECT_EQ(o->timeout, absl::Seconds(5));
}

TEST(ResolveDataParallelOptions, BadValuesAreNamed) {
  auto error = [](absl::StatusOr<DataParallelOptions> o) {
    return o.ok() ? std::string("ok") : std::string(o.status().message());
  };
  EXPECT_THAT(error(ResolveDataParallelOptions(-1, -1, "", -1, 300, Env({{"RANK", "x1"}}))),
              HasSubstr("RANK='x1' is not an integer"));
  EXPECT_THAT(error(ResolveDataParallelOptions(2, 2, "", -1, 300, Env({}))),
              HasSubstr("rank=2 must be in [0, world_size) = [0, 2)"));
  EXPECT_THAT(error(ResolveDataParallelOptions(0, 0, "", -1, 300, Env({}))),
              HasSubstr("world_size=0 must be >= 1"));
  EXPECT_THAT(error(ResolveDataParallelOptions(1, 0, "", 70000, 300, Env({}))),
              HasSubstr("master_port=70000 must be in [1, 65535]"));
  EXPECT_THAT(error(ResolveDataParallelOptions(1, 0, "", -1, 0, Env({}))),
              HasSubstr("timeout=0 s must be finite and > 0"));
}

TEST(DataParallel, AGroupOfOneNeedsNoStoreAndTakesTheWholeBatch) {
  absl::StatusOr<std::unique_ptr<DataParallel>> dp = DataParallel::Join({}, "hash");
  ASSERT_TRUE(dp.ok()) << dp.status();
  absl::StatusOr<BatchShare> share = (*dp)->ShareOf(20);
  ASSERT_TRUE(share.ok());
  EXPECT_TRUE(share->whole());
  torch::Tensor t = torch::ones({3});
  ASSERT_TRUE((*dp)->AllReduceSum({t}, "test").ok());
  EXPECT_TRUE(torch::equal(t, torch::ones({3})));
  EXPECT_TRUE((*dp)->writes());
}

// Runs `body(rank)` on `world` threads, each joining the same group on `port`.
std::vector<absl::Status> RunGroup(int world, const std::vector<std::string>& hashes,
                                   const std::function<absl::Status(DataParallel&)>& body,
                                   absl::Duration timeout = absl::Seconds(30)) {
  const int port = FreeLoopbackPortForTest();
  std::vector<absl::Status> out(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      DataParallelOptions o;
      o.world_size = world;
      o.rank = r;
      o.master_port = port;
      o.timeout = timeout;
      absl::StatusOr<std::unique_ptr<DataParallel>> dp = DataParallel::Join(o, hashes[r]);
      out[r] = dp.ok() ? body(**dp) : dp.status();
    });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

TEST(DataParallel, AllReduceSumsEveryBucketAndGatherKeepsRankOrderOfUnevenShares) {
  const std::vector<absl::Status> s = RunGroup(3, {"h", "h", "h"}, [](DataParallel& dp) {
    const float r = static_cast<float>(dp.rank());
    // Two tensors over the bucket size, so the all-reduce takes three buckets.
    const int64_t big = DataParallel::kBucketBytes / 4 + 10;
    std::vector<torch::Tensor> ts = {torch::full({big}, r), torch::full({big}, 2 * r),
                                     torch::full({2, 3}, r + 1)};
    RETURN_IF_ERROR(dp.AllReduceSum(ts, "test"));
    if (!torch::equal(ts[0], torch::full({big}, 3.0f)) ||
        !torch::equal(ts[1], torch::full({big}, 6.0f)) ||
        !torch::equal(ts[2], torch::full({2, 3}, 6.0f))) {
      return absl::InternalError("wrong sums");
    }
    absl::StatusOr<BatchShare> share = dp.ShareOf(7);  // 3, 2, 2 rows
    if (!share.ok()) return share.status();
    const torch::Tensor local =
        torch::arange(share->first, share->first + share->count, torch::kFloat).view({1, -1, 1});
    absl::StatusOr<torch::Tensor> all =
        dp.GatherRows(local.expand({2, -1, 2}).contiguous(), 1, "t");
    if (!all.ok()) return all.status();
    const torch::Tensor want = torch::arange(7, torch::kFloat).view({1, 7, 1}).expand({2, 7, 2});
    if (!torch::equal(*all, want)) return absl::InternalError("wrong gather");
    return dp.Agree("a value", "same");
  });
  for (const absl::Status& x : s) EXPECT_TRUE(x.ok()) << x;
}

TEST(DataParallel, RanksThatDisagreeAreNamed) {
  const std::vector<absl::Status> s = RunGroup(2, {"h", "h"}, [](DataParallel& dp) {
    return dp.Agree("the step", dp.rank() == 0 ? "10" : "12");
  });
  EXPECT_EQ(s[0].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s[0].message()),
              HasSubstr("ranks disagree on the step: rank 1 has 12, rank 0 has 10"));
  EXPECT_THAT(std::string(s[1].message()), HasSubstr("rank 0 has 10, rank 1 has 12"));
}

TEST(DataParallel, AMismatchedConfigHashIsRefusedByEveryRankAtTheRendezvous) {
  const std::vector<absl::Status> s =
      RunGroup(2, {"aaa", "bbb"}, [](DataParallel&) { return absl::OkStatus(); });
  for (const absl::Status& x : s) {
    EXPECT_EQ(x.code(), absl::StatusCode::kFailedPrecondition) << x;
  }
  EXPECT_THAT(std::string(s[0].message()),
              HasSubstr("rank 1 runs config hash bbb, rank 0 runs aaa"));
  EXPECT_THAT(std::string(s[1].message()),
              HasSubstr("rank 0 runs config hash aaa, rank 1 runs bbb"));
}

TEST(DataParallel, ARankThatNeverJoinsIsNamedAfterTheTimeout) {
  DataParallelOptions o;
  o.world_size = 2;
  o.rank = 0;
  o.master_port = FreeLoopbackPortForTest();
  o.timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<DataParallel>> dp = DataParallel::Join(o, "h");
  EXPECT_EQ(dp.status().code(), absl::StatusCode::kDeadlineExceeded) << dp.status();
  EXPECT_THAT(std::string(dp.status().message()), HasSubstr("rank 1 did not join within 1s"));
}

}  // namespace
}  // namespace rnnprune
