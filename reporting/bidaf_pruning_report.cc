#include "reporting/bidaf_pruning_report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "reporting/format.h"
#include "reporting/gnuplot.h"
#include "reporting/ptb_comparison.h"
#include "reporting/published.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

const SquadRecord* ParentOf(const std::vector<SquadRecord>& parents, const BidafPruningRecord& r) {
  for (const SquadRecord& p : parents) {
    if (p.config_hash && p.config_hash == r.parent_config_hash) return &p;
  }
  return nullptr;
}

// "contextual 48/50, modelling.0 50/41, ...": kept neurons of each LSTM, forward/backward.
std::string DirectionSizes(const std::optional<json>& sizes) {
  if (!sizes || !sizes->is_object()) return "?";
  std::vector<std::pair<std::string, std::string>> lstms;  // base name -> "fw/bw"
  for (const auto& [name, n] : sizes->items()) {
    const bool fw = absl::EndsWith(name, ".fw"), bw = absl::EndsWith(name, ".bw");
    const std::string base = (fw || bw) ? name.substr(0, name.size() - 3) : name;
    auto it =
        std::find_if(lstms.begin(), lstms.end(), [&](const auto& l) { return l.first == base; });
    if (it == lstms.end()) it = lstms.insert(lstms.end(), {base, ""});
    const std::string v = n.dump();
    it->second = bw ? absl::StrCat(it->second, "/", v) : absl::StrCat(v, it->second);
  }
  std::vector<std::string> parts;
  for (const auto& [base, v] : lstms) parts.push_back(absl::StrCat(base, " ", v));
  return absl::StrJoin(parts, ", ");
}

// The contextual layer's kept inputs (highway outputs), forward/backward.
std::string ContextualInputs(const std::optional<json>& inputs) {
  if (!inputs || !inputs->is_object()) return "?";
  return absl::StrCat(FieldText(*inputs, "contextual.fw"), "/",
                      FieldText(*inputs, "contextual.bw"));
}

// The deployed LSTMs' parameters; for an unstructured run, also its non-zero entries and the
// fraction of the LSTM weight matrices pruned.
std::string LstmParametersCell(const BidafPruningRecord& r) {
  if (!r.lstm_nonzero_parameters || !r.lstm_weight_sparsity) return CountCell(r.lstm_parameters);
  return absl::StrFormat("%s (%s non-zero; %.1f%% of the weights pruned)",
                         CountCell(r.lstm_parameters), CountCell(r.lstm_nonzero_parameters),
                         100.0 * *r.lstm_weight_sparsity);
}

std::string Speedup(const BidafPruningRecord& r, const char* key) {
  if (!r.speedups || !r.speedups->contains(key)) return "?";
  return absl::StrFormat("%.2fx", (*r.speedups)[key].get<double>());
}

std::string LastValidationF1(const BidafPruningRecord& r) {
  if (!r.epoch_validation_f1 || r.epoch_validation_f1->empty()) return "?";
  return absl::StrFormat("%.2f", r.epoch_validation_f1->back());
}

std::string Label(const BidafPruningRecord& r) {
  const std::string m = r.method.value_or("?");
  return m == "dense" ? "dense (control)" : m;
}

// The control, the searched structures, the fixed ones, then the unstructured ones; others by
// name after them.
int MethodRank(const std::string& method) {
  static const char* const kOrder[] = {"dense",  "l0",    "l0_speed", "iss", "structured_magnitude",
                                       "random", "lasso", "magnitude"};
  for (int i = 0; i < 8; ++i) {
    if (method == kOrder[i]) return i;
  }
  return 8;
}

// The runs of `preset`, by method (MethodRank, then name), then lambda or sparsity, then
// setting.
std::vector<const BidafPruningRecord*> OfPreset(const std::vector<BidafPruningRecord>& runs,
                                                const std::string& preset) {
  std::vector<const BidafPruningRecord*> out;
  for (const BidafPruningRecord& r : runs) {
    if (r.preset == preset) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const BidafPruningRecord* a, const BidafPruningRecord* b) {
                     const std::string ma = a->method.value_or(""), mb = b->method.value_or("");
                     const double sa = a->lambda.value_or(a->sparsity.value_or(0));
                     const double sb = b->lambda.value_or(b->sparsity.value_or(0));
                     return std::make_tuple(MethodRank(ma), ma, sa, a->setting.value_or("")) <
                            std::make_tuple(MethodRank(mb), mb, sb, b->setting.value_or(""));
                   });
  return out;
}

void RenderRunsTable(const std::vector<const BidafPruningRecord*>& runs, const SquadRecord* parent,
                     std::string* md) {
  absl::StrAppend(md,
                  "| method | setting | kept hidden neurons (forward/backward) | contextual "
                  "inputs | LSTM parameters | all parameters | exact match | F1 | last "
                  "validation F1 | LSTM speedup b1 | model speedup b1 | LSTM speedup b32 | "
                  "model speedup b32 | commit |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  const BidafPruningRecord& any = *runs.front();
  if (parent != nullptr) {
    const std::string last_f1 = parent->epoch_validation_f1 && !parent->epoch_validation_f1->empty()
                                    ? absl::StrFormat("%.2f", parent->epoch_validation_f1->back())
                                    : "?";
    absl::StrAppend(md, "| parent (squad record) | - | ", DirectionSizes(any.parent_hidden), " | ",
                    ContextualInputs(any.parent_inputs), " | ",
                    CountCell(any.parent_lstm_parameters), " | ", CountCell(any.parent_parameters),
                    " | ", NumberCell(parent->exact_match), " | ", NumberCell(parent->f1), " | ",
                    last_f1, " | 1 | 1 | 1 | 1 | `",
                    TextCell(parent->provenance.git_commit).substr(0, 12), "` |\n");
  }
  for (const BidafPruningRecord* r : runs) {
    const std::string commit = TextCell(r->provenance.git_commit).substr(0, 12);
    if (r->collapsed.value_or(false)) {
      absl::StrAppend(md, "| ", Label(*r), " | ", MarkdownCellText(r->setting.value_or("")),
                      " | collapsed: ", MarkdownCellText(r->error.value_or("?")),
                      " | | | | | | | | | | | `", commit, "` |\n");
      continue;
    }
    absl::StrAppend(md, "| ", Label(*r), " | ", MarkdownCellText(r->setting.value_or("")), " | ",
                    DirectionSizes(r->kept_hidden), " | ", ContextualInputs(r->kept_inputs), " | ",
                    LstmParametersCell(*r), " | ", CountCell(r->parameters), " | ",
                    NumberCell(r->exact_match), " | ", NumberCell(r->f1), " | ",
                    LastValidationF1(*r), " | ", Speedup(*r, "lstms_b1"), " | ",
                    Speedup(*r, "model_b1"), " | ", Speedup(*r, "lstms_b32"), " | ",
                    Speedup(*r, "model_b32"), " | `", commit, "` |\n");
  }
  *md += "\n";
}

// Each L0 run beside the runs at its sizes ("sizes of <method> <setting>").
void RenderAtL0Sizes(const std::vector<const BidafPruningRecord*>& runs, std::string* md) {
  std::string rows;
  for (const BidafPruningRecord* l0 : runs) {
    const std::string sizes_of =
        absl::StrCat("sizes of ", l0->method.value_or(""), " ", l0->setting.value_or(""));
    std::vector<const BidafPruningRecord*> group = {l0};
    for (const BidafPruningRecord* r : runs) {
      if (r->setting == sizes_of) group.push_back(r);
    }
    if (group.size() == 1) continue;
    for (const BidafPruningRecord* r : group) {
      absl::StrAppend(&rows, "| ", MarkdownCellText(sizes_of.substr(9)), " | ", Label(*r), " | ",
                      LstmParametersCell(*r), " | ", NumberCell(r->exact_match), " | ",
                      NumberCell(r->f1), " | ", LastValidationF1(*r), " | ",
                      Speedup(*r, "lstms_b1"), " |\n");
    }
  }
  if (rows.empty()) return;
  absl::StrAppend(md,
                  "### At L0's sizes\n\nEach L0 run beside the fixed structures chosen from the "
                  "parent at exactly its kept sizes (every hidden and input gate set), trained "
                  "for the same budget.\n\n"
                  "| sizes of | method | LSTM parameters | exact match | F1 | last validation F1 "
                  "| LSTM speedup b1 |\n|---|---|---|---|---|---|---|\n",
                  rows, "\n");
}

}  // namespace

std::string RenderBidafPruningSection(const std::vector<BidafPruningRecord>& all,
                                      const std::vector<SquadRecord>& parents,
                                      const std::string& preset, const std::string& plot_file) {
  const std::vector<const BidafPruningRecord*> runs = OfPreset(all, preset);
  if (runs.empty()) return "";
  const BidafPruningRecord& any = *runs.front();
  std::string md = absl::StrCat(
      "## Pruning BiDAF: preset ", preset, " (protocol `", any.protocol.value_or("?"), "`)\n\n",
      "Every method starts from the squad task's parent (config hash `",
      any.parent_config_hash.value_or("?").substr(0, 12),
      "`) with the same budget (benchmarks/bidaf_pruning.h): a search phase of ",
      TextCell(any.search_epochs),
      " epoch(s) of the training questions under the method, the "
      "final gates folded in and closed neurons physically removed (pruning/bidaf_compaction.h), "
      "then ",
      TextCell(any.recovery_epochs),
      " epoch(s) of plain fine-tuning of the smaller network; structures fixed from the parent "
      "(structured magnitude, random) and the dense control train ",
      any.search_epochs && any.recovery_epochs
          ? absl::StrCat(*any.search_epochs + *any.recovery_epochs)
          : std::string("?"),
      " epochs (", TextCell(any.optimizer), " lr ", TextCell(any.learning_rate), ", batch ",
      TextCell(any.batch_size),
      "). Lambdas are per epoch of training questions. Exact match and F1 (percent) are on the "
      "evaluation articles; the last validation F1 is on the validation part carved from the "
      "training articles, the only scores settings are chosen on. Speedups: questions/s of the "
      "deployed network over the parent's, timed side by side in the run's process on the same "
      "engine (benchmarks/bidaf_timing.h; medians of ",
      TextCell(any.timing_repeats),
      " rounds), for the LSTMs alone and the whole model, at batch 1 and 32. Hidden sizes are "
      "per direction (forward/backward)",
      std::any_of(runs.begin(), runs.end(),
                  [](const BidafPruningRecord* r) { return r->lstm_weight_sparsity.has_value(); })
          ? ". Unstructured methods (L1 Lasso, gradual magnitude pruning) keep every neuron: "
            "the masked LSTM weights are set to 0 and held there through the recovery phase, "
            "and the network is timed as the dense network it still is on this engine (no "
            "irregular-sparse BiDAF engine). Each"
          : "; each",
      " record in `reports/results/bidaf_pruning_", preset,
      "_*.json` holds the command, commit, machine, threads, seed and the per-epoch "
      "curves.\n\n");
  RenderRunsTable(runs, ParentOf(parents, any), &md);
  RenderAtL0Sizes(runs, &md);
  if (!plot_file.empty()) {
    absl::StrAppend(&md, "![F1 against LSTM speedup, preset ", preset, "](", plot_file, ")\n\n");
  }
  absl::StrAppend(&md, "### Published compact BiDAF (not ours)\n\n| model | weights | source |\n",
                  "|---|---|---|\n| BiDAF pruned by ISS group Lasso | 2.69M | Wen et al., "
                  "Learning Intrinsic Sparse Structures within Long Short-Term Memory, ICLR 2018 "
                  "(arXiv 1709.05027), abstract; official protocol, d = 100 |\n\n");
  return md;
}

absl::Status PlotBidafPruning(const std::vector<BidafPruningRecord>& all,
                              const std::vector<SquadRecord>& parents, const std::string& preset,
                              const std::string& svg_path) {
  const std::vector<const BidafPruningRecord*> runs = OfPreset(all, preset);
  std::vector<std::string> titles;
  std::vector<std::vector<std::pair<double, double>>> points;  // (speedup, -F1)
  for (const BidafPruningRecord* r : runs) {
    if (!r->f1 || !r->speedups || !r->speedups->contains("lstms_b1")) continue;
    const std::string title = Label(*r);
    auto it = std::find(titles.begin(), titles.end(), title);
    if (it == titles.end()) {
      titles.push_back(title);
      points.emplace_back();
      it = titles.end() - 1;
    }
    points[it - titles.begin()].emplace_back((*r->speedups)["lstms_b1"].get<double>(), -*r->f1);
  }
  if (titles.empty()) return absl::OkStatus();
  std::string script = absl::StrCat(
      "set title ",
      GnuplotString(absl::StrCat("SQuAD (BiDAF), preset ", preset,
                                 ": F1 vs measured LSTM speedup (batch 1); lines: each "
                                 "method's Pareto front")),
      "\nset xlabel 'LSTM speedup over the parent (batch 1)'\nset ylabel 'F1 (percent)'\n"
      "set grid\nset key outside right\nset logscale x 2\n"
      "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
  std::string plots;
  const SquadRecord* parent = runs.empty() ? nullptr : ParentOf(parents, *runs.front());
  if (parent != nullptr && parent->f1) {
    absl::StrAppend(&script, "$parent << EOD\n1 ", absl::StrFormat("%.6g", *parent->f1), "\nEOD\n");
    plots = "plot $parent using 1:2 with points pt 3 ps 2 lc rgb '#000000' title 'parent'";
  }
  for (size_t i = 0; i < titles.size(); ++i) {
    const std::string color = kPlotColors[(i + 1) % kNumPlotColors];
    std::string all_block = absl::StrCat("$all", i, " << EOD\n");
    for (const auto& [x, y] : points[i])
      absl::StrAppend(&all_block, absl::StrFormat("%.6g %.6g\n", x, -y));
    std::string front_block = absl::StrCat("$front", i, " << EOD\n");
    for (size_t k : ParetoFront(points[i])) {
      absl::StrAppend(&front_block,
                      absl::StrFormat("%.6g %.6g\n", points[i][k].first, -points[i][k].second));
    }
    absl::StrAppend(&script, all_block, "EOD\n", front_block, "EOD\n");
    absl::StrAppend(&plots, plots.empty() ? "plot " : ", \\\n     ", "$all", i,
                    " using 1:2 with points pt ", 5 + i, " ps 1.1 lc rgb '", color, "' title ",
                    GnuplotString(titles[i]), ", \\\n     $front", i,
                    " using 1:2 with lines lw 2 lc rgb '", color, "' notitle");
  }
  absl::StrAppend(&script, plots, "\n");
  return RunGnuplotToSvg(script, svg_path, 960, 620);
}

absl::StatusOr<std::vector<BidafPruningRecord>> ReadBidafPruningRecords(
    const std::string& reports_dir) {
  const std::vector<std::string> files =
      FilesIn(reports_dir + "/results", "bidaf_pruning_", ".json");
  std::vector<BidafPruningRecord> runs;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(BidafPruningRecord r, ReadBidafPruningRecord(f));
    runs.push_back(std::move(r));
  }
  return runs;
}

}  // namespace rnnprune
