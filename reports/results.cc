#include "reports/results.h"

#include <dirent.h>

#include <algorithm>
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
#include "reports/format.h"
#include "reports/gnuplot.h"
#include "reports/published.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

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
    const int epochs = r.contains("epochs") ? static_cast<int>(r["epochs"].size()) : 0;
    absl::StrAppend(
        &md, "| ", FieldText(r, "preset"), " | ", FieldText(r, "config_name"), " | ", Sizes(r),
        " | ", FieldText(r, "method"), " | ", epochs, " | ", FieldNumber(r, "valid_perplexity"),
        " | ", FieldNumber(r, "test_perplexity"), " | ",
        FieldNumber(r, "train_tokens_per_second", "%.0f"), " | ",
        r.contains("wall_seconds") ? HumanDuration(r["wall_seconds"].get<double>()) : "?", " | ",
        FieldText(r, "threads"), " | ", FieldText(r, "seed"), " |\n");
  }
  if (runs.empty()) absl::StrAppend(&md, "| (no runs yet) |||||||||||\n");

  // Every pruning method side by side: one row per (method, setting), grouped by preset.
  absl::StrAppend(
      &md, "\n## Pruning methods side by side\n\n",
      "Every method fine-tunes the same dense checkpoint with the same budget (same steps, same "
      "constant learning rate; see each run's section); `dense (control)` is that fine-tuning "
      "with no pruning. Structured methods are compacted into a smaller dense LSTM (kept sizes "
      "E = embedding dims, I2 = inputs of layer 2, H1 / H2 = hidden units); unstructured ones "
      "keep the dense shape with exact zeros (weight sparsity of the LSTM matrices) and are also "
      "run from CSR matrices. Parameters: those of the compacted model (structured), or the "
      "non-zeros (unstructured). Speedups are the dense parent's "
      "inference time over the pruned model's, measured side by side in one process (median "
      "of repeated calls of 35 tokens), by the default inference engine (`auto`: our `blas` "
      "engine at batch 1, oneDNN at batch 20; models/engines/README.md; each run's timing "
      "protocol names it) and, for unstructured methods, by the CSR path: LSTM stack alone and "
      "whole model (with the 10k-word decoder), batch 1 and "
      "batch 20.\n\n",
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
    if (r.contains("collapsed")) {
      absl::StrAppend(&md, "| ", FieldText(r, "preset"), " | ", method, " | ", setting,
                      " | collapsed: ", FieldText(r, "collapsed"), " |||||||||||||\n");
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
        FieldNumber(r, "test_perplexity"), " | ",
        r.contains("eval_tokens") ? FieldText(r["eval_tokens"], "test") : "?", " | ",
        FieldNumber(sp, "lstm_b1", "%.2fx"), " | ", FieldNumber(sp, "model_b1", "%.2fx"), " | ",
        FieldNumber(sp, "lstm_b20", "%.2fx"), " | ", FieldNumber(sp, "model_b20", "%.2fx"), " | ",
        csr.empty() ? "-" : FieldNumber(csr, "lstm_b1", "%.2fx"), " | ",
        csr.empty() ? "-" : FieldNumber(csr, "model_b1", "%.2fx"), " | ",
        csr.empty() ? "-" : FieldNumber(csr, "lstm_b20", "%.2fx"), " |\n");
  }
  if (!any_method) absl::StrAppend(&md, "| (no runs yet) |||||||||||||||||\n");
  absl::StrAppend(&md,
                  "\nPlot: test perplexity against measured speedup (whole model, batch "
                  "1), one series per method: `ptb_tradeoff_<preset>.svg`.\n");

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
    absl::StrAppend(&md, "- schedule: `", r.contains("schedule") ? r["schedule"].dump() : "?", "`",
                    r.value("max_steps_per_epoch", 0) > 0
                        ? absl::StrCat(" (each epoch capped at ",
                                       r["max_steps_per_epoch"].get<int64_t>(), " steps)")
                        : std::string(),
                    "\n");
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
    if (r.contains("parent_checkpoint")) {
      absl::StrAppend(&md, "- method: ", FieldText(r, "method_description"), "; fine-tuned from `",
                      FieldText(r, "parent_checkpoint"), "` for ", FieldText(r, "train_steps"),
                      " steps",
                      r.contains("checkpoint")
                          ? absl::StrCat("; exported to `", FieldText(r, "checkpoint"), "`")
                          : std::string(),
                      "\n");
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

absl::Status PlotPtbTradeoff(const std::vector<json>& runs, const std::string& preset,
                             const std::string& svg_path) {
  // Series: the dense parent, then one per method in order of appearance (and one more per
  // unstructured method for its CSR timing). Each point: speedup, test ppl, setting label.
  std::vector<std::pair<std::string, std::string>> series;  // title, points
  auto add = [&](const std::string& title, const std::string& point) {
    for (auto& [t, pts] : series) {
      if (t == title) {
        absl::StrAppend(&pts, point);
        return;
      }
    }
    series.emplace_back(title, point);
  };
  bool any_pruned = false;
  for (const json& r : runs) {
    if (r.value("preset", "") != preset || !r.contains("test_perplexity")) continue;
    const double ppl = r["test_perplexity"].get<double>();
    const std::string method = r.value("method", "");
    if (!r.contains("parent_checkpoint")) {
      // Smoke presets score pruned models on the first tokens only: use the parent's score on
      // the same tokens when it is recorded.
      double parent_ppl = ppl;
      if (r.contains("test_perplexity_first_tokens")) {
        parent_ppl = r["test_perplexity_first_tokens"].value("perplexity", ppl);
      }
      if (method == "dense") add("dense parent", absl::StrCat("1 ", parent_ppl, " -\n"));
      continue;
    }
    if (!r.contains("speedup")) continue;
    any_pruned = true;
    std::string label =
        r.contains("setting") ? FieldText(r, "setting") : FieldNumber(r, "lambda_hidden", "%g");
    if (label.empty()) label = "-";
    const std::string title = method == "dense" ? "dense (control)" : method;
    add(title, absl::StrCat(r["speedup"].value("model_b1", 0.0), " ", ppl, " ", label, "\n"));
    if (r.contains("csr_speedup")) {
      add(title + " (CSR)",
          absl::StrCat(r["csr_speedup"].value("model_b1", 0.0), " ", ppl, " ", label, "\n"));
    }
  }
  if (!any_pruned) return absl::OkStatus();
  std::string script =
      absl::StrCat("set title 'PTB, preset ", preset, ": test perplexity vs measured speedup'\n",
                   "set xlabel 'speedup over the dense parent (whole model, batch 1)'\n",
                   "set ylabel 'test perplexity'\nset grid\nset key outside right\n",
                   "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
  std::string plots;
  for (size_t i = 0; i < series.size(); ++i) {
    absl::StrAppend(&script, "$s", i, " << EOD\n", series[i].second, "EOD\n");
    absl::StrAppend(&plots, plots.empty() ? "plot " : ", \\\n     ", "$s", i,
                    " using 1:2 with linespoints pt ", 5 + i, " ps 1.2 lc rgb '",
                    kPlotColors[i % kNumPlotColors], "' title '", series[i].first, "'");
  }
  absl::StrAppend(&script, plots, "\n");
  return RunGnuplotToSvg(script, svg_path, 900, 600);
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
  }
  return WriteFileAtomically(reports_dir + "/ptb.md", RenderPtbReport(runs));
}

}  // namespace rnnprune
