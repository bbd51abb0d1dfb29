#include "reporting/squad_report.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "reporting/format.h"
#include "reporting/published.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

// "d 100, word 100, char 100 (width 5), highway 2, modelling 2, dropout 0.2".
std::string Sizes(const json& run) {
  if (!run.contains("config") || !run["config"].is_object()) return "?";
  const json& c = run["config"];
  return absl::StrCat("d ", FieldText(c, "hidden_size"), ", word ", FieldText(c, "word_dim"),
                      ", char ", FieldText(c, "char_channels"), " (width ",
                      FieldText(c, "char_kernel_width"), "), dropout ", FieldText(c, "dropout"));
}

std::string Schedule(const json& run) {
  std::string epochs = FieldText(run, "epochs");
  if (run.value("max_steps_per_epoch", 0) > 0) {
    epochs = absl::StrCat(epochs, " x ", FieldCount(run, "max_steps_per_epoch"), " steps");
  } else {
    epochs = absl::StrCat(epochs, " epochs");
  }
  return absl::StrCat(epochs, ", batch ", FieldText(run, "batch_size"), ", ",
                      FieldText(run, "optimizer"), " lr ", FieldText(run, "learning_rate"),
                      ", EMA ", FieldText(run, "ema_decay"));
}

std::string ProtocolTitle(const std::string& protocol) {
  if (protocol == "local") {
    return "Protocol `local`: trained on 39 articles of dev-v1.1.json, evaluated on the 9 "
           "others (datasets/squad_split.h; split by article). Not comparable with figures on "
           "the official protocol.";
  }
  if (protocol == "official") {
    return "Protocol `official`: trained on train-v1.1.json, evaluated on dev-v1.1.json.";
  }
  return absl::StrCat("Protocol `", protocol, "`");
}

}  // namespace

std::string RenderSquadReport(const std::vector<json>& runs_in) {
  std::vector<json> runs = runs_in;
  std::stable_sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
    return PresetRank(a.value("preset", "")) < PresetRank(b.value("preset", ""));
  });
  std::map<std::string, std::vector<const json*>> by_protocol;
  for (const json& r : runs) by_protocol[r.value("protocol", std::string("?"))].push_back(&r);

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
                    "| preset | exact match | F1 | evaluated questions | training questions | "
                    "BiDAF sizes | schedule | steps | training time | training (questions/s) | "
                    "evaluation (questions/s) | threads | commit |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const json* r : list) {
      std::string evaluated = FieldCount(*r, "eval_questions");
      if (r->value("eval_questions", 0) < r->value("eval_questions_total", 0)) {
        evaluated = absl::StrCat(evaluated, " of ", FieldCount(*r, "eval_questions_total"),
                                 " (the first, in file order)");
      }
      absl::StrAppend(&md, "| ", FieldText(*r, "preset"), " | ", FieldNumber(*r, "exact_match"),
                      " | ", FieldNumber(*r, "f1"), " | ", evaluated, " | ",
                      FieldCount(*r, "train_questions"), " | ", Sizes(*r), " | ", Schedule(*r),
                      " | ", FieldCount(*r, "steps"), " | ", FieldDuration(*r, "train_seconds"),
                      " | ", FieldNumber(*r, "train_questions_per_s", "%.1f"), " | ",
                      FieldNumber(*r, "eval_questions_per_s", "%.1f"), " | ",
                      FieldText(*r, "threads"), " | `", FieldText(*r, "git_commit").substr(0, 12),
                      "` |\n");
    }
    md += "\n";
  }

  md += "## Runs in detail\n\n";
  for (const json& r : runs) {
    absl::StrAppend(&md, "### ", FieldText(r, "preset"), " (protocol `", FieldText(r, "protocol"),
                    "`)\n\n");
    absl::StrAppend(&md, "| | |\n|---|---|\n");
    absl::StrAppend(&md, "| command | `", FieldText(r, "command"), "` |\n");
    absl::StrAppend(&md, "| git commit | `", FieldText(r, "git_commit"), "` |\n");
    absl::StrAppend(&md, "| when (UTC) | ", FieldText(r, "timestamp_utc"), " |\n");
    absl::StrAppend(&md, "| machine | ", FieldText(r, "cpu_model"), ", ",
                    FieldText(r, "logical_cpus"), " logical CPUs; ", FieldText(r, "threads"),
                    " threads; host `", FieldText(r, "hostname"), "` |\n");
    absl::StrAppend(&md, "| seed | ", FieldText(r, "seed"), " |\n");
    absl::StrAppend(&md, "| training data | ", FieldText(r, "train_source"), ": ",
                    FieldCount(r, "train_articles"), " articles, ",
                    FieldCount(r, "train_questions"), " questions |\n");
    absl::StrAppend(
        &md, "| evaluation data | ", FieldText(r, "eval_source"), ": ",
        FieldCount(r, "eval_articles"), " articles, ", FieldCount(r, "eval_questions_total"),
        " questions",
        r.contains("eval_titles")
            ? absl::StrCat(
                  " (", absl::StrJoin(r["eval_titles"].get<std::vector<std::string>>(), ", "), ")")
            : std::string(),
        " |\n");
    std::string examples;
    if (r.contains("skipped_question_examples") && r["skipped_question_examples"].is_array()) {
      std::vector<std::string> named;
      for (const json& e : r["skipped_question_examples"]) {
        named.push_back(MarkdownCellText(e.is_string() ? e.get<std::string>() : e.dump()));
      }
      examples = absl::StrCat(" (the first: ", absl::StrJoin(named, "; "), ")");
    }
    absl::StrAppend(&md, "| questions skipped as malformed | ", FieldCount(r, "skipped_questions"),
                    examples, " |\n");
    absl::StrAppend(&md, "| vocabularies | ", FieldCount(r, "word_vocab"), " words, ",
                    FieldCount(r, "char_vocab"), " characters (from the training data) |\n");
    absl::StrAppend(&md, "| word embeddings | ", FieldText(r, "embedding"), " |\n");
    absl::StrAppend(&md, "| model | ", Sizes(r), "; ", FieldCount(r, "parameters"), " parameters (",
                    FieldCount(r, "trainable_parameters"), " trained); config `",
                    r.contains("config") ? r["config"].dump() : std::string("?"), "` |\n");
    absl::StrAppend(&md, "| schedule | ", Schedule(r), "; ", FieldCount(r, "steps"), " steps |\n");
    std::string losses = "?";
    if (r.contains("epoch_loss") && r["epoch_loss"].is_array()) {
      std::vector<std::string> parts;
      for (const json& l : r["epoch_loss"])
        parts.push_back(absl::StrFormat("%.3f", l.get<double>()));
      losses = absl::StrJoin(parts, ", ");
    }
    absl::StrAppend(&md, "| training loss per epoch (nats, CE start + CE end) | ", losses, " |\n");
    absl::StrAppend(&md, "| training time | ", FieldDuration(r, "train_seconds"), " (",
                    FieldNumber(r, "train_questions_per_s", "%.1f"), " questions/s) |\n");
    absl::StrAppend(&md, "| evaluation | ", FieldDuration(r, "eval_seconds"), " (",
                    FieldNumber(r, "eval_questions_per_s", "%.1f"), " questions/s, batch ",
                    FieldText(r, "eval_batch_size"), "); span length cap ",
                    r.value("max_answer_tokens", 0) > 0 ? FieldText(r, "max_answer_tokens")
                                                        : std::string("none"),
                    " |\n");
    absl::StrAppend(&md, "| predictions | `", FieldText(r, "predictions_path"), "` |\n");
    if (r.contains("budget"))
      absl::StrAppend(&md, "| preset note | ", FieldText(r, "budget"), " |\n");
    md += "\n";
  }

  absl::StrAppend(
      &md,
      "## Published (not ours)\n\n"
      "| model | exact match | F1 | source |\n|---|---|---|---|\n| ",
      kBidafPublished.model, " | ", absl::StrFormat("%.1f", kBidafPublished.exact_match), " | ",
      absl::StrFormat("%.1f", kBidafPublished.f1), " | ", kBidafPublished.source, " |\n\n",
      "The published figures come from the official protocol (87,599 training "
      "questions, 12 epochs, full GloVe). Runs on the local protocol train on 8,595 "
      "dev questions and are evaluated on other dev articles: they are not "
      "comparable with it.\n");
  return md;
}

absl::Status RenderSquadReportFiles(const std::string& reports_dir) {
  const std::string dir = reports_dir + "/results";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (absl::StartsWith(name, "squad_") && absl::EndsWith(name, ".json")) {
        files.push_back(dir + "/" + name);
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no SQuAD results (", dir, "/squad_*.json)"));
  }
  std::vector<json> runs;
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = ReadFile(f);
    if (!text.ok()) return text.status();
    json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": not a JSON object"));
    }
    runs.push_back(std::move(j));
  }
  return WriteFileAtomically(reports_dir + "/squad.md", RenderSquadReport(runs));
}

}  // namespace rnnprune
