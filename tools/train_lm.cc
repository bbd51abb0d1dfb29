// Trains a small LSTM LM on real PTB with training checkpoints, and resumes after a kill:
//
//   bazel run //tools:train_lm -- --checkpoint=/tmp/lm.ckpt --checkpoint_every_steps=20
//       --out_json=/tmp/lm.json   (one command line)
//   (kill it; then the same command with --resume continues where the last checkpoint stands)
//
// On one thread, a run that was killed and resumed ends with the same parameters, bit for bit,
// as one that was not: --out_json records the final validation perplexity and the SHA-256 of the
// final parameters (model, then the method's extra parameters) so that runs can be compared.
// //tools:train_lm_kill_test does exactly that. Exit status 0 on success, 1 with the reason on
// stderr otherwise.
//
// Data-parallel (training/data_parallel.h): N copies with --world_size=N, --rank=0..N-1 and the
// same --master_addr/--master_port (or torchrun's environment variables; tools/launch_local.sh
// starts them on this machine) train the same run, each on its share of the --batch_size
// streams, and end with the parameters one process would reach; rank 0 writes --checkpoint,
// --out_json and --out_parameters. //tools:data_parallel_test checks that.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config_hash.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "models/lstm_lm.h"
#include "nlohmann/json.hpp"
#include "pruning/method.h"
#include "torch/torch.h"
#include "training/data_parallel.h"
#include "training/data_parallel_flags.h"
#include "training/lm_trainer.h"
#include "training/lm_training_checkpoint.h"

ABSL_FLAG(std::string, data_dir, "",
          "data folder holding ptb/ (default: $RNNPRUNE_DATA, else ../shared/data)");
ABSL_FLAG(bool, verify_checksums, true, "require the canonical PTB files (SHA-256)");
ABSL_FLAG(std::string, checkpoint, "", "training checkpoint file (empty: no checkpoints)");
ABSL_FLAG(int64_t, checkpoint_every_steps, 50,
          "write the checkpoint every N optimizer steps (0: only at epoch ends)");
ABSL_FLAG(bool, resume, false,
          "continue from --checkpoint when it exists (it must come from the same configuration)");
ABSL_FLAG(int64_t, max_steps_per_epoch, 100, "BPTT windows per epoch (0: the whole split)");
ABSL_FLAG(int, epochs, 2, "epochs (--learning_rate, halved after --decay_after_epochs)");
ABSL_FLAG(double, learning_rate, 1.0, "SGD learning rate of the first epochs (Zaremba's 1.0)");
ABSL_FLAG(int, decay_after_epochs, 1, "epochs at the full learning rate");
ABSL_FLAG(int, threads, 1, "intra-op threads (results are bit-reproducible on 1 thread)");
ABSL_FLAG(int, seed, 1, "seed of the initial weights, dropout and gate noise");
ABSL_FLAG(int64_t, embedding, 32, "embedding size");
ABSL_FLAG(int64_t, hidden, 32, "hidden size of each LSTM layer");
ABSL_FLAG(int, layers, 2, "LSTM layers");
ABSL_FLAG(double, dropout, 0.2, "dropout on non-recurrent connections");
ABSL_FLAG(int, batch_size, 20, "parallel streams");
ABSL_FLAG(int, bptt, 35, "truncated BPTT length");
ABSL_FLAG(std::string, method, "dense",
          "training hooks: dense (none), or a registered pruning method (l0, l0_speed, iss, "
          "lasso, magnitude, structured_magnitude, random)");
ABSL_FLAG(double, sparsity, 0.5, "the method's sparsity (magnitude), in [0, 1)");
ABSL_FLAG(std::vector<std::string>, target_sizes, {},
          "the method's kept sizes E,H1,H2 (structured_magnitude, random)");
ABSL_FLAG(double, lambda, 1.0,
          "the method's lambda (l0), per epoch of training tokens (pruning/method.h "
          "PenaltyScale)");
ABSL_FLAG(int64_t, max_eval_tokens, 0,
          "validate on the first N tokens of ptb.valid.txt (0: all), batch 1");
ABSL_FLAG(std::string, out_parameters, "",
          "write the final parameters here (torch::pickle_save of a dict name -> tensor: the "
          "model's, then 'extra/<i>' for the method's), atomically");
ABSL_FLAG(std::string, out_json, "",
          "write the final valid perplexity, parameter SHA-256 and per-epoch stats here "
          "(atomically)");

namespace rnnprune {
namespace {

using json = nlohmann::json;

// Every flag's rule, checked before any data is read. Errors: InvalidArgument naming the flag,
// its value and the rule.
absl::Status ValidateFlags() {
  const auto at_least = [](const char* flag, int64_t value, int64_t low) {
    return value >= low ? absl::OkStatus()
                        : absl::InvalidArgumentError(
                              absl::StrCat("--", flag, "=", value, " must be >= ", low));
  };
  RETURN_IF_ERROR(at_least("threads", absl::GetFlag(FLAGS_threads), 1));
  RETURN_IF_ERROR(at_least("layers", absl::GetFlag(FLAGS_layers), 1));
  RETURN_IF_ERROR(at_least("embedding", absl::GetFlag(FLAGS_embedding), 1));
  RETURN_IF_ERROR(at_least("hidden", absl::GetFlag(FLAGS_hidden), 1));
  RETURN_IF_ERROR(at_least("epochs", absl::GetFlag(FLAGS_epochs), 1));
  RETURN_IF_ERROR(at_least("decay_after_epochs", absl::GetFlag(FLAGS_decay_after_epochs), 0));
  RETURN_IF_ERROR(at_least("batch_size", absl::GetFlag(FLAGS_batch_size), 1));
  RETURN_IF_ERROR(at_least("bptt", absl::GetFlag(FLAGS_bptt), 1));
  RETURN_IF_ERROR(at_least("max_steps_per_epoch", absl::GetFlag(FLAGS_max_steps_per_epoch), 0));
  RETURN_IF_ERROR(at_least("max_eval_tokens", absl::GetFlag(FLAGS_max_eval_tokens), 0));
  RETURN_IF_ERROR(
      at_least("checkpoint_every_steps", absl::GetFlag(FLAGS_checkpoint_every_steps), 0));
  const double dropout = absl::GetFlag(FLAGS_dropout);
  if (!(dropout >= 0 && dropout < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--dropout=", dropout, " must be in [0, 1)"));
  }
  const double learning_rate = absl::GetFlag(FLAGS_learning_rate);
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--learning_rate=", learning_rate, " must be finite and > 0"));
  }
  const double lambda = absl::GetFlag(FLAGS_lambda);
  if (!(lambda >= 0) || !std::isfinite(lambda)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--lambda=", lambda, " must be finite and >= 0"));
  }
  const std::string method = absl::GetFlag(FLAGS_method);
  if (!GetPruningMethodInfo(method).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--method='", method, "' is not one of ", absl::StrJoin(RegisteredPruningMethods(), ", ")));
  }
  if (absl::GetFlag(FLAGS_resume) && absl::GetFlag(FLAGS_checkpoint).empty()) {
    return absl::InvalidArgumentError("--resume needs --checkpoint=FILE to resume from");
  }
  return absl::OkStatus();
}

absl::Status Run() {
  RETURN_IF_ERROR(ValidateFlags());
  ASSIGN_OR_RETURN(DataParallelOptions dpo, DataParallelOptionsFromFlags());
  const int threads = absl::GetFlag(FLAGS_threads);
  torch::set_num_threads(threads);
  ASSIGN_OR_RETURN(std::string data_dir,
                   ResolveDataDir(ResolveUserPath(absl::GetFlag(FLAGS_data_dir))));
  PtbLoadOptions load_options;
  load_options.verify_checksums = absl::GetFlag(FLAGS_verify_checksums);
  ASSIGN_OR_RETURN(PtbCorpus corpus, LoadPtb(data_dir + "/ptb", load_options));

  LstmLmConfig model_config;
  model_config.vocab_size = corpus.vocab.size();
  model_config.embedding_size = absl::GetFlag(FLAGS_embedding);
  model_config.hidden_sizes.assign(static_cast<size_t>(absl::GetFlag(FLAGS_layers)),
                                   absl::GetFlag(FLAGS_hidden));
  model_config.dropout = absl::GetFlag(FLAGS_dropout);
  RETURN_IF_ERROR(model_config.Validate());
  TrainOptions to;
  ZarembaSchedule& s = to.schedule;
  s.epochs = absl::GetFlag(FLAGS_epochs);
  s.decay_after_epochs = absl::GetFlag(FLAGS_decay_after_epochs);
  s.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  s.batch_size = absl::GetFlag(FLAGS_batch_size);
  s.bptt = absl::GetFlag(FLAGS_bptt);
  to.max_steps_per_epoch = absl::GetFlag(FLAGS_max_steps_per_epoch);
  to.max_eval_tokens = absl::GetFlag(FLAGS_max_eval_tokens);
  to.checkpoint_path = ResolveUserPath(absl::GetFlag(FLAGS_checkpoint));
  to.checkpoint_every_steps = absl::GetFlag(FLAGS_checkpoint_every_steps);
  to.resume = absl::GetFlag(FLAGS_resume);

  // Everything that changes what is computed; not threads, paths or logging.
  const std::string method_name = absl::GetFlag(FLAGS_method);
  json config = {{"tool", "train_lm"},
                 {"data",
                  {{"corpus", "ptb"},
                   {"train_ids_sha256", TensorsSha256({{"train", corpus.train}})},
                   {"valid_ids_sha256", TensorsSha256({{"valid", corpus.valid}})}}},
                 {"model", json::parse(model_config.ToJson())},
                 {"schedule",
                  {{"learning_rate", s.learning_rate},
                   {"lr_decay", s.lr_decay},
                   {"decay_after_epochs", s.decay_after_epochs},
                   {"epochs", s.epochs},
                   {"max_grad_norm", s.max_grad_norm},
                   {"batch_size", s.batch_size},
                   {"bptt", s.bptt}}},
                 {"max_steps_per_epoch", to.max_steps_per_epoch},
                 {"max_eval_tokens", to.max_eval_tokens},
                 {"seed", absl::GetFlag(FLAGS_seed)},
                 {"method", method_name},
                 {"lambda", method_name == "dense" ? 0.0 : absl::GetFlag(FLAGS_lambda)}};
  if (method_name != "dense" && method_name != "l0") {  // (keeps the earlier runs' hashes)
    config["sparsity"] = absl::GetFlag(FLAGS_sparsity);
    config["target_sizes"] = absl::GetFlag(FLAGS_target_sizes);
  }
  to.config_hash = ConfigHash(config);

  torch::manual_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));
  LstmLm model(model_config);
  MethodOptions mo;
  mo.config = model_config;
  mo.lambda = absl::GetFlag(FLAGS_lambda);
  mo.sparsity = absl::GetFlag(FLAGS_sparsity);
  for (const std::string& size : absl::GetFlag(FLAGS_target_sizes)) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(size, &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--target_sizes: '", size, "' is not an integer"));
    }
    mo.target_sizes.push_back(v);
  }
  mo.penalty_scale = PenaltyScale(corpus.train.size(0), s.batch_size, s.bptt);
  mo.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  ASSIGN_OR_RETURN(torch::Tensor batched, Batchify(corpus.train, s.batch_size));
  const int64_t windows = NumBpttWindows(batched, s.bptt);
  mo.total_steps = std::max<int64_t>(
      1, (to.max_steps_per_epoch > 0 ? std::min(windows, to.max_steps_per_epoch) : windows) *
             s.epochs);
  ASSIGN_OR_RETURN(std::unique_ptr<PruningMethod> method, CreatePruningMethod(method_name, mo));
  RETURN_IF_ERROR(method->Begin(model));
  ASSIGN_OR_RETURN(std::unique_ptr<DataParallel> dp, DataParallel::Join(dpo, to.config_hash));
  to.data_parallel = dp.get();
  std::fprintf(stderr, "train_lm: config hash %s, %d threads, rank %d of %d\n",
               to.config_hash.c_str(), threads, dp->rank(), dp->world_size());
  ASSIGN_OR_RETURN(TrainResult tr, Train(model, corpus.train, corpus.valid, to, method.get()));
  if (!dp->writes()) return absl::OkStatus();  // rank 0 evaluates and writes
  ASSIGN_OR_RETURN(EvalResult valid, EvaluatePerplexity(model, corpus.valid, 1, s.bptt,
                                                        to.max_eval_tokens, method.get()));
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  const std::vector<torch::Tensor> extra = method->ExtraParameters();
  for (size_t i = 0; i < extra.size(); ++i) {
    named.emplace_back(absl::StrCat("extra/", i), extra[i]);
  }
  const std::string params_sha = TensorsSha256(named);
  int64_t parameter_count = 0;  // the floats each step's all-reduce sums (every gradient)
  for (const auto& item : named) parameter_count += item.second.numel();
  if (const std::string path = ResolveUserPath(absl::GetFlag(FLAGS_out_parameters));
      !path.empty()) {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& [name, tensor] : named) dict.insert(name, tensor.detach());
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    RETURN_IF_ERROR(WriteFileAtomically(path, std::string(bytes.begin(), bytes.end())));
  }
  std::printf("valid ppl %.6f over %lld tokens; parameters sha256 %s%s\n", valid.perplexity,
              static_cast<long long>(valid.tokens), params_sha.c_str(),
              tr.resumed ? " (resumed)" : "");

  const std::string out = ResolveUserPath(absl::GetFlag(FLAGS_out_json));
  if (out.empty()) return absl::OkStatus();
  json epochs = json::array();
  for (const EpochStats& e : tr.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"learning_rate", e.learning_rate},
                      {"steps", e.steps},
                      {"train_perplexity", e.train_perplexity},
                      {"valid_perplexity", e.valid_perplexity},
                      {"tokens_per_second", e.tokens_per_second}});
  }
  json result = {{"config", config},
                 {"config_hash", to.config_hash},
                 {"valid_perplexity", valid.perplexity},
                 {"valid_tokens", valid.tokens},
                 {"parameters_sha256", params_sha},
                 {"parameters", parameter_count},
                 {"resumed", tr.resumed},
                 {"resumed_at_global_step", tr.resumed_at_global_step},
                 {"threads", threads},
                 {"world_size", dp->world_size()},
                 {"epochs", epochs}};
  return WriteFileAtomically(out, result.dump(2) + "\n");
}

}  // namespace
}  // namespace rnnprune

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Trains a small LSTM LM on PTB with training checkpoints (--checkpoint, --resume).");
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = rnnprune::CatchTorch("train_lm", rnnprune::Run);
  if (!s.ok()) {
    std::fprintf(stderr, "train_lm: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
