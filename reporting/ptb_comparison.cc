#include "reporting/ptb_comparison.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reporting/format.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// The finished method runs of `preset` (collapsed and failed ones have no model to compare).
std::vector<const json*> PresetMethodRuns(const std::vector<json>& runs,
                                          const std::string& preset) {
  std::vector<const json*> out;
  for (const json& r : runs) {
    if (r.value("preset", "") == preset && IsMethodRun(r) && !r.contains("collapsed") &&
        !r.contains("failed")) {
      out.push_back(&r);
    }
  }
  return out;
}

std::string MethodName(const json& r) {
  const std::string m = r.value("method", "?");
  return m == "dense" ? "dense (control)" : m;
}

std::string SpeedupText(const json& r) {
  std::optional<double> s = LstmB1Speedup(r);
  return s ? absl::StrFormat("%.2fx", *s) : "?";
}

// Test perplexity, or "-" for a run evaluated on valid only (a sweep).
std::string TestText(const json& r) {
  return r.contains("test_perplexity") ? FieldNumber(r, "test_perplexity") : "-";
}

std::string SizesText(const std::vector<int64_t>& sizes) {
  return sizes.empty() ? "?" : absl::StrJoin(sizes, " / ");
}

// The run of `method` whose target sizes are `sizes`, or null.
const json* RunAtSizes(const std::vector<const json*>& runs, const std::string& method,
                       const std::vector<int64_t>& sizes) {
  for (const json* r : runs) {
    if (r->value("method", "") == method && r->contains("target_sizes") &&
        (*r)["target_sizes"].get<std::vector<int64_t>>() == sizes) {
      return r;
    }
  }
  return nullptr;
}

double Number(const json& r, const char* key) {
  return r.contains(key) && r[key].is_number() ? r[key].get<double>() : 0.0;
}

// The L0 runs of `runs`, fastest last.
std::vector<const json*> L0RunsBySpeed(const std::vector<const json*>& runs) {
  std::vector<const json*> l0;
  for (const json* r : runs) {
    if (IsL0Run(*r)) l0.push_back(r);
  }
  std::stable_sort(l0.begin(), l0.end(), [](const json* a, const json* b) {
    return LstmB1Speedup(*a).value_or(0) < LstmB1Speedup(*b).value_or(0);
  });
  return l0;
}

// The cell of table (b) for `method` against an L0 run at LSTM speedup `target`.
std::string FastestCell(const std::vector<const json*>& runs, const std::string& method,
                        double target) {
  const json* best = nullptr;
  double fastest = 0;
  for (const json* r : runs) {
    if (r->value("method", "") != method) continue;
    const double s = LstmB1Speedup(*r).value_or(0);
    fastest = std::max(fastest, s);
    if (s < 0.9 * target || s > 1.1 * target || !r->contains("valid_perplexity")) continue;
    if (best == nullptr || Number(*r, "valid_perplexity") < Number(*best, "valid_perplexity")) {
      best = r;
    }
  }
  if (best != nullptr) {
    return absl::StrCat(TestText(*best), " (", FieldText(*best, "setting"), ", ",
                        SpeedupText(*best), ")");
  }
  return fastest < 0.9 * target ? "none that fast" : "none within +-10%";
}

}  // namespace

bool IsMethodRun(const json& run) { return run.contains("parent_checkpoint"); }

bool IsL0Run(const json& run) {
  const std::string m = run.value("method", "");
  return IsMethodRun(run) && (m == "l0" || m == "l0_speed");
}

std::optional<double> LstmB1Speedup(const json& run) {
  std::optional<double> best;
  for (const char* key : {"speedup", "csr_speedup"}) {
    if (!run.contains(key) || !run[key].contains("lstm_b1") || !run[key]["lstm_b1"].is_number()) {
      continue;
    }
    const double s = run[key]["lstm_b1"].get<double>();
    if (!best || s > *best) best = s;
  }
  return best;
}

std::optional<std::pair<double, double>> LstmB1SpeedupRange(const json& run) {
  const std::optional<double> best = LstmB1Speedup(run);
  if (!best) return std::nullopt;
  for (const char* key : {"speedup", "csr_speedup"}) {
    const std::string range_key = absl::StrCat(key, "_iqr");
    if (!run.contains(key) || !run[key].contains("lstm_b1") || !run[key]["lstm_b1"].is_number() ||
        run[key]["lstm_b1"].get<double>() != *best || !run.contains(range_key)) {
      continue;
    }
    const json& range = run[range_key].value("lstm_b1", json());
    if (range.is_array() && range.size() == 2 && range[0].is_number() && range[1].is_number()) {
      return std::make_pair(range[0].get<double>(), range[1].get<double>());
    }
  }
  return std::nullopt;
}

std::vector<int64_t> KeptSizes(const json& run) {
  if (!run.contains("sizes") || !run["sizes"].contains("input_sizes") ||
      !run["sizes"].contains("hidden_sizes")) {
    return {};
  }
  std::vector<int64_t> sizes = run["sizes"]["input_sizes"].get<std::vector<int64_t>>();
  for (int64_t h : run["sizes"]["hidden_sizes"].get<std::vector<int64_t>>()) sizes.push_back(h);
  return sizes;
}

std::string RenderAtL0Sizes(const std::vector<json>& all, const std::string& preset) {
  const std::vector<const json*> runs = PresetMethodRuns(all, preset);
  const std::vector<const json*> l0 = L0RunsBySpeed(runs);
  if (l0.empty()) return "";
  std::string md = absl::StrCat(
      "| L0 run | kept E / I2 / H1 / H2 | LSTM b1 speedup | L0 valid / test | structured "
      "magnitude valid / test | random valid / test | L0's test ppl is the lowest |\n",
      "|---|---|---|---|---|---|---|\n");
  for (const json* r : l0) {
    const std::vector<int64_t> sizes = KeptSizes(*r);
    const json* sm = RunAtSizes(runs, "structured_magnitude", sizes);
    const json* rnd = RunAtSizes(runs, "random", sizes);
    const auto pair = [](const json* x) {
      return x == nullptr ? std::string("-")
                          : absl::StrCat(FieldNumber(*x, "valid_perplexity"), " / ", TestText(*x));
    };
    std::string verdict = "-";
    if (r->contains("test_perplexity") && (sm != nullptr || rnd != nullptr)) {
      bool lowest = true;
      for (const json* x : {sm, rnd}) {
        if (x != nullptr && x->contains("test_perplexity") &&
            Number(*x, "test_perplexity") < Number(*r, "test_perplexity")) {
          lowest = false;
        }
      }
      verdict = lowest ? "yes" : "no";
    }
    absl::StrAppend(&md, "| ", MethodName(*r), " ", FieldText(*r, "setting"), " | ",
                    SizesText(sizes), " | ", SpeedupText(*r), " | ", pair(r), " | ", pair(sm),
                    " | ", pair(rnd), " | ", verdict, " |\n");
  }
  return md;
}

std::string RenderFastestAtEachL0(const std::vector<json>& all, const std::string& preset) {
  const std::vector<const json*> runs = PresetMethodRuns(all, preset);
  const std::vector<const json*> l0 = L0RunsBySpeed(runs);
  if (l0.empty()) return "";
  std::vector<std::string> methods;
  for (const json* r : runs) {
    const std::string m = r->value("method", "");
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
  }
  std::string md = "| L0 run | LSTM b1 speedup | valid / test ppl |";
  std::string rule = "|---|---|---|";
  for (const std::string& m : methods) {
    absl::StrAppend(&md, " ", m == "dense" ? "dense (control)" : m, " |");
    absl::StrAppend(&rule, "---|");
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (const json* r : l0) {
    const double target = LstmB1Speedup(*r).value_or(0);
    absl::StrAppend(&md, "| ", MethodName(*r), " ", FieldText(*r, "setting"), " | ",
                    SpeedupText(*r), " | ", FieldNumber(*r, "valid_perplexity"), " / ",
                    TestText(*r), " |");
    for (const std::string& m : methods) {
      absl::StrAppend(
          &md, " ",
          m == r->value("method", "") ? std::string("(this method)") : FastestCell(runs, m, target),
          " |");
    }
    absl::StrAppend(&md, "\n");
  }
  return md;
}

std::string RenderStepCost(const std::vector<json>& all, const std::string& preset) {
  const std::vector<const json*> runs = PresetMethodRuns(all, preset);
  double control = 0;
  for (const json* r : runs) {
    if (r->value("method", "") == "dense" && r->contains("search")) {
      control = Number((*r)["search"], "tokens_per_second");
    }
  }
  std::string md =
      "| method | setting | search steps | search tokens/s | step cost / dense control's | "
      "recovery "
      "tokens/s |\n|---|---|---|---|---|---|\n";
  bool any = false;
  for (const json* r : runs) {
    if (!r->contains("search") || !r->contains("protocol")) continue;
    any = true;
    const double tps = Number((*r)["search"], "tokens_per_second");
    absl::StrAppend(&md, "| ", MethodName(*r), " | ", FieldText(*r, "setting"), " | ",
                    FieldText((*r)["protocol"]["search"], "steps"),
                    r->value("structure_fixed_at_start", false) ? " (compacted model)" : "", " | ",
                    absl::StrFormat("%.0f", tps), " | ",
                    control > 0 ? absl::StrFormat("%.2fx", control / std::max(tps, 1e-9)) : "?",
                    " | ", FieldNumber((*r)["recovery"], "tokens_per_second", "%.0f"), " |\n");
  }
  return any ? md : "";
}

std::vector<size_t> ParetoFront(const std::vector<std::pair<double, double>>& points) {
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Fastest first; among equally fast, the lowest perplexity first.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].first != points[b].first) return points[a].first > points[b].first;
    return points[a].second < points[b].second;
  });
  std::vector<size_t> front;
  double best_y = 0;
  for (size_t i : order) {
    if (front.empty() || points[i].second < best_y) {
      front.push_back(i);
      best_y = points[i].second;
    }
  }
  std::reverse(front.begin(), front.end());
  return front;
}

}  // namespace rnnprune
