#include "common/config_hash.h"

#include <cmath>

#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

TEST(ConfigHash, IsTheSha256OfTheCompactSortedDump) {
  json c;
  c["seed"] = 1;
  c["model"] = {{"hidden", 32}, {"dropout", 0.25}};
  EXPECT_EQ(CanonicalConfigText(c), R"({"model":{"dropout":0.25,"hidden":32},"seed":1})");
  EXPECT_EQ(ConfigHash(c), Sha256Hex(R"({"model":{"dropout":0.25,"hidden":32},"seed":1})"));
  EXPECT_EQ(ConfigHash(c).size(), 64u);
  // Known value, so that a change of the canonical form is noticed (sha256sum of the text).
  EXPECT_EQ(ConfigHash(json::object()),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

TEST(ConfigHash, KeyOrderDoesNotMatterValuesDo) {
  const json a = json::parse(R"({"lr": 1.0, "epochs": 4, "sizes": [200, 200]})");
  const json b = json::parse(R"({"sizes": [200, 200], "epochs": 4, "lr": 1.0})");
  EXPECT_EQ(ConfigHash(a), ConfigHash(b));

  json c = a;
  c["lr"] = 0.5;
  EXPECT_NE(ConfigHash(a), ConfigHash(c));
  json d = a;
  d["sizes"] = {200, 199};
  EXPECT_NE(ConfigHash(a), ConfigHash(d));
  // Types are part of the text: the integer 1 and the double 1.0 differ.
  EXPECT_NE(ConfigHash(json{{"x", 1}}), ConfigHash(json{{"x", 1.0}}));
}

TEST(ConfigHash, DoublesRoundTrip) {
  // Values that differ in the last bit give different texts.
  const double x = 0.1;
  const double y = std::nextafter(x, 1.0);
  EXPECT_NE(ConfigHash(json{{"lambda", x}}), ConfigHash(json{{"lambda", y}}));
  EXPECT_EQ(json::parse(CanonicalConfigText(json{{"lambda", y}}))["lambda"].get<double>(), y);
}

}  // namespace
}  // namespace rnnprune
