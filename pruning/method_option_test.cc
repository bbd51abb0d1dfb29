#include "pruning/method_option.h"

#include <limits>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

TEST(MethodOption, NumberOptionChecksItsIntervalAndNamesTheFlag) {
  const MethodOptionSpec keep = NumberOption("keep", 0.95, "keep probability", 0, true, 1, true);
  EXPECT_EQ(keep.parse("0.5").value(), 0.5);
  EXPECT_THAT(std::string(keep.parse("1").status().message()),
              HasSubstr("--keep=1 must be finite and in (0, 1)"));
  EXPECT_FALSE(keep.parse("0").ok());
  EXPECT_THAT(std::string(keep.parse("often").status().message()),
              HasSubstr("--keep='often' is not a number"));
  EXPECT_FALSE(keep.parse("nan").ok());
  const MethodOptionSpec ratio = NumberOption("ratio", 1, "a ratio", 0, false);
  EXPECT_EQ(ratio.parse("0").value(), 0.0);
  EXPECT_THAT(std::string(ratio.parse("inf").status().message()),
              HasSubstr("must be finite and in [0, inf)"));
  EXPECT_THAT(keep.help, HasSubstr("default 0.95, in (0, 1)"));
}

TEST(MethodOption, ChoiceOptionTakesOnlyItsChoices) {
  const MethodOptionSpec mode = ChoiceOption("mode", "finetune", "how", {"finetune", "scratch"});
  EXPECT_EQ(mode.parse("scratch").value(), "scratch");
  EXPECT_THAT(std::string(mode.parse("later").status().message()),
              HasSubstr("--mode='later' must be finetune or scratch"));
  EXPECT_THAT(mode.help, HasSubstr("finetune | scratch; default finetune"));
}

TEST(MethodOption, ResolveFillsDefaultsAndIgnoresOtherMethodsFlags) {
  const std::vector<MethodOptionSpec> specs = {NumberOption("a", 2, "a", 0, false),
                                               ChoiceOption("b", "x", "b", {"x", "y"})};
  absl::StatusOr<nlohmann::json> v = ResolveMethodOptions(specs, {{"b", "y"}, {"other", "1"}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (nlohmann::json{{"a", 2.0}, {"b", "y"}}));
  EXPECT_FALSE(ResolveMethodOptions(specs, {{"a", "-1"}}).ok());
  EXPECT_EQ(ResolveMethodOptions({}, {{"a", "1"}}).value(), nlohmann::json::object());
}

}  // namespace
}  // namespace rnnprune
