#include "benchmarks/preset_json.h"

#include <string>
#include <vector>

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
  EXPECT_EQ(j.size(), 37u) << "a field added to Preset must be added to VisitPresetFields";
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
  EXPECT_THAT(ErrorOf({"epochs.x=1"}), HasSubstr("only settings has entries"));
  EXPECT_THAT(ErrorOf({"speed_threads=1,two"}),
              HasSubstr("'speed_threads[1]': \"two\" must be an integer"));
  Preset p = *GetPreset("default");
  const int epochs = p.squad_epochs;
  EXPECT_FALSE(ApplyPresetOverrides({"squad_epochs=8", "squad_epochs=-1"}, &p).ok());
  EXPECT_EQ(p.squad_epochs, epochs);
}

}  // namespace
}  // namespace rnnprune
