#include "benchmarks/suite.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmarks/job_progress.h"
#include "benchmarks/preset_json.h"
#include "benchmarks/preset_sweep.h"
#include "benchmarks/presets.h"
#include "benchmarks/ptb_task.h"
#include "benchmarks/speed_task.h"
#include "benchmarks/squad_task.h"
#include "common/files.h"
#include "common/run_info.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/engines/engine.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;
using Task = std::function<absl::StatusOr<std::vector<json>>(const TaskContext&)>;

// The task behind each name of SuiteTaskNames().
const std::map<std::string, Task>& Tasks() {
  static const auto* tasks = new std::map<std::string, Task>{
      {"ptb", RunPtbTask},
      {"squad",
       [](const TaskContext& c) -> absl::StatusOr<std::vector<json>> {
         RETURN_IF_ERROR(SetInferenceThreads(c.options.threads));
         ASSIGN_OR_RETURN(SquadRecord record, RunSquadTask(c));
         return std::vector<json>{record.ToJson()};
       }},
      {"speed",
       [](const TaskContext& c) -> absl::StatusOr<std::vector<json>> {
         RETURN_IF_ERROR(RunSpeedTask(c).status());
         return std::vector<json>();
       }},
  };
  return *tasks;
}

// "; temporary files left by an interrupted write, which may be what fills the disk: ..." when
// `dir` holds files named *.tmp.<pid> (common/files.h), else "".
std::string LeftoverTemporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const TemporaryFile& t : TemporaryFilesIn(dir)) found.push_back(t.path);
  if (found.empty()) return "";
  return absl::StrCat(
      "; temporary files left by an interrupted write, which may be what fills the disk "
      "(delete them if no job is running): ",
      absl::StrJoin(found, ", "));
}

// Creates `dirs` and checks that a file can be written in each, so that an unwritable or full
// folder fails now, not after the first hours of training.
absl::Status PrepareFolders(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    RETURN_IF_ERROR(MakeDirs(dir));
    const std::string probe = absl::StrCat(dir, "/.write_test");
    if (absl::Status s = WriteFileAtomically(probe, std::string(4096, ' ')); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("output folder ", dir, " is not writable: ",
                                                 s.message(), LeftoverTemporaries(dir)));
    }
    std::remove(probe.c_str());
  }
  return absl::OkStatus();
}

// Locks `dirs` (<dir>/.lock): two suites writing the same folders would overwrite each other's
// checkpoints and results, so the second one stops here. The locks go with this process, even
// when it is killed.
absl::StatusOr<std::vector<FileLock>> LockFolders(const std::vector<std::string>& dirs) {
  std::vector<FileLock> locks;
  for (const std::string& dir : dirs) {
    // One folder named two ways ("runs" and "runs/", a symlink) is locked once.
    char* real = ::realpath(dir.c_str(), nullptr);
    const std::string canonical = real != nullptr ? real : dir;
    std::free(real);
    if (!locks.empty() && locks.front().path() == canonical + "/.lock") continue;
    ASSIGN_OR_RETURN(FileLock lock, LockFile(canonical + "/.lock", absl::StrCat("folder ", dir)));
    locks.push_back(std::move(lock));
  }
  return locks;
}

// The tasks run at sweep point `index`: every task, except that the speed task (which times
// model shapes, not the preset's runs) runs at the first point only.
std::vector<std::string> SweepTasks(const std::vector<std::string>& tasks, size_t index) {
  std::vector<std::string> out;
  for (const std::string& t : tasks) {
    if (t != "speed" || index == 0) out.push_back(t);
  }
  return out;
}

// Where a sweep point's checkpoints go: `output_dir` itself when nothing is swept, else a
// folder of its own (sweep_<hash of the swept values>), so that points never share a file.
std::string PointOutputDir(const std::string& output_dir, const json& swept) {
  if (swept.empty()) return output_dir;
  return absl::StrCat(output_dir, "/sweep_", SweepPointId(swept));
}

// Runs `tasks` for the context's preset point, appending their records (and one record per
// failed task) to `runs`.
absl::Status RunTasks(TaskContext& context, const std::vector<std::string>& tasks,
                      std::vector<json>* runs) {
  const SuiteOptions& o = context.options;
  JobProgress& progress = *context.progress;
  for (const std::string& name : tasks) {
    auto task = Tasks().find(name);
    if (task == Tasks().end()) {
      return absl::InternalError(absl::StrCat("task '", name, "' is listed but has no runner"));
    }
    if (name != "ptb") progress.Start(name, absl::StrCat(name, "/", o.preset));
    absl::StatusOr<std::vector<json>> records =
        CatchTorch(absl::StrCat("task ", name), [&] { return task->second(context); });
    if (name != "ptb") progress.Finished(false);
    if (!records.ok()) {
      progress.DropUnstartedGroup(name);  // the runs the task planned and never started
      // A task that fails does not take the later ones with it; the job's status says so.
      o.log(absl::StrCat("[", name, "] FAILED, the job goes on: ", records.status().ToString()));
      runs->push_back({{"task", name}, {"failed", records.status().ToString()}});
      continue;
    }
    runs->insert(runs->end(), records->begin(), records->end());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<json>> RunSuite(const SuiteOptions& options) {
  TaskContext context;
  context.options = options;
  SuiteOptions& o = context.options;
  if (!o.log) o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  RETURN_IF_ERROR(ValidateSuiteOptions(o));
  // The preset with the flags' overrides, one point per combination of swept values.
  ASSIGN_OR_RETURN(const std::vector<PresetPoint> points, ResolvePresetPoints(o));
  const std::vector<std::string> folders = {o.reports_dir + "/results", o.output_dir};
  RETURN_IF_ERROR(PrepareFolders(folders));
  ASSIGN_OR_RETURN(std::vector<FileLock> locks, LockFolders(folders));
  if (o.threads > MachineCores()) {
    o.log(absl::StrCat("warning: --threads=", o.threads, " is more than this machine's ",
                       MachineCores(),
                       " cores: every thread count above it only slows the job "
                       "down and makes its timings noisy"));
  }
  torch::set_num_threads(o.threads);
  context.run_info = CollectRunInfo(o.source_dir);
  JobProgress progress(o.log);
  context.progress = &progress;
  // The ptb task plans its own runs once its corpus is loaded; the others are one run each
  // (speed once per job: SweepTasks).
  const std::string output_dir = o.output_dir;
  auto enter = [&](size_t i) {  // the context of point i
    context.preset = points[i].preset;
    context.preset_config = PresetToJson(points[i].preset);
    context.sweep_point = points[i].swept;
    o.seed = points[i].preset.seed;
    o.output_dir = PointOutputDir(output_dir, points[i].swept);
  };
  for (size_t i = 0; i < points.size(); ++i) {
    enter(i);
    for (const std::string& name : SweepTasks(o.tasks, i)) {
      if (name == "squad") progress.Plan("squad", "squad", 1, EarlierSquadSeconds(context));
      if (name == "speed") progress.Plan("speed", "speed", 1);
    }
  }
  std::vector<json> runs;
  for (size_t i = 0; i < points.size(); ++i) {
    enter(i);
    RETURN_IF_ERROR(MakeDirs(o.output_dir));
    if (points.size() > 1) {
      o.log(absl::StrCat("[sweep] point ", i + 1, " of ", points.size(), ": ",
                         SweepLabel(points[i].swept), " (checkpoints in ", o.output_dir, ")"));
    }
    RETURN_IF_ERROR(RunTasks(context, SweepTasks(o.tasks, i), &runs));
  }
  return runs;
}

absl::Status FailedRunsStatus(const std::vector<json>& runs) {
  std::vector<std::string> failed;
  for (const json& r : runs) {
    if (!r.is_object() || !r.contains("failed")) continue;
    std::string what = r.value("task", std::string("?"));
    if (r.contains("method")) {
      absl::StrAppend(&what, "/", r.value("preset", std::string()), "/",
                      r.value("method", std::string()), " ", r.value("setting", std::string()));
    }
    failed.push_back(absl::StrCat(
        what, " (", r["failed"].is_string() ? r["failed"].get<std::string>() : r["failed"].dump(),
        ")"));
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat(failed.size(), " of ", runs.size(),
                   " runs failed (recorded; the others finished): ", absl::StrJoin(failed, "; ")));
}

}  // namespace rnnprune
