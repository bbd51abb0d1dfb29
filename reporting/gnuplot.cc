#include "reporting/gnuplot.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace rnnprune {

const char* const kPlotColors[] = {"#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                   "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                                   "#17becf", "#aec7e8", "#ffbb78", "#98df8a"};
const int kNumPlotColors = sizeof(kPlotColors) / sizeof(kPlotColors[0]);

std::string GnuplotString(absl::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

absl::Status RunGnuplotToSvg(const std::string& script, const std::string& svg_path, int width,
                             int height) {
  const std::string tmp_svg = svg_path + ".tmp.svg";
  const std::string full = absl::StrCat("set terminal svg size ", width, ",", height,
                                        " dynamic noenhanced font 'sans,11'\n", "set output ",
                                        GnuplotString(tmp_svg), "\n", script);
  FILE* gp = ::popen("gnuplot 2>&1", "w");
  if (gp == nullptr) {
    return absl::UnavailableError("cannot start gnuplot (tools/bootstrap.sh installs it)");
  }
  std::fwrite(full.data(), 1, full.size(), gp);
  // Closes the output, so that the SVG's last lines are written before gnuplot exits.
  std::fputs("\nunset output\n", gp);
  const int rc = ::pclose(gp);
  if (rc != 0 || !PathExists(tmp_svg)) {
    std::remove(tmp_svg.c_str());
    return absl::InternalError(absl::StrCat("gnuplot failed (exit ", rc, ") writing ", svg_path,
                                            "; is gnuplot installed (tools/bootstrap.sh)?"));
  }
  // gnuplot exits 0 even when it could not write the whole file (a full disk): check that the
  // SVG is complete before it replaces anything.
  absl::StatusOr<std::string> written = ReadFile(tmp_svg);
  const bool complete =
      written.ok() && absl::EndsWith(absl::StripTrailingAsciiWhitespace(*written), "</svg>");
  if (!complete) {
    std::remove(tmp_svg.c_str());
    return absl::ResourceExhaustedError(
        absl::StrCat("gnuplot wrote an incomplete SVG for ", svg_path, " (",
                     written.ok() ? absl::StrCat(written->size(), " bytes, no closing </svg>")
                                  : std::string(written.status().message()),
                     "; is the disk full?); the previous plot is kept"));
  }
  if (std::rename(tmp_svg.c_str(), svg_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp_svg, " to ", svg_path));
  }
  return absl::OkStatus();
}

}  // namespace rnnprune
