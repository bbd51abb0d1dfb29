// Rendering plots with gnuplot (Debian's gnuplot-nox, installed by tools/bootstrap.sh).
#ifndef RNNPRUNE_REPORTING_GNUPLOT_H_
#define RNNPRUNE_REPORTING_GNUPLOT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rnnprune {

// Runs gnuplot on "set terminal svg size <width>,<height> dynamic noenhanced font 'sans,11'",
// "set output '<tmp>'" and then `script`, checks that the SVG it wrote is complete (ends with
// </svg>: gnuplot exits 0 even when a full disk cut its output), and renames the temporary file
// to `svg_path`, so that a failed or partial run leaves any earlier plot intact. Errors:
// Unavailable when gnuplot cannot start, Internal when it fails (its exit status in the message)
// or the rename fails, ResourceExhausted for an incomplete SVG (naming `svg_path`).
absl::Status RunGnuplotToSvg(const std::string& script, const std::string& svg_path, int width,
                             int height);

// `text` as a gnuplot single-quoted string literal ('...' with ' doubled and line breaks as
// spaces): a preset, method or path name can neither end the string nor start a command.
std::string GnuplotString(absl::string_view text);

// Distinct line colours (gnuplot's default cycle repeats after 8): kPlotColors[i % kNumColors].
extern const char* const kPlotColors[];
extern const int kNumPlotColors;

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_GNUPLOT_H_
