// gnuplot's output is checked before it replaces a plot: a run cut short by a full disk
// (simulated with RLIMIT_FSIZE, which gnuplot inherits) is an error and the earlier plot stays
// (issue 17: gnuplot exits 0 and the partial SVG used to be renamed over the good one).
#include "reporting/gnuplot.h"

#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "common/files.h"
#include "gtest/gtest.h"

namespace rnnprune {
namespace {

// A plot whose SVG is several times 16 KiB: many labelled points.
std::string BigPlot() {
  std::string script = "set xrange [0:1000]\nplot '-' with linespoints title 'points'\n";
  for (int i = 0; i < 2000; ++i)
    script += std::to_string(i % 1000) + " " + std::to_string(i) + "\n";
  return script + "e\n";
}

TEST(Gnuplot, WritesACompleteSvg) {
  const std::string svg = std::string(std::getenv("TEST_TMPDIR")) + "/ok.svg";
  const absl::Status s = RunGnuplotToSvg("plot x title 'x'\n", svg, 300, 200);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(absl::StrContains(ReadFile(svg).value(), "</svg>"));
}

TEST(Gnuplot, APartialSvgDoesNotReplaceTheEarlierPlot) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/partial";
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string svg = dir + "/plot.svg";
  ASSERT_TRUE(RunGnuplotToSvg("plot x title 'x'\n", svg, 300, 200).ok());
  const std::string before = ReadFile(svg).value();
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit low = old;
  low.rlim_cur = 16 << 10;
  auto handler = signal(SIGXFSZ, SIG_IGN);  // inherited by gnuplot: its writes fail with EFBIG
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  const absl::Status s = RunGnuplotToSvg(BigPlot(), svg, 800, 600);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, handler);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), svg)) << s;
  EXPECT_EQ(ReadFile(svg).value(), before);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename(), "plot.svg") << "left behind: " << e.path();
  }
}

}  // namespace
}  // namespace rnnprune
