#include "reporting/results.h"

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "reporting/format.h"
#include "reporting/gnuplot.h"
#include "reporting/ptb_comparison.h"
#include "reporting/ptb_plots.h"
#include "reporting/published.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// A speedup cell: "1.82x", then its interquartile range when the record has one ("1.82x
// [1.75, 1.90]", records written since the spread was measured), and "noisy" when the range was
// still too wide after re-measuring.
std::string SpeedupCell(const json& r, const std::string& key, const char* field) {
  if (!r.contains(key)) return "?";
  std::string cell = FieldNumber(r[key], field, "%.2fx");
  const std::string iqr_key = key + "_iqr";
  if (r.contains(iqr_key) && r[iqr_key].contains(field) && r[iqr_key][field].is_array() &&
      r[iqr_key][field].size() == 2) {
    absl::StrAppendFormat(&cell, " [%.2f, %.2f]", r[iqr_key][field][0].get<double>(),
                          r[iqr_key][field][1].get<double>());
  }
  if (key == "speedup" && r.value("speedup_uncertain", false)) absl::StrAppend(&cell, " noisy");
  return cell;
}

std::string Sizes(const json& run) {
  if (!run.contains("model")) return "?";
  const json& m = run["model"];
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("E=", m.value("embedding_size", 0)));
  if (m.contains("hidden_sizes")) {
    std::vector<int64_t> h = m["hidden_sizes"].get<std::vector<int64_t>>();
    parts.push_back(absl::StrCat("H=", absl::StrJoin(h, "/")));
  }
  return absl::StrJoin(parts, ", ");
}

// The search and recovery phases of a method run: steps, learning rate, training perplexity,
// speed and time.
std::string PhaseTable(const json& r) {
  std::string md =
      "\n| phase | steps | lr | train ppl | tokens/s | train time | resumed at step |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const char* phase : {"search", "recovery"}) {
    const json& t = r[phase];
    int64_t steps = 0;
    double nll_tokens = 0, log_ppl = 0, lr = 0;
    for (const json& e : t.value("epochs", json::array())) {
      steps += e.value("steps", int64_t{0});
      const double tokens = e.value("tokens", 0.0);
      log_ppl += std::log(std::max(e.value("train_perplexity", 1.0), 1e-300)) * tokens;
      nll_tokens += tokens;
      lr = e.value("learning_rate", 0.0);
    }
    absl::StrAppend(
        &md, "| ", phase, " | ", steps, " | ", steps > 0 ? absl::StrFormat("%g", lr) : "-", " | ",
        nll_tokens > 0 ? absl::StrFormat("%.2f", std::exp(log_ppl / nll_tokens)) : "-", " | ",
        FieldNumber(t, "tokens_per_second", "%.0f"), " | ", FieldDuration(t, "train_seconds"),
        " | ", t.value("resumed", false) ? FieldText(t, "resumed_at_global_step") : "-", " |\n");
  }
  return md;
}

// The gate statistics at the end of an L0 run's search phase, one line.
std::string GateSummary(const json& r) {
  if (!r.contains("search") || !r["search"].contains("diagnostics") ||
      r["search"]["diagnostics"].empty()) {
    return "";
  }
  const json& last = r["search"]["diagnostics"].back();
  if (!last.contains("gate_sets")) return "";
  std::vector<std::string> parts;
  for (const json& g : last["gate_sets"]) {
    parts.push_back(absl::StrCat(FieldText(g, "set"), " ", FieldText(g, "closed"), "/",
                                 FieldText(g, "partial"), "/", FieldText(g, "open"),
                                 " (mean log_alpha ", FieldNumber(g, "mean_log_alpha"), ")"));
  }
  return absl::StrCat("- gates after ", FieldText(last, "step"),
                      " search steps, closed/partial/open (z_hat = 0 / in (0, 1) / = 1): ",
                      absl::StrJoin(parts, "; "), "; ", r["search"]["diagnostics"].size(),
                      " snapshots in the record\n");
}

// Presets of `runs` with method runs, in report order.
std::vector<std::string> PresetsOf(const std::vector<json>& runs) {
  std::vector<std::string> presets;
  for (const json& r : runs) {
    const std::string p = r.value("preset", "");
    if (IsMethodRun(r) && std::find(presets.begin(), presets.end(), p) == presets.end()) {
      presets.push_back(p);
    }
  }
  return presets;
}

// One line on the protocol of `preset`'s method runs (from the first that records it).
std::string ProtocolText(const std::vector<json>& runs, const std::string& preset) {
  for (const json& r : runs) {
    if (r.value("preset", "") != preset || !r.contains("protocol")) continue;
    const json& p = r["protocol"];
    return absl::StrCat(
        "search phase S = ", FieldText(p["search"], "steps"), " steps at lr ",
        FieldNumber(p["search"]["schedule"], "learning_rate", "%g"),
        ", recovery phase M = ", FieldText(p["recovery"], "steps"), " steps at lr ",
        FieldNumber(p["recovery"]["schedule"], "learning_rate", "%g"), " (batch ",
        FieldText(p["search"]["schedule"], "batch_size"), ", BPTT ",
        FieldText(p["search"]["schedule"], "bptt"), ", gradient norm clipped at ",
        FieldNumber(p["search"]["schedule"], "max_grad_norm", "%g"),
        "; the recovery reads the windows after the search's); L0 gate statistics every ",
        FieldText(p, "diagnostics_every_steps"), " search steps");
  }
  return "";
}

// The "who wins" section of `preset`: L0 at its own sizes against the fixed-mask baselines,
// every method near each L0 run's speed, the step costs and the plots.
std::string WhoWins(const std::vector<json>& runs, const std::string& preset) {
  const std::string at_sizes = RenderAtL0Sizes(runs, preset);
  const std::string fastest = RenderFastestAtEachL0(runs, preset);
  const std::string cost = RenderStepCost(runs, preset);
  std::string md = absl::StrCat("\n### Who wins, preset `", preset, "`\n\n");
  if (!at_sizes.empty()) {
    absl::StrAppend(&md,
                    "(a) At the sizes each L0 run reached: L0, structured magnitude and random "
                    "removal with identical kept sizes (the baselines are given L0's sizes).\n\n",
                    at_sizes, "\n");
  }
  if (!fastest.empty()) {
    absl::StrAppend(
        &md,
        "(b) At each L0 run's speed: for every other method, among its runs whose LSTM batch-1 "
        "speedup (fastest engine: the default, or CSR for unstructured methods) is within "
        "+-10% of the L0 run's, the one with the best valid perplexity, as test perplexity "
        "(setting, speedup).\n\n",
        fastest, "\n");
  }
  if (!cost.empty()) {
    absl::StrAppend(&md,
                    "The cost of a training step: training tokens/s of each run's search phase, "
                    "and the dense control's tokens/s over it (how much more a step of the "
                    "method costs; tokens/s of one run on a shared machine are noisy).\n\n",
                    cost, "\n");
  }
  absl::StrAppend(&md, "Plots: `ptb_tradeoff_", preset,
                  ".svg` (test perplexity against measured LSTM batch-1 speedup, every run and "
                  "each method's Pareto front)",
                  at_sizes.empty() ? std::string()
                                   : absl::StrCat(", `ptb_gates_", preset,
                                                  ".svg` (kept neurons per gate set against "
                                                  "search steps, one panel per L0 run)"),
                  ".\n");
  return md;
}

}  // namespace

absl::StatusOr<std::vector<json>> ReadJsonLines(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<json> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: not a JSON object", path, line_no));
    }
    out.push_back(std::move(j));
  }
  return out;
}

absl::Status WriteJsonLines(const std::string& path, const std::vector<json>& records) {
  std::string text;
  for (const json& r : records) absl::StrAppend(&text, r.dump(), "\n");
  return WriteFileAtomically(path, text);
}

std::string RenderPtbReport(const std::vector<json>& runs_in) {
  std::vector<json> runs = runs_in;
  std::stable_sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
    return PresetRank(a.value("preset", "")) < PresetRank(b.value("preset", ""));
  });
  std::string md;
  absl::StrAppend(&md,
                  "# PTB word-level language modelling\n\n"
                  "Rendered from `reports/results/ptb_*.jsonl` by `bazel run -c opt "
                  "//benchmarks:all`, which writes those results (`-- --render_only` re-renders "
                  "them alone; every number below was produced by the command shown in "
                  "its section; nothing is edited by hand). Perplexity = exp(mean NLL in nats "
                  "per token) over the whole split, read as one stream with the LSTM state "
                  "carried (batch 1, BPTT 35), the standard protocol.\n\n");

  absl::StrAppend(&md, "## Our runs\n\n",
                  "| preset | config | sizes | method | epochs | valid ppl | test ppl | train "
                  "tokens/s | wall time | threads | seed |\n",
                  "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const json& r : runs) {
    if (r.value("method", "") != "dense" || r.contains("parent_checkpoint")) continue;
    // A parent loaded with --dense_checkpoint was not trained by this run.
    const bool loaded = r.contains("loaded_from");
    const std::string epochs =
        loaded ? "loaded"
               : absl::StrCat(r.contains("epochs") ? static_cast<int>(r["epochs"].size()) : 0);
    absl::StrAppend(
        &md, "| ", FieldText(r, "preset"), " | ", FieldText(r, "config_name"), " | ", Sizes(r),
        " | ", FieldText(r, "method"), " | ", epochs, " | ", FieldNumber(r, "valid_perplexity"),
        " | ", r.contains("test_not_evaluated") ? "-" : FieldNumber(r, "test_perplexity"), " | ",
        loaded ? "-" : FieldNumber(r, "train_tokens_per_second", "%.0f"), " | ",
        r.contains("wall_seconds") ? HumanDuration(r["wall_seconds"].get<double>()) : "?", " | ",
        FieldText(r, "threads"), " | ", FieldText(r, "seed"), " |\n");
  }
  if (runs.empty()) absl::StrAppend(&md, "| (no runs yet) |||||||||||\n");

  // Every pruning method side by side: one row per (method, setting), grouped by preset.
  absl::StrAppend(
      &md, "\n## Pruning methods side by side\n\n",
      "Every method starts from the same dense checkpoint and runs the same protocol "
      "(pruning/protocol.h), with the same budget of optimizer steps on the same training "
      "windows at the same learning rates (each preset's protocol is stated below): a *search* "
      "phase of S steps (the method's own training: gates, penalties, pruning schedule), then a "
      "*recovery* phase of M steps of plain fine-tuning of exactly the network that is deployed "
      "(no penalty, no gates). Structured methods are compacted after the search, and the "
      "compacted model gets the recovery steps; unstructured ones keep their mask through them; "
      "structured magnitude and random removal fix their neurons from the dense weights at "
      "step 0 and train the compacted model for all S + M steps; `dense (control)` trains S + M "
      "steps with no pruning. Every lambda is per epoch of training tokens: lambda * R / N is "
      "added to the mean NLL per token (nats), N = the training tokens of one epoch (Louizos et "
      "al. 2018, Eq. 3), the same unit for L0, ISS and Lasso. `l0` weights each gate by the "
      "weights it removes (the paper's L0), `l0_speed` by the multiply-adds per token it removes "
      "(speed-aware, ours). Structured results are compacted into a smaller dense LSTM (kept "
      "sizes E = embedding dims, I2 = inputs of layer 2, H1 / H2 = hidden units); unstructured "
      "ones "
      "keep the dense shape with exact zeros (weight sparsity of the LSTM matrices) and are also "
      "run from CSR matrices. Parameters: those of the compacted model (structured), or the "
      "non-zeros (unstructured). Speedups are the dense parent's "
      "inference time over the pruned model's, measured side by side in one process (median "
      "of repeated calls of 35 tokens), by the default inference engine (`auto`: our `blas` "
      "engine at batch 1, oneDNN at batch 20; models/engines/README.md; each run's timing "
      "protocol names it) and, for unstructured methods, by the CSR path: LSTM stack alone and "
      "whole model (with the 10k-word decoder), batch 1 and "
      "batch 20. A test perplexity of `-` marks a run evaluated on valid only (a sweep). Runs "
      "timed since the spread was recorded show, after the LSTM batch-1 speedups, the "
      "interquartile range of the per-call ratios in brackets, and `noisy` where that range "
      "stayed wider than a quarter of the median after re-measuring.\n\n");
  for (const std::string& preset : PresetsOf(runs)) {
    const std::string protocol = ProtocolText(runs, preset);
    if (!protocol.empty()) absl::StrAppend(&md, "- `", preset, "`: ", protocol, "\n");
  }
  absl::StrAppend(
      &md, "\n",
      "| preset | method | setting | kept E / I2 / H1 / H2 | LSTM weight sparsity | "
      "parameters | mult-adds/token | valid ppl | test ppl | test tokens | speedup LSTM b1 | "
      "whole b1 | LSTM b20 | whole b20 | CSR LSTM b1 | CSR whole b1 | CSR LSTM b20 |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  bool any_method = false;
  for (const json& r : runs) {
    if (!r.contains("parent_checkpoint")) continue;
    any_method = true;
    const std::string method =
        r.value("method", "?") == "dense" ? "dense (control)" : r.value("method", "?");
    const std::string setting =
        r.contains("setting") ? FieldText(r, "setting") : FieldNumber(r, "lambda_hidden", "%g");
    if (r.contains("collapsed") || r.contains("failed")) {
      absl::StrAppend(&md, "| ", FieldText(r, "preset"), " | ", method, " | ", setting, " | ",
                      r.contains("failed") ? absl::StrCat("**failed**: ", FieldText(r, "failed"))
                                           : absl::StrCat("collapsed: ", FieldText(r, "collapsed")),
                      " |||||||||||||\n");
      continue;
    }
    const json& sz = r.contains("sizes") ? r["sizes"] : json::object();
    std::string sizes = "?";
    if (sz.contains("input_sizes") && sz.contains("hidden_sizes")) {
      std::vector<int64_t> in = sz["input_sizes"].get<std::vector<int64_t>>();
      std::vector<int64_t> hid = sz["hidden_sizes"].get<std::vector<int64_t>>();
      std::vector<int64_t> all = {in[0]};
      for (size_t l = 1; l < in.size(); ++l) all.push_back(in[l]);
      for (int64_t h : hid) all.push_back(h);
      sizes = absl::StrJoin(all, " / ");
    }
    const json& sp = r.contains("speedup") ? r["speedup"] : json::object();
    const json& csr = r.contains("csr_speedup") ? r["csr_speedup"] : json::object();
    const std::string params =
        r.contains("num_parameters") ? FieldText(r, "num_parameters") : FieldText(sz, "parameters");
    const std::string macs = r.contains("multiply_adds_per_token")
                                 ? FieldText(r, "multiply_adds_per_token")
                                 : FieldText(sz, "multiply_adds_per_token");
    absl::StrAppend(
        &md, "| ", FieldText(r, "preset"), " | ", method, " | ", setting, " | ", sizes, " | ",
        r.contains("weight_sparsity") ? FieldNumber(r, "weight_sparsity", "%.3f") : "-", " | ",
        params, " | ", macs, " | ", FieldNumber(r, "valid_perplexity"), " | ",
        r.contains("test_not_evaluated") ? "-" : FieldNumber(r, "test_perplexity"), " | ",
        r.contains("test_not_evaluated") ? "-"
        : r.contains("eval_tokens")      ? FieldText(r["eval_tokens"], "test")
                                         : "?",
        " | ", SpeedupCell(r, "speedup", "lstm_b1"), " | ", FieldNumber(sp, "model_b1", "%.2fx"),
        " | ", FieldNumber(sp, "lstm_b20", "%.2fx"), " | ", FieldNumber(sp, "model_b20", "%.2fx"),
        " | ", csr.empty() ? "-" : SpeedupCell(r, "csr_speedup", "lstm_b1"), " | ",
        csr.empty() ? "-" : FieldNumber(csr, "model_b1", "%.2fx"), " | ",
        csr.empty() ? "-" : FieldNumber(csr, "lstm_b20", "%.2fx"), " |\n");
  }
  if (!any_method) absl::StrAppend(&md, "| (no runs yet) |||||||||||||||||\n");
  for (const std::string& preset : PresetsOf(runs)) absl::StrAppend(&md, WhoWins(runs, preset));

  absl::StrAppend(&md, "\n## Published (not ours)\n\n",
                  "| model | architecture | valid ppl | test ppl | source |\n"
                  "|---|---|---|---|---|\n");
  for (const auto& p : kZarembaPublished) {
    absl::StrAppend(&md,
                    absl::StrFormat("| %s | %s | %.1f | %.1f | %s |\n", p.model, p.architecture,
                                    p.valid_perplexity, p.test_perplexity, p.source));
  }
  absl::StrAppend(&md,
                  "\nPublished pruning results (not ours; the published ISS model is Zaremba "
                  "large, 1500-dimensional embedding, hidden sizes 1500 / 1500 pruned to 373 / "
                  "315):\n\n| method | model | result | source |\n|---|---|---|---|\n");
  for (const auto& p : kPruningPublished) {
    absl::StrAppend(&md, "| ", p.method, " | ", p.model, " | ", p.result, " | ", p.source, " |\n");
  }

  for (const json& r : runs) {
    const bool control = r.value("method", "") == "dense" && r.contains("parent_checkpoint");
    absl::StrAppend(
        &md, "\n## Run: preset `", FieldText(r, "preset"), "`, ",
        control ? std::string("dense (control)") : FieldText(r, "method"), " ",
        FieldText(r, "config_name"),
        r.contains("setting") && FieldText(r, "setting") != "-"
            ? absl::StrCat(", ", FieldText(r, "setting_kind"), " ", FieldText(r, "setting"))
        : r.contains("lambda_hidden")
            ? absl::StrCat(", lambda ", FieldNumber(r, "lambda_hidden", "%g"))
            : std::string(),
        "\n\n");
    absl::StrAppend(&md, "- command: `", FieldText(r, "command"), "`\n");
    absl::StrAppend(&md, "- git commit: `", FieldText(r, "git_commit"), "`; started ",
                    FieldText(r, "timestamp_utc"), "\n");
    absl::StrAppend(&md, "- machine: ", FieldText(r, "cpu_model"), ", ",
                    FieldText(r, "logical_cpus"), " logical CPUs; threads ",
                    FieldText(r, "threads"), "; OPENBLAS_CORETYPE=",
                    r.value("blas_coretype", "").empty() ? std::string("(unset)")
                                                         : r.value("blas_coretype", ""),
                    "\n");
    absl::StrAppend(&md, "- seed ", FieldText(r, "seed"),
                    r.contains("eval_protocol")
                        ? absl::StrCat("; evaluation: ", FieldText(r, "eval_protocol"))
                        : std::string(),
                    "\n");
    if (r.contains("model")) {
      absl::StrAppend(&md, "- model: `", r["model"].dump(),
                      "`; parameters: ", FieldText(r, "num_parameters"), "\n");
    }
    if (r.contains("protocol")) {
      const json& p = r["protocol"];
      absl::StrAppend(&md, "- protocol: search phase ", FieldText(p["search"], "steps"), " steps `",
                      p["search"].value("schedule", json()).dump(), "` from window ",
                      FieldText(p["search"], "first_window"), "; recovery phase ",
                      FieldText(p["recovery"], "steps"), " steps `",
                      p["recovery"].value("schedule", json()).dump(), "` from window ",
                      FieldText(p["recovery"], "first_window"),
                      r.value("structure_fixed_at_start", false)
                          ? " (structure fixed at the start: the compacted model trains in both)"
                          : "",
                      "\n");
    } else {
      absl::StrAppend(&md, "- schedule: `", r.contains("schedule") ? r["schedule"].dump() : "?",
                      "`",
                      r.value("max_steps_per_epoch", 0) > 0
                          ? absl::StrCat(" (each epoch capped at ",
                                         r["max_steps_per_epoch"].get<int64_t>(), " steps)")
                          : std::string(),
                      "\n");
    }
    if (r.contains("loaded_from")) {
      absl::StrAppend(&md, "- not trained in this run: loaded from `", FieldText(r, "loaded_from"),
                      "` (--dense_checkpoint)\n");
    }
    if (r.contains("test_perplexity_first_tokens")) {
      const json& f = r["test_perplexity_first_tokens"];
      absl::StrAppend(&md, "- test perplexity on the first ", FieldText(f, "tokens"),
                      " tokens (the pruned models' evaluation set): ", FieldNumber(f, "perplexity"),
                      "\n");
    }
    if (r.contains("collapsed")) {
      absl::StrAppend(&md, "- collapsed: ", FieldText(r, "collapsed"), " (no model to evaluate)\n");
    }
    if (r.contains("failed")) {
      absl::StrAppend(&md, "- **failed at run time**: ", FieldText(r, "failed"),
                      " (re-running the same command retries it)\n");
    }
    if (r.contains("parent_checkpoint")) {
      absl::StrAppend(&md, "- method: ", FieldText(r, "method_description"), "; from `",
                      FieldText(r, "parent_checkpoint"), "` for ", FieldText(r, "train_steps"),
                      " steps",
                      r.contains("checkpoint")
                          ? absl::StrCat("; exported to `", FieldText(r, "checkpoint"), "`")
                          : std::string(),
                      "\n");
      if (r.contains("method_options") && !r["method_options"].empty()) {
        absl::StrAppend(&md, "- method options: `", r["method_options"].dump(), "`\n");
      }
      if (r.contains("lambda_unit")) {
        absl::StrAppend(&md, "- lambda ", FieldText(r, "lambda_unit"),
                        "; penalty scale (BPTT / N) ", FieldNumber(r, "penalty_scale", "%.4g"),
                        "\n");
      }
      absl::StrAppend(&md, GateSummary(r));
    }
    if (r.contains("agreement_check")) {
      const json& a = r["agreement_check"];
      absl::StrAppend(&md, "- agreement check on the first ", FieldText(a, "tokens"),
                      " valid tokens: perplexity ", FieldNumber(a, "perplexity", "%.4f"),
                      " against ", FieldNumber(a, "reference_perplexity", "%.4f"),
                      " of the reference (", FieldText(a, "reference"), ")\n");
    }
    if (r.contains("timing_protocol")) {
      absl::StrAppend(&md, "- timing: ", FieldText(r, "timing_protocol"), "\n");
    }
    if (r.contains("search") && r.contains("recovery")) absl::StrAppend(&md, PhaseTable(r));
    if (r.contains("epochs") && r["epochs"].is_array() && !r["epochs"].empty()) {
      absl::StrAppend(&md,
                      "\n| epoch | lr | train ppl | valid ppl | tokens/s | train time |\n"
                      "|---|---|---|---|---|---|\n");
      for (const json& e : r["epochs"]) {
        absl::StrAppend(
            &md, "| ", FieldText(e, "epoch"), " | ", FieldNumber(e, "learning_rate", "%.4g"), " | ",
            FieldNumber(e, "train_perplexity"), " | ",
            e.value("valid_perplexity", 0.0) > 0 ? FieldNumber(e, "valid_perplexity")
                                                 : std::string("-"),
            " | ", FieldNumber(e, "tokens_per_second", "%.0f"), " | ",
            e.contains("train_seconds") ? HumanDuration(e["train_seconds"].get<double>()) : "?",
            " |\n");
      }
    }
  }
  return md;
}

absl::Status RenderPtbReportFiles(const std::string& reports_dir) {
  const std::string results_dir = reports_dir + "/results";
  std::vector<std::string> files;
  if (DIR* d = ::opendir(results_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (absl::StartsWith(name, "ptb_") && absl::EndsWith(name, ".jsonl")) {
        files.push_back(results_dir + "/" + name);
      }
    }
    ::closedir(d);
  }
  std::sort(files.begin(), files.end());
  std::vector<json> runs;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(std::vector<json> part, ReadJsonLines(f));
    for (json& j : part) runs.push_back(std::move(j));
  }
  std::vector<std::string> presets;
  for (const json& r : runs) {
    const std::string p = r.value("preset", "");
    if (std::find(presets.begin(), presets.end(), p) == presets.end()) presets.push_back(p);
  }
  for (const std::string& p : presets) {
    RETURN_IF_ERROR(
        PlotPtbTradeoff(runs, p, absl::StrCat(reports_dir, "/ptb_tradeoff_", p, ".svg")));
    RETURN_IF_ERROR(
        PlotGateStatistics(runs, p, absl::StrCat(reports_dir, "/ptb_gates_", p, ".svg")));
  }
  return WriteFileAtomically(reports_dir + "/ptb.md", RenderPtbReport(runs));
}

}  // namespace rnnprune
