#include "training/bidaf_trainer.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "common/data_dir.h"
#include "common/files.h"
#include "datasets/squad_metric.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"
#include "training/bidaf_testing.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

TEST(BidafTrainOptions, DefaultsAreThePapersAndValidateNamesTheField) {
  BidafTrainOptions o;
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_EQ(o.epochs, 12);
  EXPECT_EQ(o.batch_size, 60);
  EXPECT_EQ(o.optimizer, "adadelta");
  EXPECT_DOUBLE_EQ(o.EffectiveLearningRate(), 0.5);
  EXPECT_DOUBLE_EQ(o.ema_decay, 0.999);
  o.optimizer = "adam";
  EXPECT_DOUBLE_EQ(o.EffectiveLearningRate(), 1e-3);
  o.learning_rate = 0.25;
  EXPECT_DOUBLE_EQ(o.EffectiveLearningRate(), 0.25);

  auto message = [](void (*change)(BidafTrainOptions*)) {
    BidafTrainOptions bad;
    change(&bad);
    const absl::Status s = bad.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_EQ(message([](BidafTrainOptions* x) { x->epochs = 0; }),
            "BidafTrainOptions.epochs=0 must be >= 1");
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->max_steps_per_epoch = -1; }),
              HasSubstr("max_steps_per_epoch=-1 must be >= 0"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->batch_size = 0; }),
              HasSubstr("batch_size=0 must be >= 1"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->optimizer = "sgd"; }),
              HasSubstr("optimizer='sgd' must be 'adadelta' or 'adam'"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->learning_rate = -1; }),
              HasSubstr("learning_rate=-1 must be >= 0"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->ema_decay = 1.0; }),
              HasSubstr("ema_decay=1 must be in [0, 1)"));
  EXPECT_THAT(message([](BidafTrainOptions* x) {
                x->max_grad_norm = std::numeric_limits<double>::infinity();
              }),
              HasSubstr("max_grad_norm=inf must be >= 0 and finite"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->log_every_steps = -2; }),
              HasSubstr("log_every_steps=-2 must be >= 0"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->validation_batch_size = 0; }),
              HasSubstr("validation_batch_size=0 must be >= 1"));
  EXPECT_THAT(message([](BidafTrainOptions* x) { x->max_answer_tokens = -1; }),
              HasSubstr("max_answer_tokens=-1 must be >= 0"));
}

TEST(TrainBidaf, RefusesBadOptionsAndEmptyData) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 1);
  BidafTrainOptions options = Quiet({});
  EXPECT_THAT(std::string(TrainBidaf(model, {}, options).status().message()),
              HasSubstr("no training example"));
  options.batch_size = -3;
  EXPECT_THAT(std::string(TrainBidaf(model, task.examples, options).status().message()),
              HasSubstr("batch_size=-3"));
  // A word id the model's vocabulary does not have: the error names the step.
  BidafConfig small = task.config;
  small.word_vocab_size = 3;
  Bidaf tiny_vocab = MakeModel(small, 1);
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(tiny_vocab, task.examples, Quiet({}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("epoch 1 step 1"));
}

// Memorising six questions: the loss falls and the model then answers each of them with the
// exact gold text (EM 100, F1 100).
TEST(TrainBidaf, OverfitsATinySetThenEvaluateBidafScoresItPerfectly) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 5);
  BidafTrainOptions options;
  options.optimizer = "adam";
  options.learning_rate = 0.02;
  options.ema_decay = 0;
  options.epochs = 60;
  options.batch_size = 3;
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 120);
  EXPECT_EQ(r->questions, 360);
  ASSERT_EQ(r->epochs.size(), 60u);
  EXPECT_EQ(r->step_losses_nats.size(), 120u);
  EXPECT_EQ(r->final_loss_nats, r->step_losses_nats.back());
  EXPECT_FALSE(r->holds_averaged_weights);
  EXPECT_GT(r->questions_per_second, 0);
  EXPECT_LT(r->epochs.back().mean_loss_nats, 0.1 * r->epochs.front().mean_loss_nats);
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.back(), HasSubstr("epoch 60/60 step 2/2"));
  EXPECT_THAT(lines.back(), HasSubstr("nats"));
  EXPECT_THAT(lines.back(), HasSubstr("questions/s"));

  absl::StatusOr<BidafEvalResult> eval = EvaluateBidaf(model, task.examples, 4, 0);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_EQ(eval->questions, 6);
  EXPECT_DOUBLE_EQ(eval->exact_match, 100.0);
  EXPECT_DOUBLE_EQ(eval->f1, 100.0);
  for (const SquadExample& e : task.examples) {
    EXPECT_EQ(eval->predictions.at(e.id), e.gold_texts[0]) << e.id;
  }
  EXPECT_TRUE(model->is_training());  // both restore the mode they found
  // In eval mode the batch does not change an answer (the trained spans are clear winners, so
  // float rounding across batch shapes cannot flip them).
  absl::StatusOr<BidafEvalResult> one_by_one = EvaluateBidaf(model, task.examples, 1, 0);
  ASSERT_TRUE(one_by_one.ok()) << one_by_one.status();
  EXPECT_EQ(one_by_one->predictions, eval->predictions);
}

TEST(TrainBidaf, SameSeedOneThreadGivesBitIdenticalLossHistory) {
  TinyTask task = MakeTinyTask();
  task.config.dropout = 0.2;  // the torch RNG is in play
  BidafTrainOptions options = Quiet({});
  options.epochs = 2;
  options.batch_size = 2;
  options.max_grad_norm = 1.0;
  auto run = [&](uint64_t seed) {
    Bidaf model = MakeModel(task.config, 3);
    BidafTrainOptions o = options;
    o.seed = seed;
    absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, o);
    EXPECT_TRUE(r.ok()) << r.status();
    return std::make_pair(r.ok() ? r->step_losses_nats : std::vector<double>{}, Snapshot(model));
  };
  const auto [losses_a, weights_a] = run(11);
  const auto [losses_b, weights_b] = run(11);
  ASSERT_EQ(losses_a.size(), 6u);
  EXPECT_EQ(losses_a, losses_b);  // exact, not near
  ASSERT_EQ(weights_a.size(), weights_b.size());
  for (size_t i = 0; i < weights_a.size(); ++i) {
    EXPECT_TRUE(torch::equal(weights_a[i], weights_b[i])) << "parameter " << i;
  }
  EXPECT_NE(run(12).first, losses_a);  // another seed: other batches and dropout masks
}

// With ema_decay d the model ends with d * initial + (1 - d) * trained after one step.
TEST(TrainBidaf, EndsWithTheMovingAverageOfTheWeights) {
  TinyTask task = MakeTinyTask();
  BidafTrainOptions options = Quiet({});
  options.epochs = 1;
  options.max_steps_per_epoch = 1;
  options.batch_size = 6;
  options.optimizer = "adam";
  options.ema_decay = 0;
  Bidaf plain = MakeModel(task.config, 9);
  const std::vector<torch::Tensor> initial = Snapshot(plain);
  ASSERT_TRUE(TrainBidaf(plain, task.examples, options).ok());
  options.ema_decay = 0.75;
  Bidaf averaged = MakeModel(task.config, 9);
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(averaged, task.examples, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->holds_averaged_weights);
  const std::vector<torch::Tensor> trained = Snapshot(plain), got = Snapshot(averaged);
  bool any_moved = false;
  for (size_t i = 0; i < got.size(); ++i) {
    const torch::Tensor want = 0.75 * initial[i] + 0.25 * trained[i];
    EXPECT_TRUE(torch::allclose(got[i], want, 1e-5, 1e-6)) << "parameter " << i;
    any_moved = any_moved || !torch::equal(trained[i], initial[i]);
  }
  EXPECT_TRUE(any_moved);
}

// Validation after every epoch scores the averaged weights, and changes nothing of training: the
// loss history and the final weights are bit for bit those of a run without it.
TEST(TrainBidaf, ScoresTheValidationPartAfterEveryEpochWithoutChangingTraining) {
  TinyTask task = MakeTinyTask();
  task.config.dropout = 0.2;  // the torch RNG is in play: scoring must not draw from it
  BidafTrainOptions options = Quiet({});
  options.epochs = 3;
  options.batch_size = 2;
  options.optimizer = "adam";
  options.learning_rate = 0.02;
  options.ema_decay = 0.5;
  Bidaf plain = MakeModel(task.config, 4);
  absl::StatusOr<BidafTrainResult> without = TrainBidaf(plain, task.examples, options);
  ASSERT_TRUE(without.ok()) << without.status();
  for (const BidafEpochStats& e : without->epochs) EXPECT_FALSE(e.validated);

  const std::vector<SquadExample> validation(task.examples.begin(), task.examples.begin() + 3);
  options.validation = &validation;
  options.validation_batch_size = 2;
  options.max_answer_tokens = 5;
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  Bidaf scored = MakeModel(task.config, 4);
  absl::StatusOr<BidafTrainResult> with = TrainBidaf(scored, task.examples, options);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->step_losses_nats, without->step_losses_nats);
  const std::vector<torch::Tensor> a = Snapshot(plain), b = Snapshot(scored);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  ASSERT_EQ(with->epochs.size(), 3u);
  for (const BidafEpochStats& e : with->epochs) {
    EXPECT_TRUE(e.validated) << e.epoch;
    EXPECT_GE(e.validation_f1, e.validation_exact_match) << e.epoch;
    EXPECT_LE(e.validation_f1, 100.0) << e.epoch;
    EXPECT_GT(e.validation_seconds, 0) << e.epoch;
  }
  // The last epoch's scores are those of the final (averaged) model, scored the same way.
  absl::StatusOr<BidafEvalResult> direct = EvaluateBidaf(scored, validation, 2, 5);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_DOUBLE_EQ(with->epochs.back().validation_f1, direct->f1);
  EXPECT_DOUBLE_EQ(with->epochs.back().validation_exact_match, direct->exact_match);
  bool logged = false;
  for (const std::string& line : lines) {
    logged = logged || line.find("epoch 3/3: validation exact match") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST(TrainBidaf, NonFiniteLossStopsNamingTheStepAndTheLoss) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 1);
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["w_start"].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, Quiet({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("epoch 1 step 1: the loss is nan"));
}

TEST(TrainBidaf, NonFiniteGradientStopsNamingTheStepAndTheParameter) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 1);
  // The loss stays finite; the second backward pass gives w_end a NaN gradient.
  int calls = 0;
  model->named_parameters()["w_end"].register_hook([&calls](torch::Tensor grad) {
    return ++calls == 2 ? grad * std::numeric_limits<float>::quiet_NaN() : grad;
  });
  BidafTrainOptions options = Quiet({});
  options.epochs = 3;
  options.max_steps_per_epoch = 1;
  options.batch_size = 6;
  const std::vector<torch::Tensor> before = Snapshot(model);
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, task.examples, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("epoch 2 step 1: the gradient of 'w_end' has NaN/Inf"));
  for (const torch::Tensor& p : model->parameters()) {
    EXPECT_TRUE(torch::isfinite(p).all().item<bool>());  // the bad update was not applied
  }
}

TEST(SpanText, IsTheExactContextSubstringWhitespaceAndPunctuationIncluded) {
  TinyTask task = MakeTinyTask(R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
    {"context": "It rained in  Santa\tClara , Calif. today.", "qas": [
      {"id": "a", "question": "Where", "answers": [{"answer_start": 14, "text": "Santa"}]}]}]}]})");
  ASSERT_EQ(task.examples.size(), 1u);
  const SquadExample& e = task.examples[0];
  // Tokens: It rained in Santa Clara , Calif . today .
  absl::StatusOr<std::string> text = SpanText(e, 3, 7);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Santa\tClara , Calif.");
  EXPECT_EQ(*SpanText(e, 9, 9), ".");
  EXPECT_THAT(std::string(SpanText(e, 4, 3).status().message()),
              HasSubstr("question a: span [4, 3] must satisfy 0 <= first <= last < 10"));
  EXPECT_FALSE(SpanText(e, 0, 10).ok());
  SquadExample cut = e;
  cut.context.resize(5);
  EXPECT_THAT(std::string(SpanText(cut, 3, 3).status().message()),
              HasSubstr("outside its context"));
}

TEST(EvaluateBidaf, PredictionsAreContextSubstringsAndScoresMatchTheOfficialMetric) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 2);  // untrained: arbitrary spans
  model->eval();
  absl::StatusOr<BidafEvalResult> r = EvaluateBidaf(model, task.examples, 4, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(model->is_training());
  EXPECT_EQ(r->questions, 6);
  ASSERT_EQ(r->predictions.size(), 6u);
  double em = 0, f1 = 0;
  for (const SquadExample& e : task.examples) {
    const std::string& text = r->predictions.at(e.id);
    EXPECT_FALSE(text.empty());
    EXPECT_NE(e.context.find(text), std::string::npos) << e.id << ": " << text;
    EXPECT_LE(TokenizeWithSpans(text).size(), 3u) << e.id << ": " << text;  // the cap
    em += MaxExactMatch(text, e.gold_texts);
    f1 += MaxF1(text, e.gold_texts);
  }
  EXPECT_DOUBLE_EQ(r->exact_match, 100.0 * em / 6);
  EXPECT_DOUBLE_EQ(r->f1, 100.0 * f1 / 6);

  // The predictions file, read back and scored by EvaluateSquad, gives the same numbers.
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/out/predictions.json";
  ASSERT_TRUE(WritePredictionsJson(*r, path).ok());
  absl::StatusOr<std::string> written = ReadFile(path);
  ASSERT_TRUE(written.ok()) << written.status();
  const nlohmann::json predictions = nlohmann::json::parse(*written);
  EXPECT_EQ(predictions.size(), 6u);
  EXPECT_EQ(predictions.at("q3").get<std::string>(), r->predictions.at("q3"));
  std::vector<std::string> messages;
  absl::StatusOr<SquadScore> official =
      EvaluateSquad(nlohmann::json::parse(kTinySquad), predictions, &messages);
  ASSERT_TRUE(official.ok()) << official.status();
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(official->unanswered, 0);
  EXPECT_NEAR(official->exact_match, r->exact_match, 1e-9);
  EXPECT_NEAR(official->f1, r->f1, 1e-9);
}

TEST(EvaluateBidaf, RefusesBadArguments) {
  TinyTask task = MakeTinyTask();
  Bidaf model = MakeModel(task.config, 2);
  auto message = [&](const std::vector<SquadExample>& ex, int64_t batch, int64_t cap) {
    return std::string(EvaluateBidaf(model, ex, batch, cap).status().message());
  };
  EXPECT_THAT(message(task.examples, 0, 0), HasSubstr("batch_size=0 must be >= 1"));
  EXPECT_THAT(message(task.examples, 2, -1), HasSubstr("max_answer_tokens=-1 must be >= 0"));
  EXPECT_THAT(message({}, 2, 0), HasSubstr("no example"));
  std::vector<SquadExample> twice = {task.examples[0], task.examples[0]};
  EXPECT_THAT(message(twice, 2, 0), HasSubstr("question id q1 appears twice"));
  std::vector<SquadExample> no_tokens = {task.examples[1]};
  no_tokens[0].context_tokens.pop_back();
  EXPECT_THAT(message(no_tokens, 2, 0), HasSubstr("question q2 has 13 context tokens but 14"));
}

TEST(WritePredictionsJson, RefusesInvalidUtf8AndLeavesNoFile) {
  BidafEvalResult r;
  r.predictions["x"] = std::string("\xff\xfe", 2);
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/bad.json";
  const absl::Status s = WritePredictionsJson(r, path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PathExists(path));
}

// A few real dev questions (skipped without the data): training steps run and every prediction
// is a substring of its paragraph, Unicode included.
TEST(EvaluateBidaf, RunsOnRealDevQuestions) {
  const std::string dir = TestDataDir("squad/dev-v1.1.json");
  if (dir.empty()) GTEST_SKIP() << "SQuAD dev set not in the test's data (../shared/data)";
  absl::StatusOr<SquadDataset> data = LoadSquad(dir + "/squad/dev-v1.1.json");
  ASSERT_TRUE(data.ok()) << data.status();
  data->articles.resize(1);
  data->articles[0].paragraphs.resize(3);
  const SquadVocab words = BuildWordVocab(*data, 1), chars = BuildCharVocab(*data, 1);
  absl::StatusOr<std::vector<SquadExample>> examples = MakeSquadExamples(*data, words, chars, 16);
  ASSERT_TRUE(examples.ok()) << examples.status();
  TinyTask task = MakeTinyTask();
  task.config.word_vocab_size = words.size();
  task.config.char_vocab_size = chars.size();
  Bidaf model = MakeModel(task.config, 4);
  BidafTrainOptions options = Quiet({});
  options.epochs = 1;
  options.max_steps_per_epoch = 2;
  options.batch_size = 8;
  absl::StatusOr<BidafTrainResult> r = TrainBidaf(model, *examples, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 2);
  absl::StatusOr<BidafEvalResult> eval = EvaluateBidaf(model, *examples, 16, 30);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_EQ(eval->questions, static_cast<int64_t>(examples->size()));
  for (const SquadExample& e : *examples) {
    EXPECT_NE(e.context.find(eval->predictions.at(e.id)), std::string::npos) << e.id;
  }
}

}  // namespace
}  // namespace rnnprune
