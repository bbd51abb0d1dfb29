// Progress of the main job (issue 17.6): "run k of N" for every run of every task, with an
// estimate of the time left for the whole job.
#ifndef RNNPRUNE_BENCHMARKS_JOB_PROGRESS_H_
#define RNNPRUNE_BENCHMARKS_JOB_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rnnprune {

// Counts the job's runs and estimates the time left from the work done so far.
//
// Each planned run has a `group` (runs whose cost per unit of work is alike, e.g. "ptb") and a
// `work` in units of that group (training steps for PTB). A group's rate is the wall seconds of
// its runs finished in this job (runs re-used from an earlier job cost nothing and do not count)
// divided by their work; a run of a group with no rate yet is estimated by `expected_seconds`
// when the task gives one (its wall time in an earlier job), else it is named in the ETA as not
// estimated. Not thread-safe: the suite runs one run at a time.
class JobProgress {
 public:
  using Log = std::function<void(const std::string&)>;
  using Clock = std::function<absl::Time()>;

  explicit JobProgress(
      Log log, Clock now = [] { return absl::Now(); });

  // Adds one run to the plan (N grows by one). `key` says which runs it may stand for (e.g.
  // "ptb/default_small/random": the settings of a method whose target sizes come from other
  // runs are known only once those ran). `work` >= 0.
  void Plan(const std::string& key, const std::string& group, double work,
            std::optional<double> expected_seconds = std::nullopt);

  // Starts the first planned run of `key` not yet started (else an unplanned run, which grows N)
  // and logs "[job] run k of N: <label>; <ETA>".
  void Start(const std::string& key, const std::string& label);

  // Ends the run started last; `reused` when it cost no work (re-used from an earlier job).
  void Finished(bool reused);

  // Removes the planned runs of `key` that were never started (N shrinks): a method whose
  // settings turned out fewer than planned.
  void DropUnstarted(const std::string& key);

  // Removes the planned runs of `group` that were never started: a task that failed.
  void DropUnstartedGroup(const std::string& group);

  // "about 12 min left (ETA 14:05 UTC)", with " + <labels> not estimated" for runs that have no
  // estimate, or "no estimate yet" when none has.
  std::string EtaText() const;

  int64_t planned() const { return static_cast<int64_t>(runs_.size()); }
  int64_t started() const { return started_; }

 private:
  struct Run {
    std::string key;
    std::string group;
    double work = 0;
    std::optional<double> expected_seconds;
    bool started = false;
    bool finished = false;
  };
  struct Rate {
    double seconds = 0;
    double work = 0;
  };

  // Removes the runs not yet started for which `drop` is true, keeping current_ on its run.
  void DropUnstartedIf(const std::function<bool(const Run&)>& drop);

  // Seconds the not-finished run `r` still needs; nullopt when it has no estimate.
  std::optional<double> SecondsLeft(const Run& r) const;

  Log log_;
  Clock now_;
  std::vector<Run> runs_;
  std::map<std::string, Rate> rates_;
  int64_t started_ = 0;
  int64_t current_ = -1;  // index into runs_ of the run in progress
  absl::Time current_start_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_JOB_PROGRESS_H_
