#include "benchmarks/squad_task.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/preset_sweep.h"
#include "benchmarks/squad_pruning.h"
#include "common/config_hash.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/glove.h"
#include "datasets/squad.h"
#include "datasets/squad_split.h"
#include "models/bidaf.h"
#include "models/bidaf_checkpoint.h"
#include "models/torch_export.h"
#include "reporting/bidaf_pruning_record.h"
#include "reporting/record_provenance.h"
#include "reporting/squad_record.h"
#include "reporting/squad_report.h"
#include "torch/torch.h"
#include "training/bidaf_trainer.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxWordChars = 16;    // characters kept per token (BiDAF's code keeps 16)
constexpr int64_t kEvalBatchSize = 100;  // questions per evaluation batch

absl::StatusOr<SquadDataset> LoadChecked(const std::string& path, const std::string& sha256,
                                         const SquadLoadOptions& lo) {
  if (!sha256.empty()) {
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    const std::string got = Sha256Hex(bytes);
    if (got != sha256) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": SHA-256 ", got, " does not match the official dev-v1.1.json (", sha256,
          "); the file is corrupt or another version (use --noverify_checksums to run on it "
          "anyway)"));
    }
  }
  return LoadSquad(path, lo);
}

// The GloVe file the task reads: the one given, else the first of the data folder's that exists;
// "" for "none" or when there is none (random word embeddings).
std::string ResolveGlove(const SuiteOptions& o, const Preset& p) {
  if (o.glove == "none") return "";
  if (!o.glove.empty()) return o.glove;
  for (const char* suffix : {"d.txt.gz", "d.txt", "d.first100.txt.gz"}) {
    const std::string candidate =
        absl::StrCat(o.data_dir, "/glove/glove.6B.", p.squad_word_dim, suffix);
    if (access(candidate.c_str(), R_OK) == 0) return candidate;
  }
  return "";
}

// The hashes of a run: `config` over everything that determines its record (data, protocol,
// sizes, schedule, seed, whether the evaluation articles are scored) and `training` over what
// determines the trained parent alone (the same without the evaluation switch): a sweep choosing
// on the validation part (--noevaluate_test) and the main job share one parent file.
struct SquadHashes {
  std::string config, training;
};

absl::StatusOr<SquadHashes> SquadConfigHashes(const SuiteOptions& o, const Preset& p,
                                              const std::string& glove,
                                              const std::string& dev_path) {
  json identity = {{"task", "squad"},
                   {"preset", p.name},
                   {"hidden_size", p.squad_hidden_size},
                   {"word_dim", p.squad_word_dim},
                   {"char_channels", p.squad_char_channels},
                   {"epochs", p.squad_epochs},
                   {"max_steps_per_epoch", p.squad_max_steps_per_epoch},
                   {"batch_size", p.squad_batch_size},
                   {"optimizer", p.squad_optimizer},
                   {"learning_rate", p.squad_learning_rate},
                   {"ema_decay", p.squad_ema_decay},
                   {"max_eval_questions", p.squad_max_eval_questions},
                   {"max_answer_tokens", p.squad_max_answer_tokens},
                   {"word_vocabulary", p.squad_word_vocabulary},
                   {"word_embedding", p.squad_word_embedding},
                   {"random_word_rows", p.squad_random_word_rows},
                   {"seed", o.seed},
                   // The file's name, not its folder: the same data re-used from another clone.
                   {"glove", glove.substr(glove.find_last_of('/') + 1)}};
  // Dropout other than the paper's 0.2, which every record before the field existed used (and
  // whose hashes stay as they were).
  if (p.squad_dropout != 0.2) identity["dropout"] = p.squad_dropout;
  // The articles on each side (datasets/squad_split.h); "split_version" 2 holds out a validation
  // part of the training articles (version 1 trained on all of them).
  identity["split"] = {{"eval_titles", o.squad_split.eval_titles},
                       {"fold", o.squad_split.fold},
                       {"validation_titles", o.squad_split.validation_titles},
                       {"split_version", 2}};
  ASSIGN_OR_RETURN(std::string dev_bytes, ReadFile(dev_path));
  identity["dev_sha256"] = Sha256Hex(dev_bytes);
  if (!o.squad_train.empty()) {
    ASSIGN_OR_RETURN(std::string train_bytes, ReadFile(o.squad_train));
    identity["train_sha256"] = Sha256Hex(train_bytes);
  }
  SquadHashes h;
  h.training = ConfigHash(identity);
  // Sweeps choosing on the validation part never score the evaluation articles (a key absent
  // from the hashes of evaluated runs, which keep theirs: for them both hashes are equal).
  if (!o.evaluate_test) identity["evaluate"] = false;
  h.config = ConfigHash(identity);
  return h;
}

// The finished record at `record_path` when it has this config hash and its predictions still
// exist (marked "reused"); nullopt otherwise (or with --force). Errors: a record file that
// cannot be read or holds a field of the wrong type.
// `parent_path` (non-empty when pruning runs follow) must exist too.
absl::StatusOr<std::optional<SquadRecord>> ReusableSquadRecord(const SuiteOptions& o,
                                                               const std::string& record_path,
                                                               const std::string& hash,
                                                               const std::string& parent_path) {
  if (o.force || access(record_path.c_str(), R_OK) != 0) return std::optional<SquadRecord>();
  ASSIGN_OR_RETURN(SquadRecord earlier, ReadSquadRecord(record_path));
  if (earlier.config_hash != hash ||
      (o.evaluate_test && access(earlier.predictions_path.value_or("").c_str(), R_OK) != 0) ||
      (!parent_path.empty() && access(parent_path.c_str(), R_OK) != 0)) {
    return std::optional<SquadRecord>();
  }
  o.log(absl::StrCat("[squad] re-using the finished run of ",
                     earlier.provenance.timestamp_utc.value_or("?"), " (config hash ",
                     hash.substr(0, 12), "; --force recomputes)"));
  earlier.reused = true;
  return std::optional<SquadRecord>(std::move(earlier));
}

}  // namespace

std::string SquadRecordPath(const TaskContext& context) {
  const std::string point =
      context.sweep_point.empty() ? "" : absl::StrCat("_", SweepPointId(context.sweep_point));
  return absl::StrCat(context.options.reports_dir, "/results/squad_", context.preset.name, point,
                      ".json");
}

std::string SquadParentPath(const TaskContext& context, const std::string& hash) {
  return absl::StrCat(context.options.output_dir, "/squad_", context.preset.name, "_",
                      hash.substr(0, 12), ".bidaf");
}

std::optional<double> EarlierSquadSeconds(const TaskContext& context) {
  const std::string path = SquadRecordPath(context);
  absl::StatusOr<SquadRecord> r = ReadSquadRecord(path);
  if (!r.ok()) return std::nullopt;
  double seconds = 0;
  if (r->wall_seconds) {
    seconds = *r->wall_seconds;
  } else if (r->train_seconds) {
    seconds = *r->train_seconds + r->eval_seconds.value_or(0.0);
  } else {
    return std::nullopt;
  }
  // A parent adopted from an earlier run's file: a fresh run trains it too.
  if (r->trained_by) seconds += r->train_seconds.value_or(0.0);
  // The pruning runs made from that parent, when the preset lists any.
  if (context.preset.squad_methods.empty()) return seconds;
  for (const std::string& f :
       FilesIn(context.options.reports_dir + "/results",
               absl::StrCat("bidaf_pruning_", context.preset.name, "_"), ".json")) {
    absl::StatusOr<BidafPruningRecord> run = ReadBidafPruningRecord(f);
    if (run.ok() && run->parent_config_hash == r->config_hash) {
      seconds += run->wall_seconds.value_or(0.0);
    }
  }
  return seconds;
}

namespace {

// The questions trained on and evaluated: the official protocol (--squad_train, evaluated on
// dev) or the local one (dev articles split by article).
struct SquadData {
  SquadSplit split;
  std::string train_source, eval_source;
  int64_t skipped = 0;                // malformed questions skipped
  std::vector<std::string> examples;  // the first kNamedSkipped of them: "question <id>: why"
};

// Malformed questions named in the log and the record (all are counted).
constexpr size_t kNamedSkipped = 5;

absl::StatusOr<SquadData> LoadSquadData(const SuiteOptions& o, SquadDataset dev,
                                        const std::string& dev_path, const SquadLoadOptions& lo) {
  SquadData d;
  d.eval_source = dev_path;
  if (!o.squad_train.empty()) {
    ASSIGN_OR_RETURN(SquadDataset train, LoadSquad(o.squad_train, lo));
    ASSIGN_OR_RETURN(d.split, SplitSquadOfficial(std::move(train), std::move(dev), o.squad_split));
    d.train_source = o.squad_train;
  } else {
    ASSIGN_OR_RETURN(d.split, SplitSquadLocal(dev, o.squad_split));
    d.train_source = absl::StrCat(dev_path, ", local split");
    d.eval_source = absl::StrCat(dev_path, ", local split");
  }
  d.skipped =
      static_cast<int64_t>(d.split.train.skipped.size()) +
      (d.split.protocol == "official" ? static_cast<int64_t>(d.split.eval.skipped.size()) : 0);
  for (const SquadDataset* set : {&d.split.train, &d.split.eval}) {
    if (set == &d.split.eval && d.split.protocol != "official") break;
    for (const std::string& why : set->skipped) {
      if (d.examples.size() < kNamedSkipped) d.examples.push_back(why);
    }
  }
  o.log(absl::StrFormat(
      "[squad] protocol %s, %s: training on %d articles, %d questions; validating on %d "
      "articles, %d questions; evaluating on %d articles, %d questions; %d malformed questions "
      "skipped%s",
      d.split.protocol, d.split.description, d.split.train.articles.size(),
      d.split.train.num_questions, d.split.validation.articles.size(),
      d.split.validation.num_questions, d.split.eval.articles.size(), d.split.eval.num_questions,
      d.skipped,
      d.examples.empty()
          ? std::string()
          : absl::StrCat(
                d.skipped > static_cast<int64_t>(d.examples.size()) ? " (the first: " : " (",
                absl::StrJoin(d.examples, "; "), ")")));
  return d;
}

// BiDAF of the preset's sizes over these vocabularies, its word embedding set from GloVe rows
// where there are some, else seeded random rows (fixed or trained as the preset's
// squad_word_embedding says; "auto": fixed when at least half come from GloVe).
struct SquadModel {
  BidafConfig config;
  Bidaf model{nullptr};
  std::string embedding_note;  // for the report
};

absl::StatusOr<SquadModel> BuildSquadModel(const SuiteOptions& o, const Preset& p,
                                           const SquadVocab& words, const SquadVocab& chars,
                                           const std::string& glove_path) {
  std::optional<GloveVectors> glove;
  if (!glove_path.empty()) {
    ASSIGN_OR_RETURN(GloveVectors g, LoadGlove(glove_path));
    glove = std::move(g);
  }
  ASSIGN_OR_RETURN(EmbeddingInit embedding,
                   MakeEmbedding(words.entries, glove ? &*glove : nullptr, p.squad_word_dim,
                                 static_cast<uint64_t>(o.seed), glove_path,
                                 p.squad_random_word_rows == "normal" ? RandomRows::kNormal
                                                                      : RandomRows::kUniform));
  SquadModel m;
  BidafConfig& config = m.config;
  config.word_vocab_size = words.size();
  config.char_vocab_size = chars.size();
  config.word_dim = p.squad_word_dim;
  config.char_channels = p.squad_char_channels;
  config.hidden_size = p.squad_hidden_size;
  config.max_answer_tokens = p.squad_max_answer_tokens;
  config.dropout = p.squad_dropout;
  config.freeze_word_embedding = p.squad_word_embedding == "auto"
                                     ? 2 * embedding.from_glove >= words.size()
                                     : p.squad_word_embedding == "fixed";
  RETURN_IF_ERROR(config.Validate());
  std::string message = embedding.message;
  if (absl::StartsWith(message, "word embeddings: ")) message.erase(0, 17);
  const char* why = p.squad_word_embedding != "auto" ? " (the preset's squad_word_embedding)"
                    : config.freeze_word_embedding   ? " (as the paper)"
                                                     : " (under half of the words come from GloVe)";
  m.embedding_note = absl::StrCat(
      message, config.freeze_word_embedding ? "; fixed during training" : "; trained", why);
  o.log(absl::StrCat("[squad] ", words.size(), " words, ", chars.size(),
                     " characters; word embeddings: ", m.embedding_note));
  torch::manual_seed(static_cast<uint64_t>(o.seed));
  m.model = Bidaf(config);
  RETURN_IF_ERROR(m.model->SetWordEmbedding(
      torch::from_blob(embedding.weights.data(), {words.size(), p.squad_word_dim}, torch::kFloat32)
          .clone()));
  return m;
}

// The trainer's options: the preset's schedule, resumable from the training checkpoint.
BidafTrainOptions SquadTrainOptions(const SuiteOptions& o, const Preset& p,
                                    const std::string& training_ckpt, const std::string& hash) {
  BidafTrainOptions to;
  to.epochs = p.squad_epochs;
  to.max_steps_per_epoch = p.squad_max_steps_per_epoch;
  to.batch_size = p.squad_batch_size;
  to.optimizer = p.squad_optimizer;
  to.learning_rate = p.squad_learning_rate;
  to.seed = static_cast<uint64_t>(o.seed);
  to.ema_decay = p.squad_ema_decay;
  to.log = [log = o.log](const std::string& line) { log(absl::StrCat("[squad] ", line)); };
  to.checkpoint_path = training_ckpt;
  to.checkpoint_every_steps = o.checkpoint_every_steps;
  to.resume = !o.force;
  to.config_hash = hash;
  return to;
}

// What the record says of the data, the model and the schedule.
void SetSetupFields(const Preset& p, const SquadData& d, const SquadVocab& words,
                    const SquadVocab& chars, const SquadModel& m, const BidafTrainOptions& to,
                    int64_t train_questions, int64_t eval_total, SquadRecord* r) {
  r->budget = p.squad_budget;
  r->protocol = d.split.protocol;
  r->train_source = d.train_source;
  r->eval_source = d.eval_source;
  r->train_articles = static_cast<int64_t>(d.split.train.articles.size());
  r->train_questions = train_questions;
  r->eval_articles = static_cast<int64_t>(d.split.eval.articles.size());
  r->eval_questions_total = eval_total;
  r->split = d.split.description;
  if (d.split.protocol == "local") r->eval_titles = d.split.eval_titles;
  r->validation_articles = static_cast<int64_t>(d.split.validation.articles.size());
  r->validation_questions_total = d.split.validation.num_questions;
  r->validation_titles = d.split.validation_titles;
  r->skipped_questions = d.skipped;
  if (!d.examples.empty()) r->skipped_question_examples = d.examples;
  r->word_vocab = words.size();
  r->word_vocabulary = p.squad_word_vocabulary;
  r->char_vocab = chars.size();
  r->embedding = m.embedding_note;
  r->config = json::parse(m.config.ToJson());
  r->parameters = m.config.NumParameters();
  r->trainable_parameters = m.config.NumTrainableParameters();
  r->optimizer = to.optimizer;
  r->learning_rate = to.EffectiveLearningRate();
  r->batch_size = to.batch_size;
  r->epochs = to.epochs;
  r->max_steps_per_epoch = to.max_steps_per_epoch;
  r->ema_decay = to.ema_decay;
  r->max_answer_tokens = m.config.max_answer_tokens;
}

// The record's provenance: this run's machine, command and preset.
void SetProvenance(const TaskContext& context, SquadRecord* r) {
  const SuiteOptions& o = context.options;
  r->provenance = RecordProvenance::Of(context.run_info, o.threads, o.seed, o.command);
  r->provenance.preset_config = context.preset_config;
  if (!context.sweep_point.empty()) r->provenance.sweep_point = context.sweep_point;
}

// What the record says of training (per-epoch loss and validation scores, time) and provenance.
void SetOutcomeFields(const TaskContext& context, const BidafTrainResult& trained, SquadRecord* r) {
  r->steps = trained.steps;
  if (trained.resumed) r->resumed_at_step = trained.resumed_at_global_step;
  std::vector<double> epoch_loss, validation_em, validation_f1;
  for (const BidafEpochStats& e : trained.epochs) {
    epoch_loss.push_back(e.mean_loss_nats);
    if (!e.validated) continue;
    validation_em.push_back(e.validation_exact_match);
    validation_f1.push_back(e.validation_f1);
  }
  r->epoch_loss = epoch_loss;
  if (!validation_f1.empty()) {
    r->epoch_validation_exact_match = validation_em;
    r->epoch_validation_f1 = validation_f1;
  }
  r->train_seconds = trained.seconds;
  r->train_questions_per_s = trained.questions_per_second;
  SetProvenance(context, r);
}

// The questions of every split as examples, and their vocabularies.
struct SquadExamples {
  SquadData data;
  SquadVocab words, chars;
  std::vector<SquadExample> train, validation, eval;
  int64_t eval_total = 0;  // before the preset's cap
};

absl::StatusOr<SquadExamples> MakeExamples(const SuiteOptions& o, const Preset& p, SquadDataset dev,
                                           const std::string& dev_path,
                                           const SquadLoadOptions& lo) {
  SquadExamples e;
  ASSIGN_OR_RETURN(e.data, LoadSquadData(o, std::move(dev), dev_path, lo));
  const SquadSplit& split = e.data.split;
  // Characters of the training data (others are unknown); words as the preset says.
  e.words = p.squad_word_vocabulary == "all"
                ? BuildWordVocabOf({&split.train, &split.validation, &split.eval}, 1)
                : BuildWordVocab(split.train, 1);
  e.chars = BuildCharVocab(split.train, 1);
  ASSIGN_OR_RETURN(e.train, MakeSquadExamples(split.train, e.words, e.chars, kMaxWordChars));
  ASSIGN_OR_RETURN(e.validation,
                   MakeSquadExamples(split.validation, e.words, e.chars, kMaxWordChars));
  ASSIGN_OR_RETURN(e.eval, MakeSquadExamples(split.eval, e.words, e.chars, kMaxWordChars));
  e.eval_total = static_cast<int64_t>(e.eval.size());
  // The preset's cap (smoke) applies to both scored sets: the first questions, in file order.
  for (std::vector<SquadExample>* scored : {&e.eval, &e.validation}) {
    if (p.squad_max_eval_questions > 0 &&
        static_cast<int64_t>(scored->size()) > p.squad_max_eval_questions) {
      scored->resize(static_cast<size_t>(p.squad_max_eval_questions));
    }
  }
  return e;
}

// Scores `model` on the evaluation articles into `r` and writes its predictions (unless
// --noevaluate_test), then writes `r` (wall time from `start`) as the run's record.
absl::Status EvaluateAndRecord(const TaskContext& context, const SuiteOptions& o,
                               const SquadExamples& e, const Bidaf& model, absl::Time start,
                               SquadRecord* r) {
  const std::string predictions_path =
      absl::StrCat(o.output_dir, "/squad_", context.preset.name, "_predictions.json");
  if (o.evaluate_test) {
    Bidaf scored = model;  // a holder of the same module
    ASSIGN_OR_RETURN(
        BidafEvalResult evaluated,
        EvaluateBidaf(scored, e.eval, kEvalBatchSize, context.preset.squad_max_answer_tokens));
    RETURN_IF_ERROR(WritePredictionsJson(evaluated, predictions_path));
    o.log(absl::StrFormat(
        "[squad] exact match %.2f, F1 %.2f on %d questions; training %.0f s (%.1f questions/s), "
        "evaluation %.1f questions/s",
        evaluated.exact_match, evaluated.f1, evaluated.questions, r->train_seconds.value_or(0),
        r->train_questions_per_s.value_or(0), evaluated.questions_per_second));
    r->eval_questions = evaluated.questions;
    r->exact_match = evaluated.exact_match;
    r->f1 = evaluated.f1;
    r->eval_seconds = evaluated.seconds;
    r->eval_questions_per_s = evaluated.questions_per_second;
    r->eval_batch_size = kEvalBatchSize;
    r->predictions_path = predictions_path;
  } else {
    o.log(absl::StrFormat(
        "[squad] training %.0f s (%.1f questions/s); the evaluation articles are not scored "
        "(--noevaluate_test)",
        r->train_seconds.value_or(0), r->train_questions_per_s.value_or(0)));
  }
  r->wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  RETURN_IF_ERROR(MakeDirs(o.reports_dir + "/results"));
  return WriteFileAtomically(SquadRecordPath(context), r->ToJson().dump(2) + "\n");
}

// Trains, exports and saves the parent (its file's metadata holds the training's record), then
// scores it and writes its record. Returns the record and, in `parent`, the trained model.
absl::StatusOr<SquadRecord> TrainParent(const TaskContext& context, const SuiteOptions& o,
                                        const SquadExamples& e, const std::string& glove,
                                        const SquadHashes& hash, absl::Time start, Bidaf* parent) {
  const Preset& p = context.preset;
  ASSIGN_OR_RETURN(SquadModel m, BuildSquadModel(o, p, e.words, e.chars, glove));
  // Resumable training: the checkpoint lives next to the predictions until the record is out.
  // It is tagged with the training hash: a sweep's and the main job's training are one.
  const std::string training_ckpt = absl::StrCat(o.output_dir, "/squad_", p.name, ".train.ckpt");
  RETURN_IF_ERROR(MakeDirs(o.output_dir));
  BidafTrainOptions to = SquadTrainOptions(o, p, training_ckpt, hash.training);
  to.validation = &e.validation;
  to.validation_batch_size = kEvalBatchSize;
  to.max_answer_tokens = m.config.max_answer_tokens;
  ASSIGN_OR_RETURN(BidafTrainResult trained, TrainBidaf(m.model, e.train, to));
  // The trained model (its moving average, when there is one) as PyTorch loads it.
  const std::string torch_export = absl::StrCat(o.output_dir, "/squad_", p.name, "_torch");
  RETURN_IF_ERROR(ExportTorchModel(*m.model, m.config.ToJson(), torch_export));
  SquadRecord r;
  r.task = "squad";
  r.config_hash = hash.config;
  r.preset = p.name;
  SetSetupFields(p, e.data, e.words, e.chars, m, to, static_cast<int64_t>(e.train.size()),
                 e.eval_total, &r);
  SetOutcomeFields(context, trained, &r);
  r.validation_questions = static_cast<int64_t>(e.validation.size());
  r.torch_export = torch_export;
  // The trained parent of the BiDAF pruning runs, tagged with its training hash and holding what
  // its record says of the training (a later run of the same training adopts it).
  RETURN_IF_ERROR(SaveBidaf(
      m.model, SquadParentPath(context, hash.training),
      json({{"config_hash", hash.training}, {"preset", p.name}, {"record", r.ToJson()}}).dump()));
  RETURN_IF_ERROR(EvaluateAndRecord(context, o, e, m.model, start, &r));
  std::remove(training_ckpt.c_str());  // finished: the record and the predictions supersede it
  *parent = m.model;
  return r;
}

// The parent saved by an earlier run of this training hash, and its metadata. Errors:
// LoadBidaf's; FailedPrecondition when the file holds another configuration's parent.
absl::StatusOr<BidafCheckpoint> LoadParentFile(const TaskContext& context,
                                               const std::string& training_hash) {
  const std::string path = SquadParentPath(context, training_hash);
  ASSIGN_OR_RETURN(BidafCheckpoint c, LoadBidaf(path));
  const json meta = json::parse(c.metadata_json, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || meta.value("config_hash", "") != training_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " holds the parent of another configuration (", c.metadata_json,
                     "), not of config hash ", training_hash, "; delete it or pass --force"));
  }
  return c;
}

// The parent saved by an earlier run of the same training (the main job's, for a sweep that
// chooses on the validation part, or the reverse), with a record for this run built from the
// training's record in the file's metadata, then scored and written as this run's; nullopt
// when there is no such file (or with --force, or when the file predates that metadata).
// Errors: LoadParentFile's, a malformed record in the metadata, EvaluateAndRecord's.
absl::StatusOr<std::optional<SquadRecord>> AdoptSavedParent(const TaskContext& context,
                                                            const SuiteOptions& o,
                                                            const SquadExamples& e,
                                                            const SquadHashes& hash,
                                                            absl::Time start, Bidaf* parent) {
  const std::string path = SquadParentPath(context, hash.training);
  if (o.force || access(path.c_str(), R_OK) != 0) return std::optional<SquadRecord>();
  ASSIGN_OR_RETURN(BidafCheckpoint c, LoadParentFile(context, hash.training));
  const json meta = json::parse(c.metadata_json);
  if (!meta.contains("record")) return std::optional<SquadRecord>();
  ASSIGN_OR_RETURN(SquadRecord r, SquadRecord::FromJson(meta["record"]));
  const RecordProvenance& trained = r.provenance;
  r.trained_by =
      absl::StrCat(trained.command.value_or("?"), " (commit ", trained.git_commit.value_or("?"),
                   ", ", trained.timestamp_utc.value_or("?"), ")");
  o.log(absl::StrCat("[squad] adopting the parent trained by ", *r.trained_by, " from ", path,
                     " (config hash ", hash.training.substr(0, 12), "; --force trains again)"));
  r.config_hash = hash.config;
  SetProvenance(context, &r);
  RETURN_IF_ERROR(EvaluateAndRecord(context, o, e, c.model, start, &r));
  *parent = c.model;
  return std::optional<SquadRecord>(std::move(r));
}

// The pruning runs (benchmarks/squad_pruning.h) from `parent`.
absl::Status PruneParent(const TaskContext& context, const SuiteOptions& o, const SquadExamples& e,
                         const std::string& hash, const Bidaf& parent) {
  SquadPruningInputs in;
  in.parent = parent;
  in.parent_hash = hash;
  in.protocol = e.data.split.protocol;
  in.train = &e.train;
  in.validation = &e.validation;
  // A sweep choosing on the validation part never scores the evaluation articles.
  const std::vector<SquadExample> none;
  in.eval = o.evaluate_test ? &e.eval : &none;
  in.training = SquadTrainOptions(o, context.preset, "", hash);
  in.training.validation_batch_size = kEvalBatchSize;
  in.training.max_answer_tokens = parent->config().max_answer_tokens;
  in.eval_batch_size = kEvalBatchSize;
  TaskContext pruning = context;
  pruning.options = o;
  return RunSquadPruning(pruning, in).status();
}

}  // namespace

absl::StatusOr<SquadRecord> RunSquadTask(const TaskContext& context) {
  SuiteOptions o = context.options;
  if (!o.log) o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  const Preset& p = context.preset;
  const std::string dev_path = o.data_dir + "/squad/dev-v1.1.json";
  SquadLoadOptions lo;
  lo.skip_bad_questions = true;  // counted and reported (skipped_questions)
  ASSIGN_OR_RETURN(SquadDataset dev,
                   LoadChecked(dev_path, o.verify_checksums ? kSquadDevSha256 : "", lo));
  const std::string glove = ResolveGlove(o, p);
  ASSIGN_OR_RETURN(const SquadHashes hash, SquadConfigHashes(o, p, glove, dev_path));
  const bool prunes = !p.squad_methods.empty();
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(std::optional<SquadRecord> record,
                   ReusableSquadRecord(o, SquadRecordPath(context), hash.config,
                                       prunes ? SquadParentPath(context, hash.training) : ""));
  if (!record || prunes) {
    ASSIGN_OR_RETURN(SquadExamples e, MakeExamples(o, p, std::move(dev), dev_path, lo));
    Bidaf parent{nullptr};
    if (record) {
      ASSIGN_OR_RETURN(BidafCheckpoint saved, LoadParentFile(context, hash.training));
      parent = saved.model;
    } else {
      ASSIGN_OR_RETURN(record, AdoptSavedParent(context, o, e, hash, start, &parent));
      if (!record) {
        ASSIGN_OR_RETURN(record, TrainParent(context, o, e, glove, hash, start, &parent));
      }
    }
    if (prunes) RETURN_IF_ERROR(PruneParent(context, o, e, hash.config, parent));
  }
  RETURN_IF_ERROR(RenderSquadReportFiles(o.reports_dir));
  o.log(absl::StrCat("[squad] wrote ", o.reports_dir, "/squad.md"));
  return *record;
}

}  // namespace rnnprune
