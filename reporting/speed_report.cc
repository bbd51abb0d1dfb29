#include "reporting/speed_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "reporting/gnuplot.h"
#include "reporting/published.h"
#include "reporting/speed_record.h"

namespace rnnprune {
namespace {

using nlohmann::json;

const char* const kModes[] = {"b1_seq", "b1_token", "b20"};
const char* const kScopes[] = {"lstm", "model"};
const char* const kModeTitle[] = {"batch 1, whole sequence", "batch 1, token by token", "batch 20"};

template <class T>
const std::vector<T>& Listed(const std::optional<std::vector<T>>& list) {
  static const std::vector<T>* const kEmpty = new std::vector<T>();
  return list ? *list : *kEmpty;
}

const std::vector<SpeedRunRecord>& Runs(const SpeedRecord& doc) { return Listed(doc.runs); }
const std::vector<SpeedShapeRecord>& Shapes(const SpeedRecord& doc) { return Listed(doc.shapes); }
const std::vector<SpeedEngineRecord>& Engines(const SpeedRecord& doc) {
  return Listed(doc.engines);
}

std::string DefaultEngine(const SpeedRecord& doc) { return doc.default_engine.value_or("blas"); }

// The machine's thread counts, in the order measured.
std::vector<int64_t> ThreadCounts(const SpeedRecord& doc) {
  return doc.machine ? doc.machine->threads.value_or(std::vector<int64_t>{})
                     : std::vector<int64_t>{};
}

int MaxThreads(const SpeedRecord& doc) {
  int64_t t = 1;
  for (const SpeedRunRecord& r : Runs(doc)) t = std::max(t, r.threads.value_or(1));
  return static_cast<int>(t);
}

const SpeedRunRecord* FindRun(const SpeedRecord& doc, const std::string& shape,
                              const std::string& engine, const std::string& scope,
                              const std::string& mode, int threads) {
  for (const SpeedRunRecord& r : Runs(doc)) {
    if (r.shape == shape && r.engine == engine && r.scope == scope && r.mode == mode &&
        r.threads == threads) {
      return &r;
    }
  }
  return nullptr;
}

bool IsSparseEngine(const SpeedRecord& doc, const std::string& engine) {
  for (const SpeedEngineRecord& e : Engines(doc)) {
    if (e.name == engine) return e.sparse.value_or(false);
  }
  return false;
}

// Engines that ran `shape`, in the document's engine order.
std::vector<std::string> EnginesOf(const SpeedRecord& doc, const std::string& shape) {
  std::vector<std::string> out;
  for (const SpeedEngineRecord& e : Engines(doc)) {
    const std::string name = e.name.value_or("");
    for (const SpeedRunRecord& r : Runs(doc)) {
      if (r.shape == shape && r.engine == name) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

double Ms(const SpeedRunRecord* r) { return r == nullptr ? NAN : r->ms_per_token.value_or(NAN); }

std::string Fmt(double v, const char* fmt = "%.3g") {
  return std::isnan(v) ? "-" : absl::StrFormat(fmt, v);
}

// "1.23x [1.18, 1.29]": the speedup parent / pruned (ratio of the medians), with the range of
// ratios the two interquartile ranges allow ([parent q1 / pruned q3, parent q3 / pruned q1]: the
// repetitions of two benchmarks are not paired) where both runs recorded one; "-" when either
// run is missing.
// [q1, q3] of run `r`'s repetitions (ms per token); nullopt when it recorded none.
std::optional<std::pair<double, double>> Quartiles(const SpeedRunRecord* r) {
  if (r == nullptr || !r->ms_per_token_iqr || r->ms_per_token_iqr->size() != 2) {
    return std::nullopt;
  }
  return std::make_pair((*r->ms_per_token_iqr)[0], (*r->ms_per_token_iqr)[1]);
}

std::string SpeedupCell(const SpeedRunRecord* parent, const SpeedRunRecord* pruned) {
  const double v = Ms(parent) / Ms(pruned);
  std::string cell = absl::StrCat(Fmt(v, "%.2f"), std::isnan(v) ? "" : "x");
  auto iqr = [](const SpeedRunRecord* r) -> std::optional<std::pair<double, double>> {
    std::optional<std::pair<double, double>> q = Quartiles(r);
    if (!q || !(q->first > 0)) return std::nullopt;
    return q;
  };
  const auto p = iqr(parent), q = iqr(pruned);
  if (!std::isnan(v) && p && q) {
    absl::StrAppend(&cell,
                    absl::StrFormat(" [%.2f, %.2f]", p->first / q->second, p->second / q->first));
  }
  return cell;
}

// " ±2.1%": half the interquartile range of run `r`'s repetitions relative to its median; "" when
// it recorded none.
std::string SpreadText(const SpeedRunRecord* r) {
  const std::optional<std::pair<double, double>> q = Quartiles(r);
  if (!q || !(Ms(r) > 0)) return "";
  return absl::StrFormat(" ±%.1f%%", 50 * (q->second - q->first) / Ms(r));
}

// Speedup of `shape` over its parent, both run by `engine` (NaN when either is missing).
double SpeedupOverParent(const SpeedRecord& doc, const SpeedShapeRecord& shape,
                         const std::string& engine, const std::string& scope,
                         const std::string& mode, int threads) {
  return Ms(FindRun(doc, shape.parent.value_or(""), engine, scope, mode, threads)) /
         Ms(FindRun(doc, shape.name.value_or(""), engine, scope, mode, threads));
}

}  // namespace

std::vector<SpeedBar> EvaluateSpeedBars(const SpeedRecord& doc) {
  std::vector<SpeedBar> bars;
  const int t = MaxThreads(doc);
  const std::string def = DefaultEngine(doc);
  const std::string threads = absl::StrCat(t, " thread", t == 1 ? "" : "s");
  if (const SpeedRunRecord* r = FindRun(doc, "zaremba_large", def, "lstm", "b1_token", t);
      r != nullptr && r->ratio_to_bound) {
    const double v = *r->ratio_to_bound;
    bars.push_back({"default engine within 1.3x of the roofline bound (dense large)",
                    absl::StrCat("zaremba_large, lstm, b1_token, ", threads), v, "<= 1.3",
                    v <= 1.3});
  }
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    const std::string name = s.name.value_or("");
    const SpeedRunRecord* r = FindRun(doc, name, def, "lstm", "b1_token", t);
    if (r == nullptr || r->level != "L3" || !r->ratio_to_bound) continue;
    const double v = *r->ratio_to_bound;
    bars.push_back({"default engine within 2x of the roofline bound (cache-resident shape)",
                    absl::StrCat(name, ", lstm, b1_token, ", threads), v, "<= 2", v <= 2.0});
  }
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    const std::string name = s.name.value_or("");
    if (s.sparsity.value_or(0.0) > 0.0) continue;
    for (const char* scope : kScopes) {
      for (const char* mode : kModes) {
        const double torch = Ms(FindRun(doc, name, "torch", scope, mode, t));
        const double ours = Ms(FindRun(doc, name, def, scope, mode, t));
        if (std::isnan(torch) || std::isnan(ours)) continue;
        const double v = torch / ours;
        const bool b20 = std::string(mode) == "b20";
        bars.push_back({b20 ? "default engine not slower than LibTorch at batch 20"
                            : "default engine at least 2x faster than LibTorch at batch 1",
                        absl::StrCat(name, ", ", scope, ", ", mode, ", ", threads), v,
                        b20 ? ">= 1" : ">= 2", b20 ? v >= 1.0 : v >= 2.0});
      }
    }
  }
  return bars;
}

namespace {

// The title, provenance, protocol and the modes' legend.
void AppendHeader(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  const SpeedMachineRecord m = doc.machine.value_or(SpeedMachineRecord());
  std::string& md = *out;
  const std::string coretype = m.openblas_coretype.value_or("");
  md += absl::StrCat(
      "# Inference speed: engines, pruned shapes and the roofline\n\n",
      "Generated from `reports/results/speed_", preset, ".json`, written by `",
      m.command.value_or("?"), "` (preset `", preset,
      "`). Re-render without measuring: `bazel run -c opt //benchmarks:all -- --tasks=speed "
      "--preset=",
      preset, " --render_only`. Do not edit by hand.\n\n");
  absl::StrAppend(
      &md, "| | |\n|---|---|\n", "| git commit | `", m.git_commit.value_or("?"), "` |\n",
      "| when (UTC) | ", m.timestamp_utc.value_or("?"), " |\n", "| machine | ",
      m.cpu_model.value_or("?"), ", ", m.logical_cpus.value_or(0), " logical CPUs, L3 ",
      Fmt(static_cast<double>(m.l3_bytes.value_or(0)) / (1 << 20), "%.0f"), " MiB, host `",
      m.hostname.value_or("?"), "` |\n", "| BLAS | ", m.blas_config.value_or("?"), "; kernel `",
      m.blas_corename.value_or("?"), "`; OPENBLAS_CORETYPE ",
      coretype.empty() ? std::string("unset (OpenBLAS picks the kernel for the CPU)")
                       : absl::StrCat("`", coretype, "`"),
      " |\n", "| threads | ", absl::StrJoin(ThreadCounts(doc), ", "),
      " (OpenMP, shared by OpenBLAS, oneDNN, LibTorch and Eigen) |\n",
      "| protocol | Google Benchmark, real time, at least ", m.min_time.value_or(0.0),
      " s per benchmark; one iteration = one sequence of ", m.steps_per_sequence.value_or(35),
      " tokens per batch element, state carried; random weights and token ids (seed ",
      m.seed.value_or(0), ") |\n\n");
  absl::StrAppend(&md,
                  "Modes: **b1_seq** = batch 1, 35 tokens per call (the input projection can be "
                  "one GEMM); **b1_token** = batch 1, one token per call (generation, streaming); "
                  "**b20** = batch 20, 35 tokens per call (throughput). Scopes: **lstm** = "
                  "embedding lookup + LSTM stack; **model** = the same plus the decoder's logits. "
                  "Timings on a shared or virtual machine vary between runs: compare engines and "
                  "shapes within one run. The triad is a read-read-write stream, so an engine "
                  "that only reads its weights can beat the bound a little (ratios below 1x), and "
                  "weights that fit in a core's L2 are bounded here by L3 bandwidth.\n\n");
}

// The engines and the fastest dense engine of each regime against the default.
void AppendEngines(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  const int t_max = MaxThreads(doc);
  const std::string def = DefaultEngine(doc);
  // Engines.
  absl::StrAppend(&md, "## Engines\n\n| engine | what it is |\n|---|---|\n");
  for (const SpeedEngineRecord& e : Engines(doc)) {
    absl::StrAppend(&md, "| `", e.name.value_or(""), "`", e.name == def ? " (default)" : "", " | ",
                    e.description.value_or(""), " |\n");
  }
  // Fastest dense engine per regime (batch 1: b1_seq and b1_token; batch 20): geometric mean of
  // its speedup over torch across dense shapes and both scopes at t_max. The composite default
  // (auto) is left out of the race: it is made of the others.
  absl::StrAppend(&md,
                  "\nGeometric-mean speedup over `torch` across every dense shape and both "
                  "scopes, ",
                  t_max, " threads:\n\n| regime | ");
  std::vector<std::string> candidates;
  for (const SpeedEngineRecord& e : Engines(doc)) {
    const std::string name = e.name.value_or("");
    if (!e.sparse.value_or(false) && name != def) candidates.push_back(name);
  }
  absl::StrAppend(&md,
                  absl::StrJoin(candidates, " | ",
                                [](std::string* out, const std::string& e) {
                                  absl::StrAppend(out, "`", e, "`");
                                }),
                  " | fastest | the default uses |\n|---|");
  for (size_t i = 0; i <= candidates.size(); ++i) absl::StrAppend(&md, "---|");
  absl::StrAppend(&md, "---|\n");
  const SpeedRegimesRecord regimes = doc.default_engine_regimes.value_or(SpeedRegimesRecord());
  bool consistent = true;
  for (const auto& [regime, modes] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"batch_1", {"b1_seq", "b1_token"}}, {"batch_20", {"b20"}}}) {
    absl::StrAppend(&md, "| ", regime == "batch_1" ? "batch 1" : "batch 20");
    std::string fastest;
    double best = 0;
    for (const std::string& e : candidates) {
      double log_sum = 0;
      int n = 0;
      for (const SpeedShapeRecord& s : Shapes(doc)) {
        if (s.sparsity.value_or(0.0) > 0.0) continue;
        const std::string name = s.name.value_or("");
        for (const char* scope : kScopes) {
          for (const std::string& mode : modes) {
            const double v = Ms(FindRun(doc, name, "torch", scope, mode, t_max)) /
                             Ms(FindRun(doc, name, e, scope, mode, t_max));
            if (std::isnan(v) || v <= 0) continue;
            log_sum += std::log(v);
            ++n;
          }
        }
      }
      const double g = n > 0 ? std::exp(log_sum / n) : NAN;
      absl::StrAppend(&md, " | ", Fmt(g, "%.2f"), "x");
      if (!std::isnan(g) && g > best) best = g, fastest = e;
    }
    const std::string uses =
        (regime == "batch_1" ? regimes.batch_1 : regimes.batch_20).value_or(std::string());
    consistent = consistent && (fastest.empty() || uses == fastest);
    absl::StrAppend(&md, " | `", fastest, "` | `", uses, "` |\n");
  }
  absl::StrAppend(&md, "\nThe default engine `", def, "` runs the engine in the last column. ",
                  consistent ? "In this run it is the fastest of each regime."
                             : "**In this run it is not the fastest of every regime** (see the "
                               "fastest column): the default was chosen on earlier runs, and "
                               "timings on a shared machine vary between runs.",
                  "\n\n");
}

// The machine's measured limits (triad bandwidths, sgemm peak).
void AppendMachineLimits(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  // Machine limits.
  absl::StrAppend(&md,
                  "## Machine limits\n\n| threads | triad, DRAM (GB/s) | triad, L3 (GB/s) "
                  "| sgemm peak (GFLOP/s) |\n|---|---|---|---|\n");
  for (int64_t t : ThreadCounts(doc)) {
    std::map<std::string, double> v;
    for (const SpeedLimitRecord& l : Listed(doc.limits)) {
      if (l.threads.value_or(0) != t) continue;
      v[l.kind.value_or("")] = l.gflops ? *l.gflops : l.gbytes_per_s.value_or(NAN);
    }
    auto get = [&](const char* k) { return v.count(k) ? v[k] : NAN; };
    absl::StrAppend(&md, "| ", t, " | ", Fmt(get("triad_dram"), "%.1f"), " | ",
                    Fmt(get("triad_l3"), "%.1f"), " | ", Fmt(get("sgemm"), "%.1f"), " |\n");
  }
  absl::StrAppend(&md,
                  "\nTriad: a[i] = b[i] + s c[i], 12 bytes per element (STREAM's count). "
                  "sgemm: 2048^3 through the BLAS above.\n\n");
}

// The bars of the speed issue, measured (never asserted in tests).
void AppendBars(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  // Bars.
  absl::StrAppend(&md, "## Bars of the speed issue (measured here, not asserted in tests)\n\n",
                  "| bar | configuration | measured | needed | met |\n|---|---|---|---|---|\n");
  int met = 0;
  const std::vector<SpeedBar> bars = EvaluateSpeedBars(doc);
  for (const SpeedBar& b : bars) {
    met += b.met;
    absl::StrAppend(&md, "| ", b.bar, " | ", b.subject, " | ", Fmt(b.measured, "%.2f"), "x | ",
                    b.limit, " | ", b.met ? "yes" : "**no**", " |\n");
  }
  absl::StrAppend(&md, "\n", met, " of ", bars.size(), " bars met.\n\n");
}

// Speedups of the pruned shapes over their dense parents, same engine.
void AppendPrunedSpeedups(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  const int t_max = MaxThreads(doc);
  const std::string def = DefaultEngine(doc);
  // Speedups of pruned shapes over their parents, same engine.
  absl::StrAppend(&md, "## Speedup of each pruned model over its dense parent, same engine\n\n",
                  t_max, " threads; plot: `speed_", preset,
                  ".svg` (default engine; CSR shapes: the CSR "
                  "engine against the default dense engine on the parent). Each speedup is the "
                  "ratio of the medians; in brackets, where recorded, the range of ratios the two "
                  "interquartile ranges allow.\n\n| pruned shape | "
                  "sizes | engine | lstm b1_seq | lstm "
                  "b1_token | lstm b20 | model b1_seq | model b1_token | model b20 |\n"
                  "|---|---|---|---|---|---|---|---|---|\n");
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    const std::string parent = s.parent.value_or(""), name = s.name.value_or("");
    if (parent.empty()) continue;
    const double sparsity = s.sparsity.value_or(0.0);
    const json c = s.config.value_or(json::object());
    std::string sizes =
        sparsity > 0
            ? absl::StrFormat("%.0f%% sparse LSTM", 100 * sparsity)
            : absl::StrCat("E ", c.value("embedding_size", 0), ", H ",
                           absl::StrJoin(c.value("hidden_sizes", std::vector<int64_t>{}), "/"));
    for (const std::string& e : EnginesOf(doc, name)) {
      if (IsSparseEngine(doc, e)) continue;  // compared with the dense parent below
      absl::StrAppend(&md, "| ", name, " | ", sizes, " | `", e, "`");
      for (const char* scope : kScopes) {
        for (const char* mode : kModes) {
          absl::StrAppend(&md, " | ",
                          SpeedupCell(FindRun(doc, parent, e, scope, mode, t_max),
                                      FindRun(doc, name, e, scope, mode, t_max)));
        }
      }
      absl::StrAppend(&md, " |\n");
    }
    if (sparsity > 0) {  // against the default dense engine as well
      const std::vector<std::string> engines = EnginesOf(doc, name);
      const std::string sparse_engine = engines.empty() ? std::string("csr") : engines[0];
      absl::StrAppend(&md, "| ", name, " | ", sizes, " | `", sparse_engine, "` vs `", def,
                      "` on the parent");
      for (const char* scope : kScopes) {
        for (const char* mode : kModes) {
          absl::StrAppend(&md, " | ",
                          SpeedupCell(FindRun(doc, parent, def, scope, mode, t_max),
                                      FindRun(doc, name, sparse_engine, scope, mode, t_max)));
        }
      }
      absl::StrAppend(&md, " |\n");
    }
  }
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    if (s.also && !s.also->empty()) {
      absl::StrAppend(&md, "\n", s.name.value_or(""),
                      " has the sizes of: ", absl::StrJoin(*s.also, ", "), ".");
    }
  }
  absl::StrAppend(&md, "\n\nPublished figures (not ours; other machines and code):\n\n");
  for (const PublishedPruningResult& p : kPruningPublished) {
    absl::StrAppend(&md, "- ", p.method, ", ", p.model, ": ", p.result, ". Source: ", p.source,
                    ".\n");
  }
}

// Every measurement, one table per thread count.
void AppendEveryMeasurement(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  for (int64_t t64 : ThreadCounts(doc)) {
    const int t = static_cast<int>(t64);
    absl::StrAppend(&md, "\n## Every measurement, ", t, " thread", t == 1 ? "" : "s",
                    "\n\nms per token: the median of the repetitions, ± half their "
                    "interquartile range where recorded (ratio to the roofline bound).\n\n| shape "
                    "| engine | lstm "
                    "b1_seq | lstm b1_token | lstm b20 | model b1_seq | model b1_token | model "
                    "b20 |\n|---|---|---|---|---|---|---|---|\n");
    for (const SpeedShapeRecord& s : Shapes(doc)) {
      const std::string name = s.name.value_or("");
      for (const std::string& e : EnginesOf(doc, name)) {
        absl::StrAppend(&md, "| ", name, " | `", e, "`");
        for (const char* scope : kScopes) {
          for (const char* mode : kModes) {
            const SpeedRunRecord* r = FindRun(doc, name, e, scope, mode, t);
            absl::StrAppend(&md, " | ", Fmt(Ms(r), "%.4g"), SpreadText(r));
            if (r != nullptr && r->ratio_to_bound) {
              absl::StrAppend(&md, " (", Fmt(*r->ratio_to_bound, "%.2f"), "x)");
            }
          }
        }
        absl::StrAppend(&md, " |\n");
      }
    }
  }
}

// The roofline bounds at the largest thread count.
void AppendRoofline(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  const int t_max = MaxThreads(doc);
  // Roofline bounds.
  absl::StrAppend(&md, "\n## Roofline bounds, ", t_max, " threads\n\n",
                  "Bound per token = max(weight bytes per token / triad bandwidth of the level "
                  "holding the weights, FLOPs per token / sgemm peak). Weight bytes per token: "
                  "every weight once per token for b1_token; W_hh once per step and W_ih, biases "
                  "and decoder once per call for b1_seq and b20; CSR counts 8 bytes per non-zero "
                  "plus row offsets. benchmarks/speed_suite.h has the rules.\n\n",
                  "| shape | engine kind | scope | level | MFLOP/token | KB/token b1_seq | "
                  "KB/token b1_token | KB/token b20 | bound ms b1_seq | bound ms b1_token | bound "
                  "ms b20 |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    const std::string name = s.name.value_or("");
    std::set<bool> kinds;
    for (const std::string& e : EnginesOf(doc, name)) {
      const bool sparse = IsSparseEngine(doc, e);
      if (!kinds.insert(sparse).second) continue;
      for (const char* scope : kScopes) {
        const SpeedRunRecord* rs[3];
        for (int i = 0; i < 3; ++i) rs[i] = FindRun(doc, name, e, scope, kModes[i], t_max);
        if (rs[1] == nullptr) continue;
        absl::StrAppend(&md, "| ", name, " | ", sparse ? "CSR" : "dense", " | ", scope, " | ",
                        rs[1]->level.value_or(""), " | ",
                        Fmt(rs[1]->flops_per_token.value_or(NAN) / 1e6, "%.3g"));
        for (int i = 0; i < 3; ++i) {
          absl::StrAppend(&md, " | ",
                          Fmt(rs[i] ? rs[i]->bytes_per_token.value_or(NAN) / 1e3 : NAN, "%.4g"));
        }
        for (int i = 0; i < 3; ++i) {
          absl::StrAppend(&md, " | ",
                          Fmt(rs[i] ? rs[i]->bound_ms_per_token.value_or(NAN) : NAN, "%.3g"));
        }
        absl::StrAppend(&md, " |\n");
      }
    }
  }
}

// The shapes measured and the document's notes.
void AppendShapesAndNotes(const SpeedRecord& doc, const std::string& preset, std::string* out) {
  std::string& md = *out;
  absl::StrAppend(&md, "\n## Shapes\n\n| shape | source | parameters (config) |\n|---|---|---|\n");
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    absl::StrAppend(&md, "| ", s.name.value_or(""), " | ", s.source.value_or(""), " | `",
                    s.config ? s.config->dump() : std::string("null"), "` |\n");
  }
  if (!Listed(doc.notes).empty()) {
    absl::StrAppend(&md, "\n## Notes\n\n");
    for (const std::string& n : *doc.notes) absl::StrAppend(&md, "- ", n, "\n");
  }
}

}  // namespace

std::string RenderSpeedReport(const SpeedRecord& doc, const std::string& preset) {
  std::string md;
  AppendHeader(doc, preset, &md);
  AppendEngines(doc, preset, &md);
  AppendMachineLimits(doc, preset, &md);
  AppendBars(doc, preset, &md);
  AppendPrunedSpeedups(doc, preset, &md);
  AppendEveryMeasurement(doc, preset, &md);
  AppendRoofline(doc, preset, &md);
  AppendShapesAndNotes(doc, preset, &md);
  return md;
}

absl::Status WriteSpeedReportFiles(const SpeedRecord& doc, const std::string& preset,
                                   const std::string& reports_dir) {
  RETURN_IF_ERROR(MakeDirs(reports_dir + "/results"));
  RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(reports_dir, "/results/speed_", preset, ".json"),
                                      doc.ToJson().dump(1) + "\n"));
  // Plot: clusters = pruned shapes, series = scope x mode, default engine (CSR engine for sparse
  // shapes), at the largest thread count.
  const int t_max = MaxThreads(doc);
  const std::string def = DefaultEngine(doc);
  std::string data;
  int rows = 0;
  for (const SpeedShapeRecord& s : Shapes(doc)) {
    const std::string parent = s.parent.value_or(""), name = s.name.value_or("");
    if (parent.empty()) continue;
    std::vector<std::string> engines = EnginesOf(doc, name);
    const bool sparse = s.sparsity.value_or(0.0) > 0.0;
    const std::string engine = sparse && !engines.empty() ? engines[0] : def;
    // A data-block string: a '"' or a line break in a shape name would end it.
    absl::StrAppend(&data, "\"", absl::StrReplaceAll(name, {{"\"", "'"}, {"\n", " "}}), "\"");
    for (const char* scope : kScopes) {
      for (const char* mode : kModes) {
        // Sparse shapes: the CSR engine against the default dense engine on the parent.
        const double v = sparse ? Ms(FindRun(doc, parent, def, scope, mode, t_max)) /
                                      Ms(FindRun(doc, name, engine, scope, mode, t_max))
                                : SpeedupOverParent(doc, s, engine, scope, mode, t_max);
        absl::StrAppend(&data, " ", std::isnan(v) ? std::string("NaN") : absl::StrCat(v));
      }
    }
    absl::StrAppend(&data, "\n");
    ++rows;
  }
  if (rows > 0) {
    std::string script = absl::StrCat(
        "set title ",
        GnuplotString(absl::StrCat("Speedup of each pruned model over its dense parent (", def,
                                   " engine; CSR shapes: csr engine against ", def,
                                   " on the parent), ", t_max, " threads")),
        "\n", "set style data histograms\nset style histogram clustered gap 1\n",
        "set style fill solid 0.9 border -1\nset boxwidth 0.9\nset logscale y 2\n",
        "set ylabel 'speedup (log scale)'\nset grid ytics\nset key outside right\n",
        "set xtics rotate by -30\nset yrange [0.1:*]\n$d << EOD\n", data, "EOD\n");
    std::string plots;
    int col = 2, i = 0;
    for (const char* scope : kScopes) {
      for (int k = 0; k < 3; ++k) {
        absl::StrAppend(&plots, plots.empty() ? "plot " : ", ", "$d using ", col++,
                        (i == 0 ? ":xtic(1)" : ""), " lc rgb '", kPlotColors[1 + i], "' title '",
                        scope, ", ", kModeTitle[k], "'");
        ++i;
      }
    }
    absl::StrAppend(&script, plots, ", 1 with lines lc rgb '#000000' dt 2 notitle\n");
    RETURN_IF_ERROR(
        RunGnuplotToSvg(script, absl::StrCat(reports_dir, "/speed_", preset, ".svg"), 1000, 560));
  }
  return WriteFileAtomically(reports_dir + "/speed.md", RenderSpeedReport(doc, preset));
}

absl::Status RerenderSpeedReport(const std::string& preset, const std::string& reports_dir) {
  const std::string path = absl::StrCat(reports_dir, "/results/speed_", preset, ".json");
  if (!PathExists(path)) {
    return absl::NotFoundError(absl::StrCat(path, " not found: run the speed task first"));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  absl::StatusOr<SpeedRecord> doc = SpeedRecord::FromJson(j);
  if (!doc.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", doc.status().message()));
  if (!doc->runs || !doc->shapes || !doc->machine || !doc->limits) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a speed results document (needs machine, limits, shapes, runs)"));
  }
  return WriteSpeedReportFiles(*doc, preset, reports_dir);
}

}  // namespace rnnprune
