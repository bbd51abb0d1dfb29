// The squad task end to end on the real dev set at the smoke preset's sizes (skipped when the
// data is absent): both protocols, the record, the files, and the checksum guard.
#include "benchmarks/squad_task.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmarks/preset_files.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "datasets/squad_metric.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using json = nlohmann::json;

TaskContext SmokeOptions(const std::string& data_dir, const std::string& out) {
  TaskContext c;
  c.preset = *GetPreset("smoke");
  c.preset.squad_max_steps_per_epoch = 3;
  c.preset.squad_max_eval_questions = 50;
  c.preset.squad_methods.clear();  // the pruning runs: squad_pruning_test
  SuiteOptions& o = c.options;
  o.data_dir = data_dir;
  o.reports_dir = out + "/reports";
  o.output_dir = out + "/runs";
  o.threads = 1;
  o.seed = 3;
  o.command = "squad_task_test";
  o.log = [](const std::string&) {};
  EXPECT_TRUE(MakeDirs(o.output_dir).ok());
  return c;
}

TEST(SquadTask, LocalProtocolWritesRecordPredictionsAndReport) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/local");
  absl::StatusOr<SquadRecord> r = RunSquadTask(SmokeOptions(data, out));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->protocol, "local");
  // Fold 4's 39 training articles less the 5 validation ones (datasets/squad_split.h).
  EXPECT_EQ(r->train_articles, 34);
  EXPECT_EQ(r->validation_articles, 5);
  EXPECT_EQ(r->train_questions.value_or(0) + r->validation_questions_total.value_or(0), 8595);
  EXPECT_EQ(r->validation_questions, 50);  // the preset's cap applies to validation too
  ASSERT_TRUE(r->validation_titles);
  EXPECT_EQ(r->validation_titles->size(), 5u);
  EXPECT_NE(r->split.value_or("").find("fold 4 of 5"), std::string::npos);
  // One validation score per epoch.
  ASSERT_TRUE(r->epoch_validation_f1 && r->epoch_validation_exact_match && r->epoch_loss);
  EXPECT_EQ(r->epoch_validation_f1->size(), r->epoch_loss->size());
  EXPECT_EQ(r->eval_questions, 50);
  EXPECT_EQ(r->eval_questions_total, 1975);
  EXPECT_EQ(r->steps, 3);
  ASSERT_TRUE(r->exact_match && r->f1 && r->train_questions_per_s && r->predictions_path);
  EXPECT_GE(*r->exact_match, 0.0);
  EXPECT_LE(*r->f1, 100.0);
  EXPECT_GE(*r->f1, *r->exact_match);
  EXPECT_GT(*r->train_questions_per_s, 0.0);
  // The predictions file is in the official format and scores as the record says.
  absl::StatusOr<std::string> predictions = ReadFile(*r->predictions_path);
  ASSERT_TRUE(predictions.ok()) << predictions.status();
  const json p = json::parse(*predictions);
  EXPECT_EQ(p.size(), 50u);
  absl::StatusOr<std::string> dev = ReadFile(data + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok());
  absl::StatusOr<SquadScore> score = EvaluateSquad(json::parse(*dev), p, nullptr);
  ASSERT_TRUE(score.ok()) << score.status();
  // The script averages over all 10,570 dev questions; ours over the 50 predicted.
  EXPECT_NEAR(score->exact_match * 10570 / 50, *r->exact_match, 1e-6);
  EXPECT_NEAR(score->f1 * 10570 / 50, *r->f1, 1e-6);
  // The record and the report.
  absl::StatusOr<std::string> record = ReadFile(out + "/reports/results/squad_smoke.json");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(json::parse(*record), r->ToJson());
  absl::StatusOr<std::string> md = ReadFile(out + "/reports/squad.md");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("## Protocol `local`"), std::string::npos);
  EXPECT_NE(md->find("| smoke |"), std::string::npos);
}

TEST(SquadTask, ReusesAFinishedRunUnlessForced) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/reuse");
  TaskContext o = SmokeOptions(data, out);
  absl::StatusOr<SquadRecord> first = RunSquadTask(o);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->reused);
  absl::StatusOr<SquadRecord> second = RunSquadTask(o);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->reused, true);
  EXPECT_EQ(second->provenance.timestamp_utc, first->provenance.timestamp_utc);
  EXPECT_EQ(second->f1, first->f1);
  o.options.seed = 4;  // another run
  absl::StatusOr<SquadRecord> other = RunSquadTask(o);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->reused);
  o.options.force = true;
  absl::StatusOr<SquadRecord> forced = RunSquadTask(o);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_FALSE(forced->reused);
}

// Training stopped after step 2 of 3 (a crash: the progress line of step 2 throws, after the
// checkpoint of step 1 was written) and run again resumes from step 1 and ends with the same
// numbers and predictions as an uninterrupted run, bit for bit (one thread).
TEST(SquadTask, ResumesInterruptedTrainingBitIdentically) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  torch::set_num_threads(1);
  const std::string out_a = absl::StrCat(std::getenv("TEST_TMPDIR"), "/resume_a");
  TaskContext a = SmokeOptions(data, out_a);
  a.options.checkpoint_every_steps = 1;
  absl::StatusOr<SquadRecord> ra = RunSquadTask(a);
  ASSERT_TRUE(ra.ok()) << ra.status();
  EXPECT_FALSE(ra->resumed_at_step);
  EXPECT_FALSE(PathExists(out_a + "/runs/squad_smoke.train.ckpt"));  // removed once recorded

  const std::string out_b = absl::StrCat(std::getenv("TEST_TMPDIR"), "/resume_b");
  TaskContext b = SmokeOptions(data, out_b);
  b.options.checkpoint_every_steps = 1;
  b.options.log = [](const std::string& line) {
    if (line.find("step 2/3") != std::string::npos) throw std::runtime_error("simulated crash");
  };
  absl::StatusOr<SquadRecord> interrupted = RunSquadTask(b);
  ASSERT_FALSE(interrupted.ok());
  EXPECT_NE(interrupted.status().message().find("simulated crash"), std::string::npos);
  const std::string ckpt = out_b + "/runs/squad_smoke.train.ckpt";
  ASSERT_TRUE(PathExists(ckpt));
  EXPECT_FALSE(PathExists(out_b + "/reports/results/squad_smoke.json"));

  std::vector<std::string> log;
  b.options.log = [&log](const std::string& line) { log.push_back(line); };
  absl::StatusOr<SquadRecord> rb = RunSquadTask(b);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(rb->resumed_at_step, 1);
  bool said = false;
  for (const std::string& line : log) {
    said = said || line.find("resuming from " + ckpt) != std::string::npos;
  }
  EXPECT_TRUE(said);
  EXPECT_FALSE(PathExists(ckpt));
  const json a_json = ra->ToJson(), b_json = rb->ToJson();
  for (const char* key : {"config_hash", "steps", "epoch_loss", "exact_match", "f1"}) {
    EXPECT_EQ(b_json[key], a_json[key]) << key;
  }
  EXPECT_EQ(*ReadFile(out_b + "/runs/squad_smoke_predictions.json"),
            *ReadFile(out_a + "/runs/squad_smoke_predictions.json"));
}

TEST(SquadTask, RefusesATrainingCheckpointOfAnotherConfigurationUnlessForced) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stale");
  TaskContext o = SmokeOptions(data, out);
  o.options.checkpoint_every_steps = 1;
  o.options.log = [](const std::string& line) {
    if (line.find("step 2/3") != std::string::npos) throw std::runtime_error("simulated crash");
  };
  ASSERT_FALSE(RunSquadTask(o).ok());
  const std::string ckpt = out + "/runs/squad_smoke.train.ckpt";
  ASSERT_TRUE(PathExists(ckpt));
  o.options.log = [](const std::string&) {};
  o.options.seed = 4;  // another configuration
  absl::StatusOr<SquadRecord> refused = RunSquadTask(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(ckpt), std::string::npos) << refused.status();
  EXPECT_TRUE(PathExists(ckpt));
  o.options.force = true;
  absl::StatusOr<SquadRecord> forced = RunSquadTask(o);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_FALSE(forced->resumed_at_step);
  EXPECT_FALSE(PathExists(ckpt));
}

// The smoke run and a run whose preset `change` alters, each in its own folder under
// TEST_TMPDIR/<name> ("base" and "changed"); false (with a test failure) when either fails.
bool RunSmokeAndChanged(const std::string& data, const std::string& name,
                        const std::function<void(Preset&)>& change, SquadRecord* base,
                        SquadRecord* changed) {
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  TaskContext a = SmokeOptions(data, out + "/base");
  TaskContext b = SmokeOptions(data, out + "/changed");
  change(b.preset);
  absl::StatusOr<SquadRecord> ra = RunSquadTask(a);
  absl::StatusOr<SquadRecord> rb = RunSquadTask(b);
  EXPECT_TRUE(ra.ok()) << ra.status();
  EXPECT_TRUE(rb.ok()) << rb.status();
  if (!ra.ok() || !rb.ok()) return false;
  *base = *std::move(ra);
  *changed = *std::move(rb);
  return true;
}

// With the words of every split, words met only outside training get rows of their own: the
// vocabulary grows, and the record and report say whose words it holds.
TEST(SquadTask, WordVocabularyOfEverySplit) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  SquadRecord a, b;
  ASSERT_TRUE(RunSmokeAndChanged(
      data, "all_words", [](Preset& p) { p.squad_word_vocabulary = "all"; }, &a, &b));
  EXPECT_EQ(a.word_vocabulary, "train");
  EXPECT_EQ(b.word_vocabulary, "all");
  EXPECT_GT(b.word_vocab.value_or(0), a.word_vocab.value_or(0) + 1000);
  EXPECT_NE(a.config_hash, b.config_hash);
  absl::StatusOr<std::string> md =
      ReadFile(absl::StrCat(std::getenv("TEST_TMPDIR"), "/all_words/changed/reports/squad.md"));
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("words (of every split"), std::string::npos);
}

// squad_word_embedding=fixed keeps every word vector as initialised: the trained parameters
// exclude the embedding, the config hash changes, and the record says so.
TEST(SquadTask, FixedWordEmbedding) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  SquadRecord a, b;
  ASSERT_TRUE(RunSmokeAndChanged(
      data, "fixed_words", [](Preset& p) { p.squad_word_embedding = "fixed"; }, &a, &b));
  EXPECT_NE(a.config_hash, b.config_hash);
  EXPECT_EQ(*a.trainable_parameters, *a.parameters);
  EXPECT_EQ(*b.parameters - *b.trainable_parameters,
            *b.word_vocab * GetPreset("smoke")->squad_word_dim);
  EXPECT_NE(b.embedding.value_or("").find("fixed during training (the preset's "
                                          "squad_word_embedding)"),
            std::string::npos)
      << b.embedding.value_or("");
}

// squad_dropout reaches the model (its record's config) and the config hash; the paper's 0.2 is
// the default and adds nothing to the hash.
TEST(SquadTask, DropoutIsAPresetField) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  SquadRecord a, b;
  ASSERT_TRUE(RunSmokeAndChanged(
      data, "dropout", [](Preset& p) { p.squad_dropout = 0.1; }, &a, &b));
  EXPECT_EQ(a.config->at("dropout"), 0.2);
  EXPECT_EQ(b.config->at("dropout"), 0.1);
  EXPECT_NE(a.config_hash, b.config_hash);
  EXPECT_NE(a.epoch_loss, b.epoch_loss);
}

// A sweep's run (--noevaluate_test) scores only the validation part: no exact match, F1 or
// predictions of the evaluation articles exist, and a re-run re-uses it by its own hash.
TEST(SquadTask, SweepRunsNeverScoreTheEvaluationArticles) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/sweep");
  TaskContext o = SmokeOptions(data, out);
  o.options.evaluate_test = false;
  absl::StatusOr<SquadRecord> r = RunSquadTask(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->exact_match.has_value());
  EXPECT_FALSE(r->f1.has_value());
  EXPECT_FALSE(r->predictions_path.has_value());
  EXPECT_FALSE(PathExists(out + "/runs/squad_smoke_predictions.json"));
  ASSERT_TRUE(r->epoch_validation_f1.has_value());
  EXPECT_EQ(r->epoch_validation_f1->size(), 1u);
  absl::StatusOr<SquadRecord> again = RunSquadTask(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->reused.value_or(false));
  EXPECT_EQ(again->config_hash, r->config_hash);
  // Another run: it scores the evaluation articles, adopting the parent the sweep trained (same
  // training, same output folder) instead of training it again.
  o.options.evaluate_test = true;
  absl::StatusOr<SquadRecord> evaluated = RunSquadTask(o);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_NE(evaluated->config_hash, r->config_hash);
  EXPECT_TRUE(evaluated->f1.has_value());
  ASSERT_TRUE(evaluated->trained_by.has_value());
  EXPECT_NE(evaluated->trained_by->find("squad_task_test"), std::string::npos);
  EXPECT_EQ(evaluated->epoch_loss, r->epoch_loss);
  EXPECT_EQ(evaluated->epoch_validation_f1, r->epoch_validation_f1);
  EXPECT_EQ(evaluated->train_seconds, r->train_seconds);
}

// The reverse: a sweep in its own reports folder after the main job adopts the main job's parent
// (and scores nothing of the evaluation articles); with --force it trains its own, to the same
// numbers (one thread, same seed). A parent file of another training is refused by name.
TEST(SquadTask, SweepAdoptsTheMainJobsParent) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/adopt");
  TaskContext main_job = SmokeOptions(data, out);
  absl::StatusOr<SquadRecord> parent = RunSquadTask(main_job);
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_FALSE(parent->trained_by.has_value());
  TaskContext sweep = main_job;
  sweep.options.evaluate_test = false;
  sweep.options.reports_dir = out + "/sweep_reports";
  sweep.options.command = "the sweep";
  absl::StatusOr<SquadRecord> adopted = RunSquadTask(sweep);
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_NE(adopted->config_hash, parent->config_hash);
  EXPECT_EQ(adopted->trained_by.value_or("").find("squad_task_test"), 0u);
  EXPECT_EQ(adopted->provenance.command, "the sweep");
  EXPECT_FALSE(adopted->f1.has_value());
  EXPECT_EQ(adopted->epoch_validation_f1, parent->epoch_validation_f1);
  absl::StatusOr<std::string> md = ReadFile(out + "/sweep_reports/squad.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| parent trained by | `squad_task_test"), std::string::npos);
  // The job's estimate for the sweep's run counts the training its parent needs when fresh.
  const std::optional<double> eta = EarlierSquadSeconds(sweep);
  ASSERT_TRUE(eta.has_value() && adopted->train_seconds && adopted->wall_seconds);
  EXPECT_DOUBLE_EQ(*eta, *adopted->wall_seconds + *adopted->train_seconds);
  sweep.options.force = true;
  absl::StatusOr<SquadRecord> trained = RunSquadTask(sweep);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_FALSE(trained->trained_by.has_value());
  EXPECT_EQ(trained->epoch_loss, parent->epoch_loss);
  EXPECT_EQ(trained->epoch_validation_f1, parent->epoch_validation_f1);
  // A parent file whose metadata names another training: refused, naming the file.
  TaskContext other = main_job;
  other.options.seed = 4;  // another training
  other.options.reports_dir = out + "/other_reports";
  absl::StatusOr<SquadRecord> other_parent = RunSquadTask(other);
  ASSERT_TRUE(other_parent.ok()) << other_parent.status();
  const std::string other_path = SquadParentPath(other, *other_parent->config_hash);
  ASSERT_TRUE(PathExists(other_path));
  absl::StatusOr<std::string> seed3 = ReadFile(SquadParentPath(main_job, *parent->config_hash));
  ASSERT_TRUE(seed3.ok()) << seed3.status();
  ASSERT_TRUE(WriteFileAtomically(other_path, *seed3).ok());
  std::remove((out + "/other_reports/results/squad_smoke.json").c_str());
  absl::StatusOr<SquadRecord> refused = RunSquadTask(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(other_path), std::string::npos);
}

TEST(SquadTask, OfficialProtocolTrainsOnTheGivenFile) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  // A stand-in for train-v1.1.json: the dev set's first two articles (the second is the
  // validation part).
  absl::StatusOr<std::string> dev = ReadFile(data + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok());
  json train = json::parse(*dev);
  train["data"] = json::array({train["data"][0], train["data"][1]});
  // Plus one malformed question: skipped, counted and named with why (issue 17.6).
  train["data"][0]["paragraphs"][0]["qas"].push_back(
      {{"id", "malformed_1"}, {"question", ""}, {"answers", json::array()}});
  const std::string out = absl::StrCat(std::getenv("TEST_TMPDIR"), "/official");
  ASSERT_TRUE(MakeDirs(out).ok());
  ASSERT_TRUE(WriteFileAtomically(out + "/train.json", train.dump()).ok());
  TaskContext o = SmokeOptions(data, out);
  o.options.squad_train = out + "/train.json";
  o.options.glove = "none";
  absl::StatusOr<SquadRecord> r = RunSquadTask(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->protocol, "official");
  EXPECT_EQ(r->train_questions, 810);  // Super_Bowl_50
  EXPECT_EQ(r->validation_titles, std::vector<std::string>{"Warsaw"});
  EXPECT_EQ(r->skipped_questions, 1);
  EXPECT_EQ(r->skipped_question_examples,
            std::vector<std::string>{"question malformed_1: empty question text"});
  absl::StatusOr<std::string> md = ReadFile(out + "/reports/squad.md");
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| questions skipped as malformed | 1 (the first: question malformed_1: "
                     "empty question text) |"),
            std::string::npos)
      << *md;
  EXPECT_EQ(r->eval_questions_total, 10570);
  EXPECT_NE(r->embedding.value_or("").find("random"), std::string::npos);
}

TEST(SquadTask, RefusesADevFileThatIsNotTheOfficialOne) {
  const std::string data = TestDataDir("squad/dev-v1.1.json");
  if (data.empty()) GTEST_SKIP() << "SQuAD dev set not available";
  absl::StatusOr<std::string> dev = ReadFile(data + "/squad/dev-v1.1.json");
  ASSERT_TRUE(dev.ok());
  const std::string fake = absl::StrCat(std::getenv("TEST_TMPDIR"), "/fake");
  ASSERT_TRUE(MakeDirs(fake + "/squad").ok());
  ASSERT_TRUE(WriteFileAtomically(fake + "/squad/dev-v1.1.json", *dev + "\n").ok());
  absl::StatusOr<SquadRecord> r = RunSquadTask(SmokeOptions(fake, fake + "/out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SHA-256"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("dev-v1.1.json"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace rnnprune
