// The main job: `bazel run -c opt //benchmarks:all -- [--preset=default] [--threads=N] ...`.
// Trains and evaluates every run of the preset on real data and writes reports/ (see README.md).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "benchmarks/preset_files.h"
#include "benchmarks/preset_json.h"
#include "benchmarks/preset_sweep.h"
#include "benchmarks/presets.h"
#include "benchmarks/suite.h"
#include "benchmarks/suite_flags.h"
#include "benchmarks/suite_options.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "pruning/method.h"
#include "reporting/results.h"
#include "reporting/speed_report.h"
#include "reporting/squad_report.h"

namespace {

// Flags absl's parser does not see, taken out of argv: the pruning methods' own (a registered
// method declares them: its options and settings flags, pruning/method.h; the last value of each
// wins) and the repeatable --set FIELD=VALUE (every one kept, in order).
struct TakenFlags {
  std::map<std::string, std::string> method_flags;
  std::vector<std::string> preset_overrides;
};

// Takes every --FLAG=VALUE (or --FLAG VALUE) of those out of argv. Errors: one with no value.
absl::StatusOr<TakenFlags> TakeFlags(int* argc, char** argv) {
  std::set<std::string> declared;
  for (const rnnprune::MethodOptionSpec& spec : rnnprune::RegisteredMethodOptions()) {
    declared.insert(spec.flag);
  }
  for (const std::string& flag : rnnprune::RegisteredSettingsFlags()) declared.insert(flag);
  TakenFlags taken;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {  // the rest is positional
      while (i < *argc) argv[kept++] = argv[i++];
      break;
    }
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    const size_t eq = body.find('=');
    const std::string name(body.substr(0, eq));
    if (body.size() == arg.size() || (name != "set" && declared.count(name) == 0)) {
      argv[kept++] = argv[i];
      continue;
    }
    std::string value;
    if (eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    } else if (i + 1 < *argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    if (name == "set") {
      taken.preset_overrides.push_back(std::move(value));
    } else {
      taken.method_flags[name] = std::move(value);
    }
  }
  *argc = kept;
  return taken;
}

// The usage message: the command, then what the registries hold (methods, their own options,
// presets, tasks), so that a newly registered method or option is listed without editing this.
std::string Usage() {
  std::string u =
      "Runs rnnprune's main job: bazel run -c opt //benchmarks:all -- --preset=default\n\n"
      "Pruning methods (--methods; baselines/README.md):\n";
  for (const std::string& name : rnnprune::RegisteredPruningMethods()) {
    absl::StatusOr<rnnprune::PruningMethodInfo> info = rnnprune::GetPruningMethodInfo(name);
    if (!info.ok()) continue;
    absl::StrAppend(
        &u, "  ", name, " (setting: ", rnnprune::SettingKindName(info->setting),
        info->settings_flag.empty() ? "" : absl::StrCat(", also --", info->settings_flag),
        "): ", info->description, "\n");
  }
  absl::StrAppend(&u, "\nOptions the methods declare (--FLAG=VALUE):\n");
  for (const rnnprune::MethodOptionSpec& spec : rnnprune::RegisteredMethodOptions()) {
    absl::StrAppend(&u, "  --", spec.flag, ": ", spec.help, "\n");
  }
  absl::StrAppend(&u,
                  "\n--set FIELD=VALUE (repeatable): overrides a field of the preset "
                  "(benchmarks/presets.h), e.g. --set squad_epochs=8 --set settings.l0=0.1/1; "
                  "the override enters the config hashes of the runs it changes; a list sweeps "
                  "the field, one run per value (--set seed=[1,2]; README.md, *Changing a "
                  "preset's fields*)\n");
  absl::StrAppend(&u, "\nPresets (--preset): ", absl::StrJoin(rnnprune::PresetNames(), ", "),
                  "\nTasks (--tasks): ", absl::StrJoin(rnnprune::SuiteTaskNames(), ", "), "\n");
  return u;
}

// True when the command line asks for help (--help, -help, --helpfull, --helpshort).
bool HelpRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "--") return false;
    for (absl::string_view h : {"help", "helpfull", "helpshort"}) {
      if (a == absl::StrCat("--", h) || a == absl::StrCat("-", h)) return true;
    }
  }
  return false;
}

// --help: what the registries hold (Usage) and the suite's own flags with their help and
// defaults, on stdout. absl's own --help would exit 1 and list every library's flags.
void PrintHelp() {
  std::string text = Usage();
  absl::StrAppend(&text, "\nFlags of the main job:\n");
  std::map<std::string, const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "benchmarks/suite_flags.cc")) {
      flags[std::string(name)] = flag;
    }
  }
  for (const auto& [name, flag] : flags) {
    absl::StrAppend(&text, "  --", name, ": ", flag->Help(), " (default: '", flag->DefaultValue(),
                    "')\n");
  }
  std::fputs(text.c_str(), stdout);
}

// --print_config: the resolved preset as JSON on stdout (a file --config reads back; a swept
// field keeps its list); returns the exit status.
int PrintConfig(const rnnprune::SuiteOptions& o) {
  absl::StatusOr<nlohmann::json> resolved = rnnprune::ResolvePresetJson(o);
  absl::StatusOr<std::vector<rnnprune::PresetPoint>> points =
      resolved.ok() ? rnnprune::ExpandPresetSweeps(*resolved) : resolved.status();
  if (!points.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(points.status().message()).c_str());
    return 2;
  }
  // Every field with its value, a swept one with its list (the file --config reads back).
  nlohmann::json out = rnnprune::PresetToJson(points->front().preset);
  for (const auto& [field, value] : points->front().swept.items()) out[field] = (*resolved)[field];
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

// --render_only: re-renders the reports of o.tasks from the result files; returns the exit
// status (0, 1 on a failure, 2 on bad flags).
int RenderOnly(const rnnprune::SuiteOptions& o) {
  if (absl::Status valid = rnnprune::ValidatePresetAndTasks(o); !valid.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(valid.message()).c_str());
    return 2;
  }
  // Not while a job writes the same results.
  absl::StatusOr<rnnprune::FileLock> lock = rnnprune::LockFile(
      o.reports_dir + "/results/.lock", absl::StrCat("folder ", o.reports_dir, "/results"));
  if (!lock.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(lock.status().message()).c_str());
    return 1;
  }
  const bool ptb = std::find(o.tasks.begin(), o.tasks.end(), "ptb") != o.tasks.end();
  const bool speed = std::find(o.tasks.begin(), o.tasks.end(), "speed") != o.tasks.end();
  const bool squad = std::find(o.tasks.begin(), o.tasks.end(), "squad") != o.tasks.end();
  if (squad) {
    absl::Status rendered = rnnprune::RenderSquadReportFiles(o.reports_dir);
    if (absl::IsNotFound(rendered)) {
      std::fprintf(stderr, "note: %s; squad.md not re-rendered\n",
                   std::string(rendered.message()).c_str());
    } else if (!rendered.ok()) {
      std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
      return 1;
    } else {
      std::fprintf(stderr, "rendered %s/squad.md from %s/results\n", o.reports_dir.c_str(),
                   o.reports_dir.c_str());
    }
  }
  if (ptb) {
    absl::Status rendered = rnnprune::RenderPtbReportFiles(o.reports_dir);
    if (!rendered.ok()) {
      std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "rendered %s/ptb.md from %s/results\n", o.reports_dir.c_str(),
                 o.reports_dir.c_str());
  }
  if (speed) {
    absl::Status rendered = rnnprune::RerenderSpeedReport(o.preset, o.reports_dir);
    if (absl::IsNotFound(rendered)) {
      std::fprintf(stderr, "note: %s; speed.md not re-rendered\n",
                   std::string(rendered.message()).c_str());
      return 0;
    }
    if (!rendered.ok()) {
      std::fprintf(stderr, "error: %s\n", rendered.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "rendered %s/speed.md from %s/results/speed_%s.json\n",
                 o.reports_dir.c_str(), o.reports_dir.c_str(), o.preset.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (HelpRequested(argc, argv)) {
    PrintHelp();
    return 0;
  }
  absl::SetProgramUsageMessage(Usage());
  std::vector<std::string> given(argv + 1, argv + argc);  // before TakeFlags reorders argv
  absl::StatusOr<TakenFlags> taken = TakeFlags(&argc, argv);
  if (!taken.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(taken.status().message()).c_str());
    return 2;
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    std::fprintf(stderr, "error: unexpected positional argument '%s'\n", args[1]);
    return 2;
  }
  absl::StatusOr<rnnprune::SuiteOptions> options =
      rnnprune::SuiteOptionsFromFlags(std::move(taken->method_flags), given);
  if (!options.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  rnnprune::SuiteOptions& o = *options;
  o.preset_overrides.insert(o.preset_overrides.end(), taken->preset_overrides.begin(),
                            taken->preset_overrides.end());
  if (rnnprune::RenderOnlyRequested()) return RenderOnly(o);
  // Validate every flag before touching data.
  absl::Status valid = rnnprune::ValidateSuiteOptions(o);
  if (!valid.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(valid.message()).c_str());
    return 2;
  }
  if (rnnprune::PrintConfigRequested()) return PrintConfig(o);
  if (std::find(o.tasks.begin(), o.tasks.end(), "ptb") != o.tasks.end() ||
      std::find(o.tasks.begin(), o.tasks.end(), "squad") != o.tasks.end()) {
    auto data_dir = rnnprune::ResolveDataDir(rnnprune::DataDirFlag());
    if (!data_dir.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(data_dir.status().message()).c_str());
      return 2;
    }
    o.data_dir = *data_dir;
  }
  auto runs = rnnprune::RunSuite(o);
  if (!runs.ok()) {
    std::fprintf(stderr, "error: %s\n", runs.status().ToString().c_str());
    return 1;
  }
  if (absl::Status failed = rnnprune::FailedRunsStatus(*runs); !failed.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(failed.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "done: %zu runs; reports in %s\n", runs->size(), o.reports_dir.c_str());
  return 0;
}
