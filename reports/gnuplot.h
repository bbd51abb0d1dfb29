// Rendering plots with gnuplot (Debian's gnuplot-nox, installed by tools/bootstrap.sh).
#ifndef RNNPRUNE_REPORTS_GNUPLOT_H_
#define RNNPRUNE_REPORTS_GNUPLOT_H_

#include <string>

#include "absl/status/status.h"

namespace rnnprune {

// Runs gnuplot on "set terminal svg size <width>,<height> dynamic noenhanced font 'sans,11'",
// "set output '<tmp>'" and then `script`, and renames the temporary file to `svg_path`, so that
// a failed run leaves any earlier plot intact. Errors: Unavailable when gnuplot cannot start,
// Internal when it fails (its exit status in the message) or the rename fails.
absl::Status RunGnuplotToSvg(const std::string& script, const std::string& svg_path, int width,
                             int height);

// Distinct line colours (gnuplot's default cycle repeats after 8): kPlotColors[i % kNumColors].
extern const char* const kPlotColors[];
extern const int kNumPlotColors;

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTS_GNUPLOT_H_
