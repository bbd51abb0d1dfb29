#include "models/batch_share.h"

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

TEST(ShareOfRows, SplitsContiguouslyWithTheRemainderOnTheFirstRanks) {
  const BatchShare a = ShareOfRows(10, 0, 3), b = ShareOfRows(10, 1, 3), c = ShareOfRows(10, 2, 3);
  EXPECT_EQ(a.first, 0);
  EXPECT_EQ(a.count, 4);
  EXPECT_EQ(b.first, 4);
  EXPECT_EQ(b.count, 3);
  EXPECT_EQ(c.first, 7);
  EXPECT_EQ(c.count, 3);
  EXPECT_EQ(c.global, 10);
  EXPECT_FALSE(a.whole());
  EXPECT_TRUE(ShareOfRows(10, 0, 1).whole());
  EXPECT_TRUE(BatchShare{}.whole());
  EXPECT_THROW(ShareOfRows(2, 0, 3), c10::Error);
  EXPECT_THROW(ShareOfRows(5, 3, 3), c10::Error);
}

TEST(BatchShare, ValidateNamesTheBadRows) {
  EXPECT_TRUE(BatchShare{}.Validate().ok());
  EXPECT_TRUE((BatchShare{2, 3, 5}).Validate().ok());
  const absl::Status s = BatchShare{3, 3, 5}.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("first=3 count=3 global=5"), std::string::npos) << s;
}

// The shares' masks, stacked, are the whole batch's mask drawn by one process from the same seed,
// for the whole batch torch::dropout's own, and every share leaves the generator where one
// process leaves it.
TEST(DropoutForShare, SharesOfTheGlobalBatchDrawWhatOneProcessDraws) {
  const torch::Tensor x = torch::rand({5, 7, 6}) + 1;  // [T, B, H]; no zero entries
  torch::manual_seed(11);
  const torch::Tensor whole = torch::dropout(x, 0.3, true);
  const double next_whole = torch::rand({1}).item<double>();
  std::vector<torch::Tensor> parts;
  for (int rank = 0; rank < 3; ++rank) {
    const BatchShare share = ShareOfRows(7, rank, 3);
    torch::manual_seed(11);
    parts.push_back(DropoutForShare(x.narrow(1, share.first, share.count), 0.3, true, share, 1));
    EXPECT_EQ(torch::rand({1}).item<double>(), next_whole) << "rank " << rank;
  }
  EXPECT_TRUE(torch::equal(torch::cat(parts, 1), whole));
  torch::manual_seed(11);
  EXPECT_TRUE(torch::equal(DropoutForShare(x, 0.3, true, BatchShare{}, 1), whole));
  EXPECT_TRUE(torch::equal(DropoutForShare(x, 0.3, false, ShareOfRows(7, 1, 3), 1), x));
  EXPECT_THROW(DropoutForShare(x, 0.3, true, ShareOfRows(7, 1, 3), 1), c10::Error);  // 7 rows
}

// A batch-first view of a time-major tensor (as BiDAF's LSTM outputs): the mask is drawn in the
// tensor's logical order, as torch::dropout draws it, for shares of several rows and of one.
TEST(DropoutForShare, TransposedViewsDrawInMemoryOrderAsOneProcessDoes) {
  const torch::Tensor time_major = torch::rand({4, 5, 3}) + 1;  // [T, B, H]
  const torch::Tensor x = time_major.transpose(0, 1);           // [B, T, H] view
  torch::manual_seed(2);
  const torch::Tensor whole = torch::dropout(x, 0.5, true);
  for (int world : {2, 5}) {
    std::vector<torch::Tensor> parts;
    for (int rank = 0; rank < world; ++rank) {
      const BatchShare share = ShareOfRows(5, rank, world);
      const torch::Tensor mine =
          time_major.narrow(1, share.first, share.count).transpose(0, 1);  // same kind of view
      torch::manual_seed(2);
      parts.push_back(DropoutForShare(mine, 0.5, true, share, 0));
    }
    EXPECT_TRUE(torch::equal(torch::cat(parts, 0), whole)) << world << " ranks";
  }
}

TEST(RandForShare, KeepsTheSharesRowsOfTheGlobalDraw) {
  torch::manual_seed(5);
  const torch::Tensor whole = torch::rand({9, 4});
  const BatchShare share = ShareOfRows(9, 1, 2);  // rows [5, 9)
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(RandForShare({4, 4}, share, 0), whole.narrow(0, 5, 4)));
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(RandForShare({9, 4}, BatchShare{}, 0), whole));
}

}  // namespace
}  // namespace rnnprune
