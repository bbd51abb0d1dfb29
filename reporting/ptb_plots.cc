#include "reporting/ptb_plots.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reporting/format.h"
#include "reporting/gnuplot.h"
#include "reporting/ptb_comparison.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// One method's points: speedup, perplexity, the speedup's interquartile range (the point itself
// where the record has none), setting label.
struct Series {
  std::string title;
  std::vector<std::pair<double, double>> points;
  std::vector<std::pair<double, double>> ranges;
  std::vector<std::string> labels;
};

// `label` as one whitespace-free word of a gnuplot data block (a setting given on the command
// line may hold anything): other characters become '_'.
std::string DataLabel(const std::string& label) {
  std::string out;
  for (char c : label)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-' ||
            c == '+')
               ? c
               : '_';
  return out.empty() ? "-" : out;
}

double PlottedPerplexity(const PtbRecord& r) {
  return r.test_perplexity ? *r.test_perplexity : r.valid_perplexity.value_or(0.0);
}

// The data block of `s`'s points (all of them, or only its Pareto front).
std::string DataBlock(const std::string& name, const Series& s, bool front_only) {
  std::vector<size_t> idx;
  if (front_only) {
    idx = ParetoFront(s.points);
  } else {
    for (size_t i = 0; i < s.points.size(); ++i) idx.push_back(i);
  }
  std::string block = absl::StrCat("$", name, " << EOD\n");
  for (size_t i : idx) {
    absl::StrAppend(
        &block, absl::StrFormat("%.6g %.6g %.6g %.6g %s\n", s.points[i].first, s.points[i].second,
                                s.ranges[i].first, s.ranges[i].second, DataLabel(s.labels[i])));
  }
  return absl::StrCat(block, "EOD\n");
}

}  // namespace

absl::Status PlotPtbTradeoff(const std::vector<PtbRecord>& runs, const std::string& preset,
                             const std::string& svg_path) {
  std::vector<Series> series;
  std::optional<double> parent;
  bool any_test = false;
  for (const PtbRecord& r : runs) {
    if (r.preset != preset || !r.valid_perplexity) continue;
    if (!IsMethodRun(r)) {
      if (r.method == "dense") {
        double ppl = PlottedPerplexity(r);
        // Smoke presets score pruned models on the first tokens only: use the parent's score
        // on the same tokens when it is recorded.
        if (r.test_perplexity_first_tokens) {
          ppl = r.test_perplexity_first_tokens->perplexity.value_or(ppl);
        }
        parent = ppl;
      }
      continue;
    }
    std::optional<double> speedup = LstmB1Speedup(r);
    if (!speedup || r.collapsed) continue;
    any_test = any_test || r.test_perplexity.has_value();
    const std::string method = r.method.value_or("?");
    const std::string title = method == "dense" ? "dense (control)" : method;
    auto it = std::find_if(series.begin(), series.end(),
                           [&](const Series& s) { return s.title == title; });
    if (it == series.end()) it = series.insert(series.end(), Series{title, {}, {}, {}});
    it->points.emplace_back(*speedup, PlottedPerplexity(r));
    it->ranges.push_back(LstmB1SpeedupRange(r).value_or(std::make_pair(*speedup, *speedup)));
    std::string label = r.setting ? TextCell(r.setting) : "-";
    it->labels.push_back(label.empty() ? "-" : label);
  }
  if (series.empty()) return absl::OkStatus();
  const std::string metric = any_test ? "test perplexity" : "valid perplexity";
  std::string script = absl::StrCat(
      "set title ",
      GnuplotString(absl::StrCat("PTB, preset ", preset, ": ", metric,
                                 " vs measured LSTM speedup (batch 1); lines: each method's "
                                 "Pareto front; bars: interquartile range of the timing")),
      "\n",
      "set xlabel 'LSTM speedup over the dense parent (batch 1, fastest engine of the run)'\n",
      "set ylabel '", metric, "'\nset grid\nset key outside right\nset logscale x 2\n",
      "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
  std::string plots;
  if (parent) {
    absl::StrAppend(&script, "$parent << EOD\n1 ", absl::StrFormat("%.6g", *parent), "\nEOD\n");
    plots = "plot $parent using 1:2 with points pt 3 ps 2 lc rgb '#000000' title 'dense parent'";
  }
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string color = kPlotColors[(i + 1) % kNumPlotColors];
    absl::StrAppend(&script, DataBlock(absl::StrCat("all", i), series[i], false),
                    DataBlock(absl::StrCat("front", i), series[i], true));
    absl::StrAppend(&plots, plots.empty() ? "plot " : ", \\\n     ", "$all", i,
                    " using 1:2:3:4 with xerrorbars pt ", 5 + i, " ps 1.1 lc rgb '", color,
                    "' title ", GnuplotString(series[i].title), ", \\\n     $front", i,
                    " using 1:2 with lines lw 2 lc rgb '", color, "' notitle");
  }
  absl::StrAppend(&script, plots, "\n");
  return RunGnuplotToSvg(script, svg_path, 960, 620);
}

absl::Status PlotGateStatistics(const std::vector<PtbRecord>& runs, const std::string& preset,
                                const std::string& svg_path) {
  std::vector<const PtbRecord*> l0;
  for (const PtbRecord& r : runs) {
    if (r.preset == preset && IsL0Run(r) && r.search && r.search->diagnostics &&
        !r.search->diagnostics->empty()) {
      l0.push_back(&r);
    }
  }
  if (l0.empty()) return absl::OkStatus();
  const int cols = std::min<int>(3, static_cast<int>(l0.size()));
  const int rows = (static_cast<int>(l0.size()) + cols - 1) / cols;
  std::string script = absl::StrCat(
      "set multiplot layout ", rows, ",", cols, " title ",
      GnuplotString(absl::StrCat("PTB, preset ", preset,
                                 ": kept neurons per gate set (z_hat > 0) during the L0 search "
                                 "phase")),
      "\n", "set grid\nset key bottom left\nset xlabel 'search step'\nset ylabel 'kept'\n",
      "set yrange [0:*]\n");
  for (size_t p = 0; p < l0.size(); ++p) {
    const PtbRecord& r = *l0[p];
    // set name -> "step kept" lines, in the order the sets first appear.
    std::vector<std::pair<std::string, std::string>> sets;
    for (const json& d : *r.search->diagnostics) {
      if (!d.contains("gate_sets")) continue;
      for (const json& g : d["gate_sets"]) {
        const std::string name = g.value("set", "?");
        auto it =
            std::find_if(sets.begin(), sets.end(), [&](const auto& s) { return s.first == name; });
        if (it == sets.end()) it = sets.insert(sets.end(), {name, ""});
        absl::StrAppend(&it->second, d.value("step", 0), " ",
                        g.value("size", 0) - g.value("closed", 0), "\n");
      }
    }
    absl::StrAppend(
        &script, "set title ",
        GnuplotString(absl::StrCat(r.method.value_or("?"), " ", r.setting.value_or("?"))), "\n");
    std::string plots;
    for (size_t s = 0; s < sets.size(); ++s) {
      const std::string block = absl::StrCat("$p", p, "s", s);
      absl::StrAppend(&script, block, " << EOD\n", sets[s].second, "EOD\n");
      absl::StrAppend(&plots, plots.empty() ? "plot " : ", ", block,
                      " using 1:2 with lines lw 2 lc rgb '", kPlotColors[(s + 1) % kNumPlotColors],
                      "' title ", GnuplotString(sets[s].first));
    }
    absl::StrAppend(&script, plots.empty() ? "plot 0 notitle" : plots, "\n");
  }
  absl::StrAppend(&script, "unset multiplot\n");
  return RunGnuplotToSvg(script, svg_path, 330 * cols, 260 * rows + 40);
}

}  // namespace rnnprune
