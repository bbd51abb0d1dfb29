#include "benchmarks/job_progress.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace rnnprune {

JobProgress::JobProgress(Log log, Clock now) : log_(std::move(log)), now_(std::move(now)) {}

void JobProgress::Plan(const std::string& key, const std::string& group, double work,
                       std::optional<double> expected_seconds) {
  Run r;
  r.key = key;
  r.group = group;
  r.work = std::max(0.0, work);
  r.expected_seconds = expected_seconds;
  runs_.push_back(std::move(r));
}

void JobProgress::Start(const std::string& key, const std::string& label) {
  auto it = std::find_if(runs_.begin(), runs_.end(),
                         [&](const Run& r) { return !r.started && r.key == key; });
  if (it == runs_.end()) {
    Plan(key, key, 0);
    it = runs_.end() - 1;
  }
  it->started = true;
  current_ = it - runs_.begin();
  current_start_ = now_();
  ++started_;
  if (log_) {
    log_(absl::StrCat("[job] run ", started_, " of ", runs_.size(), ": ", label, "; ", EtaText()));
  }
}

void JobProgress::Finished(bool reused) {
  if (current_ < 0) return;
  Run& r = runs_[current_];
  r.finished = true;
  if (!reused && r.work > 0) {
    Rate& rate = rates_[r.group];
    rate.seconds += absl::ToDoubleSeconds(now_() - current_start_);
    rate.work += r.work;
  }
  current_ = -1;
}

void JobProgress::DropUnstarted(const std::string& key) {
  DropUnstartedIf([&](const Run& r) { return r.key == key; });
}

void JobProgress::DropUnstartedGroup(const std::string& group) {
  DropUnstartedIf([&](const Run& r) { return r.group == group; });
}

void JobProgress::DropUnstartedIf(const std::function<bool(const Run&)>& drop) {
  const Run* current = current_ >= 0 ? &runs_[current_] : nullptr;
  std::vector<Run> kept;
  int64_t current_index = -1;
  for (const Run& r : runs_) {
    if (!r.started && drop(r)) continue;
    if (&r == current) current_index = static_cast<int64_t>(kept.size());
    kept.push_back(r);
  }
  runs_ = std::move(kept);
  current_ = current_index;
}

std::optional<double> JobProgress::SecondsLeft(const Run& r) const {
  std::optional<double> total;
  auto rate = rates_.find(r.group);
  if (rate != rates_.end() && rate->second.work > 0) {
    total = r.work * rate->second.seconds / rate->second.work;
  } else if (r.expected_seconds) {
    total = *r.expected_seconds;
  }
  if (!total) return std::nullopt;
  if (&r == (current_ >= 0 ? &runs_[current_] : nullptr)) {
    *total -= absl::ToDoubleSeconds(now_() - current_start_);
  }
  return std::max(0.0, *total);
}

std::string JobProgress::EtaText() const {
  double seconds = 0;
  bool any = false;
  std::vector<std::string> unknown;
  for (const Run& r : runs_) {
    if (r.finished) continue;
    if (std::optional<double> left = SecondsLeft(r)) {
      seconds += *left;
      any = true;
    } else if (std::find(unknown.begin(), unknown.end(), r.group) == unknown.end()) {
      unknown.push_back(r.group);
    }
  }
  if (!any) return "no estimate yet (after the first run of each kind)";
  const absl::Time eta = now_() + absl::Seconds(seconds);
  std::string text = absl::StrFormat("about %.0f min left (ETA %s UTC)", std::ceil(seconds / 60),
                                     absl::FormatTime("%H:%M", eta, absl::UTCTimeZone()));
  if (!unknown.empty()) {
    absl::StrAppend(&text, " + the ", absl::StrJoin(unknown, ", "), " runs, not estimated yet");
  }
  return text;
}

}  // namespace rnnprune
