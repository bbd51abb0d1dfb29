#include "benchmarks/preset_json.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "benchmarks/preset_files.h"
#include "benchmarks/preset_sweep.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string ErrorOf(const std::vector<std::string>& overrides) {
  Preset p = *GetPreset("default");
  return std::string(ApplyPresetOverrides(overrides, &p).message());
}

TEST(PresetJson, EveryPresetRoundTripsAndIsValid) {
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    const Preset p = *GetPreset(name);
    EXPECT_TRUE(ValidatePreset(p).ok()) << ValidatePreset(p);
    const json j = PresetToJson(p);
    absl::StatusOr<Preset> back = PresetFromJson(j);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(PresetToJson(*back), j);
  }
}

TEST(PresetJson, EveryFieldIsWritten) {
  const json j = PresetToJson(*GetPreset("small"));
  EXPECT_EQ(j.at("squad_epochs"), 3);
  EXPECT_EQ(j.at("recovery_epochs"), 1);
  EXPECT_EQ(j.at("settings").at("l0"), json({"0.1", "0.25", "0.5", "1"}));
  EXPECT_EQ(j.at("speed_threads"), json({1, 2}));
  EXPECT_EQ(j.at("squad_word_embedding"), "auto");
  EXPECT_EQ(j.size(), 43u) << "a field added to Preset must be added to VisitPresetFields";
}

TEST(PresetJson, RefusesUnknownKeysAndWrongTypesByName) {
  json j = PresetToJson(*GetPreset("default"));
  j["squad_epoch"] = 8;
  EXPECT_THAT(std::string(PresetFromJson(j).status().message()),
              HasSubstr("preset field 'squad_epoch' (8) is unknown"));
  j = PresetToJson(*GetPreset("default"));
  j["squad_epochs"] = 2.5;
  EXPECT_THAT(std::string(PresetFromJson(j).status().message()),
              HasSubstr("'squad_epochs': 2.5 must be an integer"));
  j = PresetToJson(*GetPreset("default"));
  j["settings"]["l0"] = json({0.1});
  EXPECT_THAT(std::string(PresetFromJson(j).status().message()),
              HasSubstr("'settings.l0[0]': 0.1 must be a string"));
  j = PresetToJson(*GetPreset("default"));
  j["squad_learning_rate"] = "fast";
  EXPECT_THAT(std::string(PresetFromJson(j).status().message()),
              HasSubstr("'squad_learning_rate': \"fast\" must be a number"));
}

TEST(PresetJson, OverridesSetFieldsOfEveryType) {
  Preset p = *GetPreset("default");
  ASSERT_TRUE(ApplyPresetOverrides(
                  {"squad_epochs=8", "squad_learning_rate=0.002", "squad_word_embedding=fixed",
                   "methods=l0,dense", "speed_threads=1", "settings.l0=0.1/1",
                   "settings.iss=[\"5\"]", "squad_optimizer=\"adadelta\""},
                  &p)
                  .ok());
  EXPECT_EQ(p.squad_epochs, 8);
  EXPECT_DOUBLE_EQ(p.squad_learning_rate, 0.002);
  EXPECT_EQ(p.squad_word_embedding, "fixed");
  EXPECT_EQ(p.methods, (std::vector<std::string>{"l0", "dense"}));
  EXPECT_EQ(p.speed_threads, std::vector<int>{1});
  EXPECT_EQ(p.settings.at("l0"), (std::vector<std::string>{"0.1", "1"}));
  EXPECT_EQ(p.settings.at("iss"), std::vector<std::string>{"5"});
  EXPECT_EQ(p.settings.at("lasso"), std::vector<std::string>{"30"});  // the others are kept
  EXPECT_EQ(p.squad_optimizer, "adadelta");
  ASSERT_TRUE(
      ApplyPresetOverrides({"squad_methods=l0,random", "squad_settings.l0=0.5/2"}, &p).ok());
  EXPECT_EQ(p.squad_methods, (std::vector<std::string>{"l0", "random"}));
  EXPECT_EQ(p.squad_settings.at("l0"), (std::vector<std::string>{"0.5", "2"}));
  // Later overrides win; nothing else changes.
  ASSERT_TRUE(ApplyPresetOverrides({"squad_epochs=2", "squad_epochs=3"}, &p).ok());
  EXPECT_EQ(p.squad_epochs, 3);
  EXPECT_EQ(p.search_steps, 400);
}

TEST(PresetJson, RefusesBadOverridesByNameAndLeavesThePresetAlone) {
  EXPECT_THAT(ErrorOf({"squad_epochs"}), HasSubstr("--set 'squad_epochs' must be FIELD=VALUE"));
  EXPECT_THAT(ErrorOf({"squad_epoch=8"}), HasSubstr("'squad_epoch' is not a preset field"));
  EXPECT_THAT(ErrorOf({"squad_epochs=eight"}),
              HasSubstr("'squad_epochs': \"eight\" must be an integer"));
  EXPECT_THAT(ErrorOf({"squad_epochs=0"}), HasSubstr("squad_epochs=0 must be >= 1"));
  EXPECT_THAT(ErrorOf({"squad_word_embedding=frozen"}),
              HasSubstr("squad_word_embedding='frozen' must be one of auto, fixed, trained"));
  EXPECT_THAT(ErrorOf({"squad_ema_decay=1"}), HasSubstr("squad_ema_decay=1 must be in [0, 1)"));
  EXPECT_THAT(ErrorOf({"search_epochs=1"}),
              HasSubstr("search_epochs=1 must be 0 when search_steps is set"));
  EXPECT_THAT(ErrorOf({"squad_settings.l0=fast"}),
              HasSubstr("squad_settings.l0='fast' must be a lambda: a finite number >= 0"));
  EXPECT_THAT(ErrorOf({"squad_search_epochs=0"}), HasSubstr("squad_search_epochs=0 must be >= 1"));
  EXPECT_THAT(ErrorOf({"epochs.x=1"}), HasSubstr("only settings and squad_settings have entries"));
  EXPECT_THAT(ErrorOf({"speed_threads=1,two"}),
              HasSubstr("'speed_threads[1]': \"two\" must be an integer"));
  Preset p = *GetPreset("default");
  const int epochs = p.squad_epochs;
  EXPECT_FALSE(ApplyPresetOverrides({"squad_epochs=8", "squad_epochs=-1"}, &p).ok());
  EXPECT_EQ(p.squad_epochs, epochs);
}

}  // namespace
}  // namespace rnnprune

namespace rnnprune {
namespace {

std::string TempFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(path, text).ok());
  return path;
}

TEST(PresetFile, ReadsWhatPrintConfigWritesWithComments) {
  json j = PresetToJson(*GetPreset("default"));
  j["name"] = "mine";
  j["_comment"] = "ignored, as every key starting with '_'";
  j["squad_epochs"] = 3;
  const std::string text = "// my experiment\n" + j.dump(2) + "\n/* the end */\n";
  absl::StatusOr<Preset> p = LoadPresetFile(TempFile("mine.json", text));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "mine");
  EXPECT_EQ(p->squad_epochs, 3);
  j.erase("_comment");
  EXPECT_EQ(PresetToJson(*p), j);
}

TEST(PresetFile, RefusesMissingMalformedAndInvalidFilesNamingThem) {
  absl::StatusOr<Preset> missing = LoadPresetFile("/nonexistent/preset.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/preset.json"));

  const std::string bad_json = TempFile("bad.json", "{\"name\": \"x\",");
  absl::StatusOr<Preset> malformed = LoadPresetFile(bad_json);
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(malformed.status().message()),
              HasSubstr("preset file " + bad_json + " is not valid JSON"));

  json j = PresetToJson(*GetPreset("default"));
  j["recovery_learning_rate"] = -1;
  const std::string invalid = TempFile("invalid.json", j.dump());
  absl::StatusOr<Preset> refused = LoadPresetFile(invalid);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("preset file " + invalid + ": "));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("recovery_learning_rate"));
}

}  // namespace
}  // namespace rnnprune

namespace rnnprune {
namespace {

// The built-in presets were C++ structs until they became files: the values the structs held,
// written by --print_config before the change (benchmarks/testdata/presets_from_structs/), are
// what the files hold. A deliberate change of a preset updates its file and this record of it.
TEST(PresetFiles, TheBuiltInPresetsAreFilesHoldingTheStructsValues) {
  EXPECT_EQ(PresetNames(),
            (std::vector<std::string>{"default", "paper", "quick", "small", "smoke"}));
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::string> text =
        ReadFile("benchmarks/testdata/presets_from_structs/" + name + ".json");
    ASSERT_TRUE(text.ok()) << text.status();
    const json from_struct = json::parse(*text);
    absl::StatusOr<Preset> p = GetPreset(name);
    ASSERT_TRUE(p.ok()) << p.status();
    json from_file = PresetToJson(*p);
    // Fields the structs did not have hold what the code used before they existed: --seed's
    // default and BiDAF's built-in dropout.
    EXPECT_EQ(from_file.at("seed"), 1);
    EXPECT_EQ(from_file.at("squad_dropout"), 0.2);
    from_file.erase("seed");
    from_file.erase("squad_dropout");
    EXPECT_EQ(from_file, from_struct);
  }
}

TEST(PresetFiles, RefusesAnUnknownNameAndAFileOfAnotherName) {
  absl::StatusOr<Preset> unknown = GetPreset("huge");
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("--preset='huge' is not one of default, paper, quick, small, smoke"));
  EXPECT_FALSE(GetPreset("../smoke").ok());
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/own_presets";
  ASSERT_TRUE(MakeDirs(dir).ok());
  json j = PresetToJson(*GetPreset("smoke"));
  j["name"] = "other";
  ASSERT_TRUE(WriteFileAtomically(dir + "/mine.json", j.dump()).ok());
  setenv("RNNPRUNE_PRESETS_DIR", dir.c_str(), 1);
  EXPECT_EQ(PresetNames(), std::vector<std::string>{"mine"});
  EXPECT_THAT(std::string(GetPreset("mine").status().message()),
              HasSubstr("\"name\" must be \"mine\" (the file's name), not \"other\""));
  setenv("RNNPRUNE_PRESETS_DIR", (dir + "/absent").c_str(), 1);
  EXPECT_EQ(GetPreset("smoke").status().code(), absl::StatusCode::kNotFound);
  unsetenv("RNNPRUNE_PRESETS_DIR");
  EXPECT_TRUE(GetPreset("smoke").ok());
}

TEST(PresetSweep, ExpandsEveryCombinationFirstFieldSlowest) {
  json j = *GetPresetJson("default");
  ASSERT_TRUE(ApplyPresetOverridesToJson({"seed=[1,2]", "configs=[[\"small\"],[\"medium\"]]",
                                          "squad_optimizer=[\"adam\",\"adadelta\"]"},
                                         &j)
                  .ok());
  absl::StatusOr<std::vector<PresetPoint>> points = ExpandPresetSweeps(j);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 8u);
  EXPECT_EQ((*points)[0].preset.seed, 1);
  EXPECT_EQ((*points)[0].preset.configs, std::vector<std::string>{"small"});
  EXPECT_EQ((*points)[0].preset.squad_optimizer, "adam");
  EXPECT_EQ((*points)[1].preset.squad_optimizer, "adadelta");
  EXPECT_EQ((*points)[2].preset.configs, std::vector<std::string>{"medium"});
  EXPECT_EQ((*points)[7].preset.seed, 2);
  EXPECT_EQ((*points)[7].preset.configs, std::vector<std::string>{"medium"});
  EXPECT_EQ((*points)[7].preset.squad_optimizer, "adadelta");
  EXPECT_EQ(SweepLabel((*points)[5].swept),
            "seed=2, configs=[\"small\"], squad_optimizer=\"adadelta\"");
  for (const PresetPoint& point : *points) {  // the rest is the preset's
    EXPECT_EQ(point.preset.settings, GetPreset("default")->settings);
    EXPECT_EQ(point.preset.squad_epochs, GetPreset("default")->squad_epochs);
  }
}

TEST(PresetSweep, APresetWithoutListsIsOnePointAndAListFieldsOwnListIsNoSweep) {
  json j = *GetPresetJson("default");
  j["configs"] = {"small", "medium"};  // both configs in one point, as before
  absl::StatusOr<std::vector<PresetPoint>> points = ExpandPresetSweeps(j);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 1u);
  EXPECT_TRUE((*points)[0].swept.empty());
  EXPECT_EQ(SweepLabel((*points)[0].swept), "");
  EXPECT_EQ((*points)[0].preset.configs, (std::vector<std::string>{"small", "medium"}));
}

TEST(PresetSweep, RefusesEmptyListsBadPointsAndTooManyByName) {
  json j = *GetPresetJson("default");
  j["seed"] = json::array();
  EXPECT_THAT(std::string(ExpandPresetSweeps(j).status().message()),
              HasSubstr("'seed': [] sweeps no value"));
  j = *GetPresetJson("default");
  j["squad_epochs"] = {4, 0};
  EXPECT_THAT(std::string(ExpandPresetSweeps(j).status().message()),
              HasSubstr("sweep point squad_epochs=0: squad_epochs=0 must be >= 1"));
  j = *GetPresetJson("default");
  j["seed"] = json::array();
  for (int s = 0; s < 1001; ++s) j["seed"].push_back(s);
  EXPECT_THAT(std::string(ExpandPresetSweeps(j).status().message()),
              HasSubstr("more than 1000 points"));
}

}  // namespace
}  // namespace rnnprune
