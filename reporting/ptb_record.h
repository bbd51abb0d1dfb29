// The result record of one PTB run: a dense parent, the dense control, or one pruning method at
// one setting, as benchmarks/ptb_task.h appends it to <reports_dir>/results/ptb_<preset>.jsonl
// and reporting/results.h renders it. JSON through reporting/record_fields.h: every field may
// be absent (records of older versions, and fields that only some kinds of run have), unknown
// keys are kept. What a method defines itself stays JSON: its options (`method_options`) and its
// training diagnostics (for L0: the gate statistics, pruning/l0_neuron_selection.h).
#ifndef RNNPRUNE_REPORTING_PTB_RECORD_H_
#define RNNPRUNE_REPORTING_PTB_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reporting/record_provenance.h"

namespace rnnprune {

// The sizes of an LSTM LM (models/lstm_lm.h): E, each layer's input and hidden size, the
// parameters and multiply-adds per token (LSTM stack and decoder).
struct PtbSizesRecord {
  std::optional<int64_t> embedding_size;
  std::optional<std::vector<int64_t>> input_sizes, hidden_sizes;
  std::optional<int64_t> parameters, multiply_adds_per_token;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("embedding_size", self.embedding_size);
    visit("input_sizes", self.input_sizes);
    visit("hidden_sizes", self.hidden_sizes);
    visit("parameters", self.parameters);
    visit("multiply_adds_per_token", self.multiply_adds_per_token);
  }
};

// One training epoch (training/lm_trainer.h EpochStats); perplexities per token, valid 0 when
// the epoch was not evaluated.
struct PtbEpochRecord {
  std::optional<int64_t> epoch, steps, tokens;
  std::optional<double> learning_rate, train_perplexity, valid_perplexity;
  std::optional<double> train_seconds, tokens_per_second;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("epoch", self.epoch);
    visit("learning_rate", self.learning_rate);
    visit("steps", self.steps);
    visit("tokens", self.tokens);
    visit("train_perplexity", self.train_perplexity);
    visit("valid_perplexity", self.valid_perplexity);
    visit("train_seconds", self.train_seconds);
    visit("tokens_per_second", self.tokens_per_second);
  }
};

// One phase of training (training/lm_trainer.h TrainResult): the search or the recovery phase
// of a method run (pruning/protocol.h).
struct PtbPhaseRecord {
  std::optional<std::vector<PtbEpochRecord>> epochs;
  std::optional<int64_t> tokens;
  std::optional<double> train_seconds, tokens_per_second;
  std::optional<bool> resumed;
  std::optional<int64_t> resumed_at_global_step;
  // The method's own diagnostics, in its own format (L0: gate statistics every N steps).
  std::optional<std::vector<nlohmann::json>> diagnostics;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("epochs", self.epochs);
    visit("tokens", self.tokens);
    visit("train_seconds", self.train_seconds);
    visit("tokens_per_second", self.tokens_per_second);
    visit("resumed", self.resumed);
    visit("resumed_at_global_step", self.resumed_at_global_step);
    visit("diagnostics", self.diagnostics);
  }
};

// A training schedule (models/zaremba.h): Zaremba's lr applies to the NLL summed over BPTT steps.
struct PtbScheduleRecord {
  std::optional<int64_t> batch_size, bptt, epochs, decay_after_epochs;
  std::optional<double> learning_rate, lr_decay, max_grad_norm;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("batch_size", self.batch_size);
    visit("bptt", self.bptt);
    visit("epochs", self.epochs);
    visit("decay_after_epochs", self.decay_after_epochs);
    visit("learning_rate", self.learning_rate);
    visit("lr_decay", self.lr_decay);
    visit("max_grad_norm", self.max_grad_norm);
  }
};

// One phase of the pruning protocol as configured: its steps, schedule and first window.
struct PtbPhaseProtocolRecord {
  std::optional<int64_t> steps, first_window, max_steps_per_epoch;
  std::optional<PtbScheduleRecord> schedule;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("steps", self.steps);
    visit("first_window", self.first_window);
    visit("max_steps_per_epoch", self.max_steps_per_epoch);
    visit("schedule", self.schedule);
  }
};

// The pruning protocol of a method run (pruning/protocol.h).
struct PtbProtocolRecord {
  std::optional<PtbPhaseProtocolRecord> search, recovery;
  std::optional<int64_t> diagnostics_every_steps;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("search", self.search);
    visit("recovery", self.recovery);
    visit("diagnostics_every_steps", self.diagnostics_every_steps);
  }
};

// The check that the model timed and evaluated computes what its structure's reference does:
// both perplexities on the first `tokens` tokens of valid.
struct PtbAgreementRecord {
  std::optional<std::string> reference;
  std::optional<double> perplexity, reference_perplexity;
  std::optional<int64_t> tokens;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("reference", self.reference);
    visit("perplexity", self.perplexity);
    visit("reference_perplexity", self.reference_perplexity);
    visit("tokens", self.tokens);
  }
};

// Inference times in ms per token (benchmarks/inference_timing.h): LSTM stack alone and whole
// model, batch 1 and batch 20.
struct PtbInferenceTimesRecord {
  std::optional<double> lstm_b1_ms_per_token, model_b1_ms_per_token;
  std::optional<double> lstm_b20_ms_per_token, model_b20_ms_per_token;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("lstm_b1_ms_per_token", self.lstm_b1_ms_per_token);
    visit("model_b1_ms_per_token", self.model_b1_ms_per_token);
    visit("lstm_b20_ms_per_token", self.lstm_b20_ms_per_token);
    visit("model_b20_ms_per_token", self.model_b20_ms_per_token);
  }
};

// Speedups (parent time / pruned time) of the four timings, or their interquartile ranges.
template <class T>
struct PtbSpeedupsRecord {
  std::optional<T> lstm_b1, model_b1, lstm_b20, model_b20;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("lstm_b1", self.lstm_b1);
    visit("model_b1", self.model_b1);
    visit("lstm_b20", self.lstm_b20);
    visit("model_b20", self.model_b20);
  }
};

// Tokens evaluated per split.
struct PtbEvalTokensRecord {
  std::optional<int64_t> valid, test;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("valid", self.valid);
    visit("test", self.test);
  }
};

// The perplexity on the first tokens of test, where a preset evaluates only those.
struct PtbFirstTokensRecord {
  std::optional<int64_t> tokens;
  std::optional<double> perplexity;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("tokens", self.tokens);
    visit("perplexity", self.perplexity);
  }
};

struct PtbRecord {
  // Identity.
  std::optional<std::string> task;  // "ptb"
  std::optional<std::string> config_hash, parent_config_hash;
  std::optional<std::string> preset, config_name;  // config: the Zaremba config ("small", ...)
  std::optional<std::string> method;               // "dense" for the parent and the control
  std::optional<std::string> method_description;
  std::optional<std::string> setting;                // its label ("0.25", "107:200:200:156", "-")
  std::optional<std::string> setting_kind;           // pruning/method.h SettingKind
  std::optional<double> setting_value;               // lambda or sparsity
  std::optional<std::vector<int64_t>> target_sizes;  // size-taking methods: E, I.., H..
  std::optional<std::string> lambda_unit;
  std::optional<double> penalty_scale;           // what multiplies lambda: R / N per token (nats)
  std::optional<double> zero_threshold;          // ISS and Lasso (older records)
  std::optional<nlohmann::json> method_options;  // the method's own, as it records them
  std::optional<bool> from_scratch, structured, structure_fixed_at_start;
  // The model and its sizes (dense parent: its own; a method run: after pruning).
  std::optional<nlohmann::json> model;  // models/lstm_lm.h LstmLmConfig
  std::optional<int64_t> num_parameters, multiply_adds_per_token;
  std::optional<PtbSizesRecord> sizes, dense_sizes;
  std::optional<std::vector<int64_t>> kept_input_sizes, kept_hidden_sizes;
  std::optional<double> weight_sparsity;  // unstructured: fraction of LSTM weights that are 0
  std::optional<int64_t> lstm_nonzeros, lstm_csr_bytes, lstm_dense_bytes;
  // Training.
  std::optional<PtbScheduleRecord> schedule;          // dense parent
  std::optional<int64_t> max_steps_per_epoch;         // dense parent
  std::optional<std::vector<PtbEpochRecord>> epochs;  // dense parent
  std::optional<PtbProtocolRecord> protocol;          // method runs
  std::optional<PtbPhaseRecord> search, recovery;     // method runs
  std::optional<int64_t> train_steps, train_tokens;
  std::optional<double> train_seconds, train_tokens_per_second;
  std::optional<int64_t> resumed_at_step;
  std::optional<bool> search_read_back;
  // Evaluation (perplexity per token; NLL in nats per token).
  std::optional<double> valid_perplexity, test_perplexity;
  std::optional<double> valid_nll_nats_per_token, test_nll_nats_per_token;
  std::optional<PtbEvalTokensRecord> eval_tokens;
  std::optional<std::string> eval_protocol, test_not_evaluated;
  std::optional<PtbFirstTokensRecord> test_perplexity_first_tokens;
  std::optional<PtbAgreementRecord> agreement_check;
  // Inference timing against the dense parent (ms per token; speedups: parent / pruned).
  std::optional<PtbInferenceTimesRecord> inference_ms_per_token, dense_inference_ms_per_token,
      csr_inference_ms_per_token;
  std::optional<PtbSpeedupsRecord<double>> speedup, csr_speedup;
  std::optional<PtbSpeedupsRecord<std::vector<double>>> speedup_iqr, csr_speedup_iqr;
  std::optional<int64_t> timing_attempts;
  std::optional<bool> speedup_uncertain;
  std::optional<double> load_average_before_timing;
  std::optional<std::string> timing_protocol, inference_engine;
  // Outputs and provenance.
  std::optional<std::string> checkpoint, export_json, parent_checkpoint, loaded_from;
  // The model as PyTorch loads it (tools/rnnprune_torch.py load): a folder with config.json and
  // model.pt (models/torch_export.h).
  std::optional<std::string> torch_export;
  RecordProvenance provenance;
  std::optional<double> wall_seconds;
  std::optional<std::string> collapsed;  // why the setting closed every neuron of a layer
  std::optional<std::string> failed;     // the error of a run that failed at run time
  std::optional<bool> reused;            // re-used from the results file by config hash
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("task", self.task);
    visit("config_hash", self.config_hash);
    visit("parent_config_hash", self.parent_config_hash);
    visit("preset", self.preset);
    visit("config_name", self.config_name);
    visit("method", self.method);
    visit("method_description", self.method_description);
    visit("setting", self.setting);
    visit("setting_kind", self.setting_kind);
    visit("setting_value", self.setting_value);
    visit("target_sizes", self.target_sizes);
    visit("lambda_unit", self.lambda_unit);
    visit("penalty_scale", self.penalty_scale);
    visit("zero_threshold", self.zero_threshold);
    visit("method_options", self.method_options);
    visit("from_scratch", self.from_scratch);
    visit("structured", self.structured);
    visit("structure_fixed_at_start", self.structure_fixed_at_start);
    visit("model", self.model);
    visit("num_parameters", self.num_parameters);
    visit("multiply_adds_per_token", self.multiply_adds_per_token);
    visit("sizes", self.sizes);
    visit("dense_sizes", self.dense_sizes);
    visit("kept_input_sizes", self.kept_input_sizes);
    visit("kept_hidden_sizes", self.kept_hidden_sizes);
    visit("weight_sparsity", self.weight_sparsity);
    visit("lstm_nonzeros", self.lstm_nonzeros);
    visit("lstm_csr_bytes", self.lstm_csr_bytes);
    visit("lstm_dense_bytes", self.lstm_dense_bytes);
    visit("schedule", self.schedule);
    visit("max_steps_per_epoch", self.max_steps_per_epoch);
    visit("epochs", self.epochs);
    visit("protocol", self.protocol);
    visit("search", self.search);
    visit("recovery", self.recovery);
    visit("train_steps", self.train_steps);
    visit("train_tokens", self.train_tokens);
    visit("train_seconds", self.train_seconds);
    visit("train_tokens_per_second", self.train_tokens_per_second);
    visit("resumed_at_step", self.resumed_at_step);
    visit("search_read_back", self.search_read_back);
    visit("valid_perplexity", self.valid_perplexity);
    visit("test_perplexity", self.test_perplexity);
    visit("valid_nll_nats_per_token", self.valid_nll_nats_per_token);
    visit("test_nll_nats_per_token", self.test_nll_nats_per_token);
    visit("eval_tokens", self.eval_tokens);
    visit("eval_protocol", self.eval_protocol);
    visit("test_not_evaluated", self.test_not_evaluated);
    visit("test_perplexity_first_tokens", self.test_perplexity_first_tokens);
    visit("agreement_check", self.agreement_check);
    visit("inference_ms_per_token", self.inference_ms_per_token);
    visit("dense_inference_ms_per_token", self.dense_inference_ms_per_token);
    visit("csr_inference_ms_per_token", self.csr_inference_ms_per_token);
    visit("speedup", self.speedup);
    visit("csr_speedup", self.csr_speedup);
    visit("speedup_iqr", self.speedup_iqr);
    visit("csr_speedup_iqr", self.csr_speedup_iqr);
    visit("timing_attempts", self.timing_attempts);
    visit("speedup_uncertain", self.speedup_uncertain);
    visit("load_average_before_timing", self.load_average_before_timing);
    visit("timing_protocol", self.timing_protocol);
    visit("inference_engine", self.inference_engine);
    visit("checkpoint", self.checkpoint);
    visit("export_json", self.export_json);
    visit("torch_export", self.torch_export);
    visit("parent_checkpoint", self.parent_checkpoint);
    visit("loaded_from", self.loaded_from);
    RecordProvenance::Fields(self.provenance, visit);
    visit("wall_seconds", self.wall_seconds);
    visit("collapsed", self.collapsed);
    visit("failed", self.failed);
    visit("reused", self.reused);
  }

  // The record as the JSON object of a results file line.
  nlohmann::json ToJson() const;

  // The record held by `j`. Errors: InvalidArgument when `j` is not an object or a field has the
  // wrong type (naming the field, nested ones with their place).
  static absl::StatusOr<PtbRecord> FromJson(const nlohmann::json& j);
};

// The records of `lines` (reporting/results.h ReadJsonLines of a results file). Errors:
// InvalidArgument naming `source`, the line (1-based) and the field of the first record with a
// field of the wrong type.
absl::StatusOr<std::vector<PtbRecord>> PtbRecordsFromJson(const std::vector<nlohmann::json>& lines,
                                                          const std::string& source);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_PTB_RECORD_H_
