#include "benchmarks/job_progress.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

struct FakeJob {
  absl::Time now = absl::FromUnixSeconds(1800000000);  // 2027-01-15 08:00:00 UTC
  std::vector<std::string> log;
  JobProgress progress{[this](const std::string& l) { log.push_back(l); }, [this] { return now; }};
};

TEST(JobProgress, CountsRunsAndEstimatesFromTheRateOfFinishedRuns) {
  FakeJob job;
  job.progress.Plan("ptb/small/dense", "ptb", 1000);
  job.progress.Plan("ptb/small/l0", "ptb", 100);
  job.progress.Plan("ptb/small/l0", "ptb", 100);
  job.progress.Plan("squad", "squad", 1);
  job.progress.Start("ptb/small/dense", "dense parent");
  EXPECT_EQ(job.log.back(),
            "[job] run 1 of 4: dense parent; no estimate yet (after the first run of each kind)");
  job.now += absl::Seconds(600);  // 0.6 s per step
  job.progress.Finished(false);
  job.progress.Start("ptb/small/l0", "l0 0.1");
  // Two l0 runs of 100 steps at 0.6 s: 2 min; squad has no estimate.
  EXPECT_EQ(job.log.back(),
            "[job] run 2 of 4: l0 0.1; about 2 min left (ETA 08:12 UTC) + the squad runs, not "
            "estimated yet");
  job.now += absl::Seconds(30);  // the run in progress counts what it has done
  EXPECT_THAT(job.progress.EtaText(), HasSubstr("about 2 min left (ETA 08:12 UTC)"));
}

TEST(JobProgress, ReusedRunsCostNothingAndExpectedSecondsStandInUntilARateExists) {
  FakeJob job;
  job.progress.Plan("ptb/dense", "ptb", 1000);
  job.progress.Plan("ptb/random", "ptb", 200);
  job.progress.Plan("squad", "squad", 1, /*expected_seconds=*/540);
  job.progress.Start("ptb/dense", "dense");
  job.now += absl::Seconds(5);
  job.progress.Finished(/*reused=*/true);  // no rate from a re-used run
  job.progress.Start("ptb/random", "random 1");
  EXPECT_THAT(job.log.back(), HasSubstr("about 9 min left"));  // squad's 540 s only
  EXPECT_THAT(job.log.back(), HasSubstr("+ the ptb runs, not estimated yet"));
}

TEST(JobProgress, UnplannedRunsGrowNAndDroppedOnesShrinkIt) {
  FakeJob job;
  job.progress.Plan("ptb/l0", "ptb", 10);
  job.progress.Plan("ptb/random", "ptb", 10);
  job.progress.Plan("ptb/random", "ptb", 10);
  job.progress.Start("ptb/l0", "l0");
  job.progress.Finished(false);
  job.progress.Start("ptb/random", "random a");
  job.progress.Finished(false);
  job.progress.DropUnstarted("ptb/random");  // its second setting never came
  EXPECT_EQ(job.progress.planned(), 2);
  job.progress.Start("speed", "speed");
  EXPECT_THAT(job.log.back(), HasSubstr("run 3 of 3: speed"));
  // A task that failed: its planned runs go.
  job.progress.Plan("ptb/l0", "ptb", 10);
  job.progress.Plan("ptb/iss", "ptb", 10);
  job.progress.DropUnstartedGroup("ptb");
  EXPECT_EQ(job.progress.planned(), 3);
}

}  // namespace
}  // namespace rnnprune
