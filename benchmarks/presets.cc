#include "benchmarks/presets.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rnnprune {
namespace {

std::vector<Preset> AllPresets() {
  std::vector<Preset> p(5);
  p[0].name = "smoke";
  p[0].description =
      "Zaremba small for 60 BPTT windows of real PTB, full batch-1 valid/test evaluation: "
      "proves the whole pipeline";
  p[0].configs = {"small"};
  p[0].epochs = 1;
  p[0].max_steps_per_epoch = 60;
  p[0].l0_lambdas = {1e-3, 1.5e-3, 2e-3};
  p[0].l0_max_steps_per_epoch = 20;
  p[0].l0_max_eval_tokens = 3000;
  p[0].timing_repeats = 5;
  p[0].budget = "about 1.5 minutes";

  p[1].name = "quick";
  p[1].description = "Zaremba small, 1 full epoch on PTB (lr 1.0)";
  p[1].configs = {"small"};
  p[1].epochs = 1;
  p[1].l0_lambdas = {5e-5, 1e-4, 2e-4};
  p[1].l0_max_steps_per_epoch = 300;
  p[1].budget = "about 8 minutes";

  p[2].name = "default";
  p[2].description =
      "Zaremba small, 4 epochs on the full PTB, lr 1.0 halved after epochs 2 and 3 "
      "(the published schedule compressed from 13 epochs)";
  p[2].configs = {"small"};
  p[2].epochs = 4;
  p[2].decay_after_epochs = 2;
  p[2].l0_lambdas = {2e-5, 5e-5, 1e-4};
  p[2].budget = "about 25 minutes";

  p[3].name = "small";
  p[3].description = "Zaremba small, the full published schedule (13 epochs, halving after 4)";
  p[3].configs = {"small"};
  p[3].l0_lambdas = {2e-5, 5e-5, 1e-4, 2e-4};
  p[3].l0_epochs = 2;
  p[3].budget = "about 1 hour";

  p[4].name = "paper";
  p[4].description =
      "Zaremba medium (39 epochs) and large (55 epochs), the full published schedules: "
      "for a machine with time or a GPU";
  p[4].configs = {"medium", "large"};
  p[4].l0_lambdas = {1e-5, 3e-5, 1e-4};
  p[4].l0_epochs = 5;
  p[4].budget = "days on 2 cores";
  return p;
}

}  // namespace

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const Preset& p : AllPresets()) names.push_back(p.name);
  return names;
}

absl::StatusOr<Preset> GetPreset(const std::string& name) {
  for (const Preset& p : AllPresets()) {
    if (p.name == name) return p;
  }
  return absl::InvalidArgumentError(absl::StrCat("--preset='", name, "' is not one of ",
                                                 absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace rnnprune
