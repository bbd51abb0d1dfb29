#include "reporting/squad_report.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "reporting/bidaf_pruning_report.h"
#include "reporting/format.h"
#include "reporting/published.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// "d 100, word 100, char 100 (width 5), highway 2, modelling 2, dropout 0.2".
std::string Sizes(const SquadRecord& run) {
  if (!run.config || !run.config->is_object()) return "?";
  const json& c = *run.config;
  return absl::StrCat("d ", FieldText(c, "hidden_size"), ", word ", FieldText(c, "word_dim"),
                      ", char ", FieldText(c, "char_channels"), " (width ",
                      FieldText(c, "char_kernel_width"), "), dropout ", FieldText(c, "dropout"));
}

std::string Schedule(const SquadRecord& run) {
  std::string epochs = TextCell(run.epochs);
  if (run.max_steps_per_epoch.value_or(0) > 0) {
    epochs = absl::StrCat(epochs, " x ", CountCell(run.max_steps_per_epoch), " steps");
  } else {
    epochs = absl::StrCat(epochs, " epochs");
  }
  return absl::StrCat(epochs, ", batch ", TextCell(run.batch_size), ", ", TextCell(run.optimizer),
                      " lr ", TextCell(run.learning_rate), ", EMA ", TextCell(run.ema_decay));
}

std::string ProtocolTitle(const std::string& protocol) {
  if (protocol == "local") {
    return "Protocol `local`: dev-v1.1.json split by article into training, validation and "
           "evaluation articles (datasets/squad_split.h; each run's detail names its split). Not "
           "comparable with figures on the official protocol.";
  }
  if (protocol == "official") {
    return "Protocol `official`: trained on train-v1.1.json, evaluated on dev-v1.1.json.";
  }
  return absl::StrCat("Protocol `", protocol, "`");
}

// "; the first: a; b" style list of the malformed questions a record names, "" when none.
std::string SkippedExamples(const SquadRecord& r) {
  if (!r.skipped_question_examples) return "";
  std::vector<std::string> named;
  for (const std::string& e : *r.skipped_question_examples) named.push_back(MarkdownCellText(e));
  return absl::StrCat(" (the first: ", absl::StrJoin(named, "; "), ")");
}

std::string EpochLosses(const SquadRecord& r) {
  if (!r.epoch_loss) return "?";
  std::vector<std::string> parts;
  for (double l : *r.epoch_loss) parts.push_back(absl::StrFormat("%.3f", l));
  return absl::StrJoin(parts, ", ");
}

// "F1 (epoch k)": the best validation F1 of the per-epoch curve, "?" when the record has none.
std::string BestValidation(const SquadRecord& r) {
  if (!r.epoch_validation_f1 || r.epoch_validation_f1->empty()) return "?";
  const std::vector<double>& f1 = *r.epoch_validation_f1;
  const size_t best = static_cast<size_t>(std::max_element(f1.begin(), f1.end()) - f1.begin());
  return absl::StrFormat("%.2f (epoch %d)", f1[best], best + 1);
}

// "EM / F1" per epoch on the validation part, "?" when the record has none.
std::string EpochValidation(const SquadRecord& r) {
  if (!r.epoch_validation_exact_match || !r.epoch_validation_f1) return "?";
  std::vector<std::string> parts;
  const size_t n = std::min(r.epoch_validation_exact_match->size(), r.epoch_validation_f1->size());
  for (size_t e = 0; e < n; ++e) {
    parts.push_back(absl::StrFormat("%d: %.2f / %.2f", e + 1, (*r.epoch_validation_exact_match)[e],
                                    (*r.epoch_validation_f1)[e]));
  }
  return absl::StrJoin(parts, "; ");
}

// The provenance rows of a run's detail table.
void RenderProvenanceRows(const SquadRecord& r, std::string* md) {
  const RecordProvenance& p = r.provenance;
  absl::StrAppend(md, "| command | `", TextCell(p.command), "` |\n");
  absl::StrAppend(md, "| git commit | `", TextCell(p.git_commit), "` |\n");
  absl::StrAppend(md, "| when (UTC) | ", TextCell(p.timestamp_utc), " |\n");
  absl::StrAppend(md, "| machine | ", TextCell(p.cpu_model), ", ", TextCell(p.logical_cpus),
                  " logical CPUs; ", TextCell(p.threads), " threads; host `", TextCell(p.hostname),
                  "` |\n");
  absl::StrAppend(md, "| seed | ", TextCell(p.seed), " |\n");
  if (r.trained_by) {  // the parent was adopted from an earlier run's file, not trained here
    absl::StrAppend(md, "| parent trained by | `", TextCell(r.trained_by), "` |\n");
  }
}

// One run's detail table: provenance, data, model, schedule, training and evaluation.
void RenderRunDetail(const SquadRecord& r, std::string* md) {
  absl::StrAppend(md, "### ", PresetCell(r.preset, r.provenance.sweep_point), " (protocol `",
                  TextCell(r.protocol), "`)\n\n");
  absl::StrAppend(md, "| | |\n|---|---|\n");
  RenderProvenanceRows(r, md);
  absl::StrAppend(md, "| training data | ", TextCell(r.train_source), ": ",
                  CountCell(r.train_articles), " articles, ", CountCell(r.train_questions),
                  " questions |\n");
  absl::StrAppend(
      md, "| evaluation data | ", TextCell(r.eval_source), ": ", CountCell(r.eval_articles),
      " articles, ", CountCell(r.eval_questions_total), " questions",
      r.eval_titles ? absl::StrCat(" (", MarkdownCellText(absl::StrJoin(*r.eval_titles, ", ")), ")")
                    : std::string(),
      " |\n");
  if (r.split) absl::StrAppend(md, "| article split | ", TextCell(r.split), " |\n");
  if (r.validation_articles) {
    absl::StrAppend(
        md, "| validation data (carved from the training articles) | ",
        CountCell(r.validation_articles), " articles, ", CountCell(r.validation_questions_total),
        " questions",
        r.validation_questions.value_or(0) < r.validation_questions_total.value_or(0)
            ? absl::StrCat(" (the first ", CountCell(r.validation_questions), " scored)")
            : std::string(),
        r.validation_titles
            ? absl::StrCat(" (", MarkdownCellText(absl::StrJoin(*r.validation_titles, ", ")), ")")
            : std::string(),
        " |\n");
  }
  absl::StrAppend(md, "| questions skipped as malformed | ", CountCell(r.skipped_questions),
                  SkippedExamples(r), " |\n");
  const bool all_words = r.word_vocabulary.value_or("train") == "all";
  absl::StrAppend(md, "| vocabularies | ", CountCell(r.word_vocab),
                  all_words ? " words (of every split: rows of words absent from training are "
                              "never updated), "
                            : " words, ",
                  CountCell(r.char_vocab), " characters (from the training data) |\n");
  absl::StrAppend(md, "| word embeddings | ", TextCell(r.embedding), " |\n");
  absl::StrAppend(md, "| model | ", Sizes(r), "; ", CountCell(r.parameters), " parameters (",
                  CountCell(r.trainable_parameters), " trained); config `",
                  r.config ? r.config->dump() : std::string("?"), "` |\n");
  absl::StrAppend(md, "| schedule | ", Schedule(r), "; ", CountCell(r.steps), " steps |\n");
  absl::StrAppend(md, "| training loss per epoch (nats, CE start + CE end) | ", EpochLosses(r),
                  " |\n");
  if (r.epoch_validation_f1) {
    absl::StrAppend(md, "| validation exact match / F1 per epoch | ", EpochValidation(r), " |\n");
  }
  absl::StrAppend(md, "| training time | ", DurationCell(r.train_seconds), " (",
                  NumberCell(r.train_questions_per_s, "%.1f"), " questions/s) |\n");
  absl::StrAppend(
      md, "| evaluation | ", DurationCell(r.eval_seconds), " (",
      NumberCell(r.eval_questions_per_s, "%.1f"), " questions/s, batch ",
      TextCell(r.eval_batch_size), "); span length cap ",
      r.max_answer_tokens.value_or(0) > 0 ? TextCell(r.max_answer_tokens) : std::string("none"),
      " |\n");
  absl::StrAppend(md, "| predictions | `", TextCell(r.predictions_path), "` |\n");
  if (r.budget) absl::StrAppend(md, "| preset note | ", TextCell(r.budget), " |\n");
  *md += "\n";
}

}  // namespace

std::string RenderSquadReport(const std::vector<SquadRecord>& runs_in,
                              const std::string& pruning_sections) {
  std::vector<SquadRecord> runs = runs_in;
  // Presets largest first; the points of a sweep in the order of their swept values.
  std::stable_sort(runs.begin(), runs.end(), [](const SquadRecord& a, const SquadRecord& b) {
    const int ra = PresetRank(a.preset.value_or("")), rb = PresetRank(b.preset.value_or(""));
    if (ra != rb) return ra < rb;
    return a.provenance.sweep_point.value_or(nlohmann::json()) <
           b.provenance.sweep_point.value_or(nlohmann::json());
  });
  std::map<std::string, std::vector<const SquadRecord*>> by_protocol;
  for (const SquadRecord& r : runs) by_protocol[r.protocol.value_or("?")].push_back(&r);

  std::string md =
      "# SQuAD v1.1 with BiDAF\n\n"
      "Generated from `reports/results/squad_*.json` by the main job (`bazel run -c opt "
      "//benchmarks:all`, task `squad`); re-render with `bazel run -c opt //benchmarks:all -- "
      "--tasks=squad --render_only`. Do not edit by hand.\n\n"
      "BiDAF (Seo et al. 2017) in C++ (models/bidaf.h), trained with cross-entropy of the start "
      "and end pointers and evaluated with the exponential moving average of its weights; the "
      "answer is the span maximising p_start(i) p_end(j), i <= j. Exact match and F1 are the "
      "official v1.1 metric (datasets/squad_metric.h), in percent, over every evaluated "
      "question.\n\n";
  for (const auto& [protocol, list] : by_protocol) {
    absl::StrAppend(&md, "## ", ProtocolTitle(protocol), "\n\n");
    absl::StrAppend(&md,
                    "| preset | exact match | F1 | evaluated questions | best validation F1 | "
                    "training questions | BiDAF sizes | schedule | steps | training time | "
                    "training (questions/s) | evaluation (questions/s) | threads | commit |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const SquadRecord* r : list) {
      std::string evaluated = CountCell(r->eval_questions);
      if (!r->exact_match && !r->f1 && !r->eval_questions) {
        evaluated = "none (a sweep run: --noevaluate_test)";
      } else if (r->eval_questions.value_or(0) < r->eval_questions_total.value_or(0)) {
        evaluated = absl::StrCat(evaluated, " of ", CountCell(r->eval_questions_total),
                                 " (the first, in file order)");
      }
      absl::StrAppend(
          &md, "| ", PresetCell(r->preset, r->provenance.sweep_point), " | ",
          NumberCell(r->exact_match), " | ", NumberCell(r->f1), " | ", evaluated, " | ",
          BestValidation(*r), " | ", CountCell(r->train_questions), " | ", Sizes(*r), " | ",
          Schedule(*r), " | ", CountCell(r->steps), " | ", DurationCell(r->train_seconds), " | ",
          NumberCell(r->train_questions_per_s, "%.1f"), " | ",
          NumberCell(r->eval_questions_per_s, "%.1f"), " | ", TextCell(r->provenance.threads),
          " | `", TextCell(r->provenance.git_commit).substr(0, 12), "` |\n");
    }
    md += "\n";
  }

  md += pruning_sections;
  md += "## Runs in detail\n\n";
  for (const SquadRecord& r : runs) RenderRunDetail(r, &md);

  absl::StrAppend(
      &md,
      "## Published (not ours)\n\n"
      "| model | exact match | F1 | source |\n|---|---|---|---|\n| ",
      kBidafPublished.model, " | ", absl::StrFormat("%.1f", kBidafPublished.exact_match), " | ",
      absl::StrFormat("%.1f", kBidafPublished.f1), " | ", kBidafPublished.source, " |\n\n",
      "The published figures come from the official protocol (87,599 training "
      "questions, 12 epochs, full GloVe). Runs on the local protocol train on part of "
      "the dev questions (each run's detail gives how many) and are evaluated on other dev "
      "articles: they are not comparable with it.\n");
  return md;
}

absl::Status RenderSquadReportFiles(const std::string& reports_dir) {
  const std::string dir = reports_dir + "/results";
  const std::vector<std::string> files = FilesIn(dir, "squad_", ".json");
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no SQuAD results (", dir, "/squad_*.json)"));
  }
  std::vector<SquadRecord> runs;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(SquadRecord r, ReadSquadRecord(f));
    runs.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<BidafPruningRecord> pruning, ReadBidafPruningRecords(reports_dir));
  std::vector<std::string> presets;
  for (const BidafPruningRecord& r : pruning) {
    const std::string preset = r.preset.value_or("?");
    if (std::find(presets.begin(), presets.end(), preset) == presets.end()) {
      presets.push_back(preset);
    }
  }
  std::stable_sort(presets.begin(), presets.end(), [](const std::string& a, const std::string& b) {
    return PresetRank(a) < PresetRank(b);
  });
  std::string sections;
  for (const std::string& preset : presets) {
    const std::string plot = absl::StrCat("squad_pruning_", preset, ".svg");
    RETURN_IF_ERROR(PlotBidafPruning(pruning, runs, preset, reports_dir + "/" + plot));
    sections += RenderBidafPruningSection(pruning, runs, preset, plot);
  }
  return WriteFileAtomically(reports_dir + "/squad.md", RenderSquadReport(runs, sections));
}

}  // namespace rnnprune
