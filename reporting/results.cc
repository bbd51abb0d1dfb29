#include "reporting/results.h"

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
#include "reporting/ptb_record.h"
#include "reporting/published.h"
#include "reporting/record_fields.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// A speedup cell: "1.82x", then its interquartile range when the record has one ("1.82x
// [1.75, 1.90]", records written since the spread was measured), and "noisy" when the range was
// still too wide after re-measuring.
// The LSTM batch-1 speedup cell of `speedup` (the default engine's, with `uncertain` the
// record's speedup_uncertain) or of the CSR path's.
std::string SpeedupCell(const std::optional<PtbSpeedupsRecord<double>>& speedup,
                        const std::optional<PtbSpeedupsRecord<std::vector<double>>>& iqr,
                        bool uncertain) {
  if (!speedup) return "?";
  std::string cell = NumberCell(speedup->lstm_b1, "%.2fx");
  if (iqr && iqr->lstm_b1 && iqr->lstm_b1->size() == 2) {
    absl::StrAppendFormat(&cell, " [%.2f, %.2f]", (*iqr->lstm_b1)[0], (*iqr->lstm_b1)[1]);
  }
  if (uncertain) absl::StrAppend(&cell, " noisy");
  return cell;
}

std::string Sizes(const PtbRecord& run) {
  if (!run.model) return "?";
  const json& m = *run.model;
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
std::string PhaseTable(const PtbRecord& r) {
  std::string md =
      "\n| phase | steps | lr | train ppl | tokens/s | train time | resumed at step |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& [phase, record] :
       {std::make_pair("search", &r.search), std::make_pair("recovery", &r.recovery)}) {
    const PtbPhaseRecord t = record->value_or(PtbPhaseRecord());
    int64_t steps = 0;
    double nll_tokens = 0, log_ppl = 0, lr = 0;
    for (const PtbEpochRecord& e : t.epochs.value_or(std::vector<PtbEpochRecord>{})) {
      steps += e.steps.value_or(0);
      const double tokens = static_cast<double>(e.tokens.value_or(0));
      log_ppl += std::log(std::max(e.train_perplexity.value_or(1.0), 1e-300)) * tokens;
      nll_tokens += tokens;
      lr = e.learning_rate.value_or(0.0);
    }
    absl::StrAppend(
        &md, "| ", phase, " | ", steps, " | ", steps > 0 ? absl::StrFormat("%g", lr) : "-", " | ",
        nll_tokens > 0 ? absl::StrFormat("%.2f", std::exp(log_ppl / nll_tokens)) : "-", " | ",
        NumberCell(t.tokens_per_second, "%.0f"), " | ", DurationCell(t.train_seconds), " | ",
        t.resumed.value_or(false) ? TextCell(t.resumed_at_global_step) : "-", " |\n");
  }
  return md;
}

// The gate statistics at the end of an L0 run's search phase, one line.
std::string GateSummary(const PtbRecord& r) {
  if (!r.search || !r.search->diagnostics || r.search->diagnostics->empty()) return "";
  const json& last = r.search->diagnostics->back();
  if (!last.contains("gate_sets")) return "";
  std::vector<std::string> parts;
  for (const json& g : last["gate_sets"]) {
    parts.push_back(absl::StrCat(FieldText(g, "set"), " ", FieldText(g, "closed"), "/",
                                 FieldText(g, "partial"), "/", FieldText(g, "open"),
                                 " (mean log_alpha ", FieldNumber(g, "mean_log_alpha"), ")"));
  }
  return absl::StrCat("- gates after ", FieldText(last, "step"),
                      " search steps, closed/partial/open (z_hat = 0 / in (0, 1) / = 1): ",
                      absl::StrJoin(parts, "; "), "; ", r.search->diagnostics->size(),
                      " snapshots in the record\n");
}

// Presets of `runs` with method runs, in report order.
std::vector<std::string> PresetsOf(const std::vector<PtbRecord>& runs) {
  std::vector<std::string> presets;
  for (const PtbRecord& r : runs) {
    const std::string p = r.preset.value_or("");
    if (IsMethodRun(r) && std::find(presets.begin(), presets.end(), p) == presets.end()) {
      presets.push_back(p);
    }
  }
  return presets;
}

// One line on the protocol of `preset`'s method runs (from the first that records it).
std::string ProtocolText(const std::vector<PtbRecord>& runs, const std::string& preset) {
  for (const PtbRecord& r : runs) {
    if (r.preset != preset || !r.protocol) continue;
    const PtbPhaseProtocolRecord search = r.protocol->search.value_or(PtbPhaseProtocolRecord());
    const PtbPhaseProtocolRecord recovery = r.protocol->recovery.value_or(PtbPhaseProtocolRecord());
    const PtbScheduleRecord s = search.schedule.value_or(PtbScheduleRecord());
    const PtbScheduleRecord rs = recovery.schedule.value_or(PtbScheduleRecord());
    return absl::StrCat(
        "search phase S = ", TextCell(search.steps), " steps at lr ",
        NumberCell(s.learning_rate, "%g"), ", recovery phase M = ", TextCell(recovery.steps),
        " steps at lr ", NumberCell(rs.learning_rate, "%g"), " (batch ", TextCell(s.batch_size),
        ", BPTT ", TextCell(s.bptt), ", gradient norm clipped at ",
        NumberCell(s.max_grad_norm, "%g"),
        "; the recovery reads the windows after the search's); L0 gate statistics every ",
        TextCell(r.protocol->diagnostics_every_steps), " search steps");
  }
  return "";
}

// The "who wins" section of `preset`: L0 at its own sizes against the fixed-mask baselines,
// every method near each L0 run's speed, the step costs and the plots.
std::string WhoWins(const std::vector<PtbRecord>& runs, const std::string& preset) {
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

// One row of the side-by-side table: a method run at one setting.
std::string MethodRow(const PtbRecord& r) {
  const std::string method =
      r.method.value_or("?") == "dense" ? "dense (control)" : r.method.value_or("?");
  const std::string setting =
      r.setting ? TextCell(r.setting) : FieldNumber(r.extra, "lambda_hidden", "%g");
  if (r.collapsed || r.failed) {
    return absl::StrCat("| ", PresetCell(r.preset, r.provenance.sweep_point), " | ", method, " | ",
                        setting, " | ",
                        r.failed ? absl::StrCat("**failed**: ", TextCell(r.failed))
                                 : absl::StrCat("collapsed: ", TextCell(r.collapsed)),
                        " |||||||||||||\n");
  }
  const PtbSizesRecord sz = r.sizes.value_or(PtbSizesRecord());
  std::string sizes = "?";
  if (sz.input_sizes && sz.hidden_sizes) {
    std::vector<int64_t> all = *sz.input_sizes;
    for (int64_t h : *sz.hidden_sizes) all.push_back(h);
    sizes = absl::StrJoin(all, " / ");
  }
  const PtbSpeedupsRecord<double> sp = r.speedup.value_or(PtbSpeedupsRecord<double>());
  const bool has_csr = r.csr_speedup.has_value();
  const PtbSpeedupsRecord<double> csr = r.csr_speedup.value_or(PtbSpeedupsRecord<double>());
  const std::string params =
      r.num_parameters ? TextCell(r.num_parameters) : TextCell(sz.parameters);
  const std::string macs = r.multiply_adds_per_token ? TextCell(r.multiply_adds_per_token)
                                                     : TextCell(sz.multiply_adds_per_token);
  const std::string test_tokens = r.test_not_evaluated ? "-"
                                  : r.eval_tokens      ? TextCell(r.eval_tokens->test)
                                                       : "?";
  return absl::StrCat(
      "| ", PresetCell(r.preset, r.provenance.sweep_point), " | ", method, " | ", setting, " | ",
      sizes, " | ", r.weight_sparsity ? NumberCell(r.weight_sparsity, "%.3f") : "-", " | ", params,
      " | ", macs, " | ", NumberCell(r.valid_perplexity), " | ",
      r.test_not_evaluated ? "-" : NumberCell(r.test_perplexity), " | ", test_tokens, " | ",
      SpeedupCell(r.speedup, r.speedup_iqr, r.speedup_uncertain.value_or(false)), " | ",
      NumberCell(sp.model_b1, "%.2fx"), " | ", NumberCell(sp.lstm_b20, "%.2fx"), " | ",
      NumberCell(sp.model_b20, "%.2fx"), " | ",
      has_csr ? SpeedupCell(r.csr_speedup, r.csr_speedup_iqr, false) : "-", " | ",
      has_csr ? NumberCell(csr.model_b1, "%.2fx") : "-", " | ",
      has_csr ? NumberCell(csr.lstm_b20, "%.2fx") : "-", " |\n");
}

// The heading and provenance lines of a run's section.
std::string RunHeading(const PtbRecord& r) {
  const bool control = r.method == "dense" && r.parent_checkpoint;
  const RecordProvenance& p = r.provenance;
  const std::string coretype = p.blas_coretype.value_or("");
  std::string md = absl::StrCat(
      "\n## Run: preset `", PresetCell(r.preset, r.provenance.sweep_point), "`, ",
      control ? std::string("dense (control)") : TextCell(r.method), " ", TextCell(r.config_name),
      r.setting && TextCell(r.setting) != "-"
          ? absl::StrCat(", ", TextCell(r.setting_kind), " ", TextCell(r.setting))
      : r.extra.contains("lambda_hidden")
          ? absl::StrCat(", lambda ", FieldNumber(r.extra, "lambda_hidden", "%g"))
          : std::string(),
      "\n\n");
  absl::StrAppend(&md, "- command: `", TextCell(p.command), "`\n");
  absl::StrAppend(&md, "- git commit: `", TextCell(p.git_commit), "`; started ",
                  TextCell(p.timestamp_utc), "\n");
  absl::StrAppend(&md, "- machine: ", TextCell(p.cpu_model), ", ", TextCell(p.logical_cpus),
                  " logical CPUs; threads ", TextCell(p.threads),
                  "; OPENBLAS_CORETYPE=", coretype.empty() ? std::string("(unset)") : coretype,
                  "\n");
  absl::StrAppend(
      &md, "- seed ", TextCell(p.seed),
      r.eval_protocol ? absl::StrCat("; evaluation: ", TextCell(r.eval_protocol)) : std::string(),
      "\n");
  return md;
}

// A phase of the protocol as the run section shows it: "400 steps `{schedule}` from window 0".
std::string PhaseProtocolText(const std::optional<PtbPhaseProtocolRecord>& phase) {
  const PtbPhaseProtocolRecord p = phase.value_or(PtbPhaseProtocolRecord());
  return absl::StrCat(TextCell(p.steps), " steps `",
                      p.schedule ? RecordToJson(*p.schedule).dump() : json().dump(),
                      "` from window ", TextCell(p.first_window));
}

// The model, schedule or protocol, and origin lines of a run's section.
std::string RunSetup(const PtbRecord& r) {
  std::string md;
  if (r.model) {
    absl::StrAppend(&md, "- model: `", r.model->dump(),
                    "`; parameters: ", TextCell(r.num_parameters), "\n");
  }
  if (r.protocol) {
    absl::StrAppend(&md, "- protocol: search phase ", PhaseProtocolText(r.protocol->search),
                    "; recovery phase ", PhaseProtocolText(r.protocol->recovery),
                    r.structure_fixed_at_start.value_or(false)
                        ? " (structure fixed at the start: the compacted model trains in both)"
                        : "",
                    "\n");
  } else {
    absl::StrAppend(&md, "- schedule: `", r.schedule ? RecordToJson(*r.schedule).dump() : "?", "`",
                    r.max_steps_per_epoch.value_or(0) > 0
                        ? absl::StrCat(" (each epoch capped at ", *r.max_steps_per_epoch, " steps)")
                        : std::string(),
                    "\n");
  }
  if (r.loaded_from) {
    absl::StrAppend(&md, "- not trained in this run: loaded from `", TextCell(r.loaded_from),
                    "` (--dense_checkpoint)\n");
  }
  if (r.test_perplexity_first_tokens) {
    const PtbFirstTokensRecord& f = *r.test_perplexity_first_tokens;
    absl::StrAppend(&md, "- test perplexity on the first ", TextCell(f.tokens),
                    " tokens (the pruned models' evaluation set): ", NumberCell(f.perplexity),
                    "\n");
  }
  if (r.collapsed) {
    absl::StrAppend(&md, "- collapsed: ", TextCell(r.collapsed), " (no model to evaluate)\n");
  }
  if (r.failed) {
    absl::StrAppend(&md, "- **failed at run time**: ", TextCell(r.failed),
                    " (re-running the same command retries it)\n");
  }
  return md;
}

// The method, its options, its gates, the agreement check and the timing of a method run.
std::string RunMethod(const PtbRecord& r) {
  std::string md;
  if (r.parent_checkpoint) {
    absl::StrAppend(
        &md, "- method: ", TextCell(r.method_description), "; from `",
        TextCell(r.parent_checkpoint), "` for ", TextCell(r.train_steps), " steps",
        r.checkpoint ? absl::StrCat("; exported to `", TextCell(r.checkpoint), "`") : std::string(),
        "\n");
    if (r.method_options && !r.method_options->empty()) {
      absl::StrAppend(&md, "- method options: `", r.method_options->dump(), "`\n");
    }
    if (r.lambda_unit) {
      absl::StrAppend(&md, "- lambda ", TextCell(r.lambda_unit), "; penalty scale (BPTT / N) ",
                      NumberCell(r.penalty_scale, "%.4g"), "\n");
    }
    absl::StrAppend(&md, GateSummary(r));
  }
  if (r.agreement_check) {
    const PtbAgreementRecord& a = *r.agreement_check;
    absl::StrAppend(&md, "- agreement check on the first ", TextCell(a.tokens),
                    " valid tokens: perplexity ", NumberCell(a.perplexity, "%.4f"), " against ",
                    NumberCell(a.reference_perplexity, "%.4f"), " of the reference (",
                    TextCell(a.reference), ")\n");
  }
  if (r.timing_protocol) {
    absl::StrAppend(&md, "- timing: ", TextCell(r.timing_protocol), "\n");
  }
  return md;
}

// The per-epoch table of a dense parent.
std::string EpochTable(const PtbRecord& r) {
  if (!r.epochs || r.epochs->empty()) return "";
  std::string md =
      "\n| epoch | lr | train ppl | valid ppl | tokens/s | train time |\n"
      "|---|---|---|---|---|---|\n";
  for (const PtbEpochRecord& e : *r.epochs) {
    absl::StrAppend(
        &md, "| ", TextCell(e.epoch), " | ", NumberCell(e.learning_rate, "%.4g"), " | ",
        NumberCell(e.train_perplexity), " | ",
        e.valid_perplexity.value_or(0.0) > 0 ? NumberCell(e.valid_perplexity) : std::string("-"),
        " | ", NumberCell(e.tokens_per_second, "%.0f"), " | ", DurationCell(e.train_seconds),
        " |\n");
  }
  return md;
}

// The section of one run: provenance, setup, method, phases and epochs.
std::string RunDetail(const PtbRecord& r) {
  std::string md = absl::StrCat(RunHeading(r), RunSetup(r), RunMethod(r));
  if (r.search && r.recovery) absl::StrAppend(&md, PhaseTable(r));
  absl::StrAppend(&md, EpochTable(r));
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

std::string RenderPtbReport(const std::vector<PtbRecord>& runs_in) {
  std::vector<PtbRecord> runs = runs_in;
  std::stable_sort(runs.begin(), runs.end(), [](const PtbRecord& a, const PtbRecord& b) {
    return PresetRank(a.preset.value_or("")) < PresetRank(b.preset.value_or(""));
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
  for (const PtbRecord& r : runs) {
    if (r.method != "dense" || r.parent_checkpoint) continue;
    // A parent loaded with --dense_checkpoint was not trained by this run.
    const bool loaded = r.loaded_from.has_value();
    const std::string epochs =
        loaded ? "loaded" : absl::StrCat(r.epochs ? static_cast<int>(r.epochs->size()) : 0);
    absl::StrAppend(&md, "| ", PresetCell(r.preset, r.provenance.sweep_point), " | ",
                    TextCell(r.config_name), " | ", Sizes(r), " | ", TextCell(r.method), " | ",
                    epochs, " | ", NumberCell(r.valid_perplexity), " | ",
                    r.test_not_evaluated ? "-" : NumberCell(r.test_perplexity), " | ",
                    loaded ? "-" : NumberCell(r.train_tokens_per_second, "%.0f"), " | ",
                    DurationCell(r.wall_seconds), " | ", TextCell(r.provenance.threads), " | ",
                    TextCell(r.provenance.seed), " |\n");
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
  for (const PtbRecord& r : runs) {
    if (!r.parent_checkpoint) continue;
    any_method = true;
    absl::StrAppend(&md, MethodRow(r));
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

  for (const PtbRecord& r : runs) absl::StrAppend(&md, RunDetail(r));
  return md;
}

absl::Status RenderPtbReportFiles(const std::string& reports_dir) {
  const std::vector<std::string> files = FilesIn(reports_dir + "/results", "ptb_", ".jsonl");
  std::vector<PtbRecord> runs;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(std::vector<json> lines, ReadJsonLines(f));
    ASSIGN_OR_RETURN(std::vector<PtbRecord> part, PtbRecordsFromJson(lines, f));
    for (PtbRecord& r : part) runs.push_back(std::move(r));
  }
  std::vector<std::string> presets;
  for (const PtbRecord& r : runs) {
    const std::string p = r.preset.value_or("");
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
