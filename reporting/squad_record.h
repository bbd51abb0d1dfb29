// The result record of one run of the squad task (BiDAF on SQuAD v1.1): what
// benchmarks/squad_task.h writes to <reports_dir>/results/squad_<preset>.json and
// reporting/squad_report.h renders. JSON through reporting/record_fields.h: every field may be
// absent (records of older versions), unknown keys are kept.
#ifndef RNNPRUNE_REPORTING_SQUAD_RECORD_H_
#define RNNPRUNE_REPORTING_SQUAD_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reporting/record_provenance.h"

namespace rnnprune {

struct SquadRecord {
  // Identity.
  std::optional<std::string> task;         // "squad"
  std::optional<std::string> config_hash;  // common/config_hash.h over data, sizes, schedule, seed
  std::optional<std::string> preset;
  std::optional<std::string> budget;  // the preset's note on its budget
  // Data: "local" (dev articles split by article, datasets/squad_split.h) or "official".
  std::optional<std::string> protocol;
  std::optional<std::string> train_source, eval_source;  // file, and the split when local
  std::optional<int64_t> train_articles, train_questions;
  std::optional<int64_t> eval_articles;
  std::optional<int64_t> eval_questions_total;          // before any cap of the preset
  std::optional<std::vector<std::string>> eval_titles;  // local protocol: the evaluation articles
  // How the articles were split (SquadSplit::description), and the validation part carved from
  // the training articles (absent in records written before it existed).
  std::optional<std::string> split;
  std::optional<int64_t> validation_articles, validation_questions_total;
  std::optional<int64_t> validation_questions;  // scored (the preset may cap them)
  std::optional<std::vector<std::string>> validation_titles;
  std::optional<int64_t> skipped_questions;                           // malformed, skipped
  std::optional<std::vector<std::string>> skipped_question_examples;  // "question <id>: why"
  std::optional<int64_t> word_vocab, char_vocab;                      // vocabulary sizes
  // Whose words the word vocabulary holds: "train" or "all" (Preset::squad_word_vocabulary);
  // absent in older records (then "train").
  std::optional<std::string> word_vocabulary;
  std::optional<std::string> embedding;  // how the word embeddings were initialised
  // Model: models/bidaf.h BidafConfig as JSON (hidden_size, word_dim, char_channels, ...).
  std::optional<nlohmann::json> config;
  std::optional<int64_t> parameters, trainable_parameters;
  std::optional<int64_t> max_answer_tokens;  // span length cap; 0: none
  // Schedule.
  std::optional<std::string> optimizer;
  std::optional<double> learning_rate;
  std::optional<int64_t> batch_size, epochs;
  std::optional<int64_t> max_steps_per_epoch;  // 0: whole epochs
  std::optional<double> ema_decay;
  // Training.
  std::optional<int64_t> steps;
  std::optional<int64_t> resumed_at_step;         // optimizer steps of the checkpoint resumed from
  std::optional<std::vector<double>> epoch_loss;  // mean CE start + CE end per epoch, nats
  // Exact match and F1 (percent) on the validation part after each epoch, with the weights the
  // evaluation uses (absent in records written before the validation part existed).
  std::optional<std::vector<double>> epoch_validation_exact_match, epoch_validation_f1;
  std::optional<double> train_seconds;  // over every process of a resumed run
  std::optional<double> train_questions_per_s;
  // Evaluation (exact match and F1 in percent, the official v1.1 metric).
  std::optional<int64_t> eval_questions;
  std::optional<double> exact_match, f1;
  std::optional<double> eval_seconds, eval_questions_per_s;
  std::optional<int64_t> eval_batch_size;
  std::optional<std::string> predictions_path;  // {question id: answer text}
  // The trained model as PyTorch loads it (tools/rnnprune_torch.py load): a folder with
  // config.json and model.pt (models/torch_export.h).
  std::optional<std::string> torch_export;
  // Provenance.
  RecordProvenance provenance;
  std::optional<double> wall_seconds;  // the whole task: data, training, evaluation
  std::optional<bool> reused;          // re-used from the results file by config hash
  // Set when the parent was not trained by this run but loaded from the file an earlier run of
  // the same training saved (benchmarks/squad_task.h): that run's command, commit and time.
  std::optional<std::string> trained_by;
  nlohmann::json extra = nlohmann::json::object();  // keys of other versions, kept as they are

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("task", self.task);
    visit("config_hash", self.config_hash);
    visit("preset", self.preset);
    visit("budget", self.budget);
    visit("protocol", self.protocol);
    visit("train_source", self.train_source);
    visit("eval_source", self.eval_source);
    visit("train_articles", self.train_articles);
    visit("train_questions", self.train_questions);
    visit("eval_articles", self.eval_articles);
    visit("eval_questions_total", self.eval_questions_total);
    visit("eval_titles", self.eval_titles);
    visit("split", self.split);
    visit("validation_articles", self.validation_articles);
    visit("validation_questions_total", self.validation_questions_total);
    visit("validation_questions", self.validation_questions);
    visit("validation_titles", self.validation_titles);
    visit("skipped_questions", self.skipped_questions);
    visit("skipped_question_examples", self.skipped_question_examples);
    visit("word_vocab", self.word_vocab);
    visit("char_vocab", self.char_vocab);
    visit("word_vocabulary", self.word_vocabulary);
    visit("embedding", self.embedding);
    visit("config", self.config);
    visit("parameters", self.parameters);
    visit("trainable_parameters", self.trainable_parameters);
    visit("max_answer_tokens", self.max_answer_tokens);
    visit("optimizer", self.optimizer);
    visit("learning_rate", self.learning_rate);
    visit("batch_size", self.batch_size);
    visit("epochs", self.epochs);
    visit("max_steps_per_epoch", self.max_steps_per_epoch);
    visit("ema_decay", self.ema_decay);
    visit("steps", self.steps);
    visit("resumed_at_step", self.resumed_at_step);
    visit("epoch_loss", self.epoch_loss);
    visit("epoch_validation_exact_match", self.epoch_validation_exact_match);
    visit("epoch_validation_f1", self.epoch_validation_f1);
    visit("train_seconds", self.train_seconds);
    visit("train_questions_per_s", self.train_questions_per_s);
    visit("eval_questions", self.eval_questions);
    visit("exact_match", self.exact_match);
    visit("f1", self.f1);
    visit("eval_seconds", self.eval_seconds);
    visit("eval_questions_per_s", self.eval_questions_per_s);
    visit("eval_batch_size", self.eval_batch_size);
    visit("predictions_path", self.predictions_path);
    visit("torch_export", self.torch_export);
    RecordProvenance::Fields(self.provenance, visit);
    visit("wall_seconds", self.wall_seconds);
    visit("reused", self.reused);
    visit("trained_by", self.trained_by);
  }

  // The record as the JSON object of a results file.
  nlohmann::json ToJson() const;

  // The record held by `j`. Errors: InvalidArgument when `j` is not an object or a field has the
  // wrong type (naming the field and the value).
  static absl::StatusOr<SquadRecord> FromJson(const nlohmann::json& j);
};

// The record in the results file at `path` (one JSON object). Errors: the file's read errors;
// InvalidArgument naming the file when it is not JSON or a field has the wrong type.
absl::StatusOr<SquadRecord> ReadSquadRecord(const std::string& path);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_SQUAD_RECORD_H_
