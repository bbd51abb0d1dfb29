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
std::vector<const PtbRecord*> PresetMethodRuns(const std::vector<PtbRecord>& runs,
                                               const std::string& preset) {
  std::vector<const PtbRecord*> out;
  for (const PtbRecord& r : runs) {
    if (r.preset == preset && IsMethodRun(r) && !r.collapsed && !r.failed) out.push_back(&r);
  }
  return out;
}

std::string MethodName(const PtbRecord& r) {
  const std::string m = r.method.value_or("?");
  return absl::StrCat(m == "dense" ? "dense (control)" : m, SweepSuffix(r.provenance.sweep_point));
}

std::string SpeedupText(const PtbRecord& r) {
  std::optional<double> s = LstmB1Speedup(r);
  return s ? absl::StrFormat("%.2fx", *s) : "?";
}

// Test perplexity, or "-" for a run evaluated on valid only (a sweep).
std::string TestText(const PtbRecord& r) {
  return r.test_perplexity ? NumberCell(r.test_perplexity) : "-";
}

std::string SizesText(const std::vector<int64_t>& sizes) {
  return sizes.empty() ? "?" : absl::StrJoin(sizes, " / ");
}

// The run of `method` whose target sizes are `sizes`, or null.
const PtbRecord* RunAtSizes(const std::vector<const PtbRecord*>& runs, const std::string& method,
                            const std::vector<int64_t>& sizes) {
  for (const PtbRecord* r : runs) {
    if (r->method == method && r->target_sizes == sizes) return r;
  }
  return nullptr;
}

// The L0 runs of `runs`, fastest last.
std::vector<const PtbRecord*> L0RunsBySpeed(const std::vector<const PtbRecord*>& runs) {
  std::vector<const PtbRecord*> l0;
  for (const PtbRecord* r : runs) {
    if (IsL0Run(*r)) l0.push_back(r);
  }
  std::stable_sort(l0.begin(), l0.end(), [](const PtbRecord* a, const PtbRecord* b) {
    return LstmB1Speedup(*a).value_or(0) < LstmB1Speedup(*b).value_or(0);
  });
  return l0;
}

// The cell of table (b) for `method` against an L0 run at LSTM speedup `target`.
std::string FastestCell(const std::vector<const PtbRecord*>& runs, const std::string& method,
                        double target) {
  const PtbRecord* best = nullptr;
  double fastest = 0;
  for (const PtbRecord* r : runs) {
    if (r->method != method) continue;
    const double s = LstmB1Speedup(*r).value_or(0);
    fastest = std::max(fastest, s);
    if (s < 0.9 * target || s > 1.1 * target || !r->valid_perplexity) continue;
    if (best == nullptr || *r->valid_perplexity < *best->valid_perplexity) best = r;
  }
  if (best != nullptr) {
    return absl::StrCat(TestText(*best), " (", TextCell(best->setting), ", ", SpeedupText(*best),
                        ")");
  }
  return fastest < 0.9 * target ? "none that fast" : "none within +-10%";
}

}  // namespace

bool IsMethodRun(const PtbRecord& run) { return run.parent_checkpoint.has_value(); }

bool IsL0Run(const PtbRecord& run) {
  return IsMethodRun(run) && (run.method == "l0" || run.method == "l0_speed");
}

std::optional<double> LstmB1Speedup(const PtbRecord& run) {
  std::optional<double> best;
  for (const auto* speedup : {&run.speedup, &run.csr_speedup}) {
    if (!*speedup || !(*speedup)->lstm_b1) continue;
    const double s = *(*speedup)->lstm_b1;
    if (!best || s > *best) best = s;
  }
  return best;
}

std::optional<std::pair<double, double>> LstmB1SpeedupRange(const PtbRecord& run) {
  const std::optional<double> best = LstmB1Speedup(run);
  if (!best) return std::nullopt;
  const std::pair<const std::optional<PtbSpeedupsRecord<double>>*,
                  const std::optional<PtbSpeedupsRecord<std::vector<double>>>*>
      kinds[] = {{&run.speedup, &run.speedup_iqr}, {&run.csr_speedup, &run.csr_speedup_iqr}};
  for (const auto& [speedup, range] : kinds) {
    if (!*speedup || (*speedup)->lstm_b1 != *best || !*range || !(*range)->lstm_b1) continue;
    const std::vector<double>& q = *(*range)->lstm_b1;
    if (q.size() == 2) return std::make_pair(q[0], q[1]);
  }
  return std::nullopt;
}

std::vector<int64_t> KeptSizes(const PtbRecord& run) {
  if (!run.sizes || !run.sizes->input_sizes || !run.sizes->hidden_sizes) return {};
  std::vector<int64_t> sizes = *run.sizes->input_sizes;
  for (int64_t h : *run.sizes->hidden_sizes) sizes.push_back(h);
  return sizes;
}

std::string RenderAtL0Sizes(const std::vector<PtbRecord>& all, const std::string& preset) {
  const std::vector<const PtbRecord*> runs = PresetMethodRuns(all, preset);
  const std::vector<const PtbRecord*> l0 = L0RunsBySpeed(runs);
  if (l0.empty()) return "";
  std::string md = absl::StrCat(
      "| L0 run | kept E / I2 / H1 / H2 | LSTM b1 speedup | L0 valid / test | structured "
      "magnitude valid / test | random valid / test | L0's test ppl is the lowest |\n",
      "|---|---|---|---|---|---|---|\n");
  for (const PtbRecord* r : l0) {
    const std::vector<int64_t> sizes = KeptSizes(*r);
    const PtbRecord* sm = RunAtSizes(runs, "structured_magnitude", sizes);
    const PtbRecord* rnd = RunAtSizes(runs, "random", sizes);
    const auto pair = [](const PtbRecord* x) {
      return x == nullptr ? std::string("-")
                          : absl::StrCat(NumberCell(x->valid_perplexity), " / ", TestText(*x));
    };
    std::string verdict = "-";
    if (r->test_perplexity && (sm != nullptr || rnd != nullptr)) {
      bool lowest = true;
      for (const PtbRecord* x : {sm, rnd}) {
        if (x != nullptr && x->test_perplexity && *x->test_perplexity < *r->test_perplexity) {
          lowest = false;
        }
      }
      verdict = lowest ? "yes" : "no";
    }
    absl::StrAppend(&md, "| ", MethodName(*r), " ", TextCell(r->setting), " | ", SizesText(sizes),
                    " | ", SpeedupText(*r), " | ", pair(r), " | ", pair(sm), " | ", pair(rnd),
                    " | ", verdict, " |\n");
  }
  return md;
}

std::string RenderFastestAtEachL0(const std::vector<PtbRecord>& all, const std::string& preset) {
  const std::vector<const PtbRecord*> runs = PresetMethodRuns(all, preset);
  const std::vector<const PtbRecord*> l0 = L0RunsBySpeed(runs);
  if (l0.empty()) return "";
  std::vector<std::string> methods;
  for (const PtbRecord* r : runs) {
    const std::string m = r->method.value_or("");
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
  }
  std::string md = "| L0 run | LSTM b1 speedup | valid / test ppl |";
  std::string rule = "|---|---|---|";
  for (const std::string& m : methods) {
    absl::StrAppend(&md, " ", m == "dense" ? "dense (control)" : m, " |");
    absl::StrAppend(&rule, "---|");
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (const PtbRecord* r : l0) {
    const double target = LstmB1Speedup(*r).value_or(0);
    absl::StrAppend(&md, "| ", MethodName(*r), " ", TextCell(r->setting), " | ", SpeedupText(*r),
                    " | ", NumberCell(r->valid_perplexity), " / ", TestText(*r), " |");
    for (const std::string& m : methods) {
      absl::StrAppend(&md, " ",
                      r->method == m ? std::string("(this method)") : FastestCell(runs, m, target),
                      " |");
    }
    absl::StrAppend(&md, "\n");
  }
  return md;
}

std::string RenderStepCost(const std::vector<PtbRecord>& all, const std::string& preset) {
  const std::vector<const PtbRecord*> runs = PresetMethodRuns(all, preset);
  double control = 0;
  for (const PtbRecord* r : runs) {
    if (r->method == "dense" && r->search) control = r->search->tokens_per_second.value_or(0.0);
  }
  std::string md =
      "| method | setting | search steps | search tokens/s | step cost / dense control's | "
      "recovery "
      "tokens/s |\n|---|---|---|---|---|---|\n";
  bool any = false;
  for (const PtbRecord* r : runs) {
    if (!r->search || !r->protocol) continue;
    any = true;
    const double tps = r->search->tokens_per_second.value_or(0.0);
    const std::optional<int64_t> search_steps =
        r->protocol->search ? r->protocol->search->steps : std::nullopt;
    absl::StrAppend(
        &md, "| ", MethodName(*r), " | ", TextCell(r->setting), " | ", TextCell(search_steps),
        r->structure_fixed_at_start.value_or(false) ? " (compacted model)" : "", " | ",
        absl::StrFormat("%.0f", tps), " | ",
        control > 0 ? absl::StrFormat("%.2fx", control / std::max(tps, 1e-9)) : "?", " | ",
        NumberCell(r->recovery ? r->recovery->tokens_per_second : std::nullopt, "%.0f"), " |\n");
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
