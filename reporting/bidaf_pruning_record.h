// The result record of one BiDAF pruning run (benchmarks/squad_pruning.h: a method and setting
// run from the squad task's parent with the protocol of benchmarks/bidaf_pruning.h), written to
// <reports_dir>/results/bidaf_pruning_<preset>_<method>_<12 hex digits of its hash>.json and
// rendered into reports/squad.md (reporting/bidaf_pruning_report.h). JSON through
// reporting/record_fields.h: every field may be absent, unknown keys are kept.
#ifndef RNNPRUNE_REPORTING_BIDAF_PRUNING_RECORD_H_
#define RNNPRUNE_REPORTING_BIDAF_PRUNING_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "reporting/record_provenance.h"

namespace rnnprune {

struct BidafPruningRecord {
  // Identity: "bidaf_pruning", this run's config hash, the parent's (the squad record's).
  std::optional<std::string> task, config_hash, parent_config_hash, preset;
  std::optional<std::string> protocol;  // the parent's data protocol: "local" or "official"
  // The method (pruning/method.h registry name) and its setting as listed: a lambda (per epoch
  // of training questions), or "sizes of <method> <lambda>" for the methods taking sizes;
  // "dense" has none ("").
  std::optional<std::string> method, setting;
  std::optional<double> lambda;
  std::optional<double> sparsity;  // kSparsity methods: the target fraction of LSTM weights pruned
  std::optional<nlohmann::json> method_options;  // ModelMethod::RecordedOptions
  std::optional<nlohmann::json> target_hidden;   // {LSTM direction: hidden neurons to keep}
  // The budget: epochs of each phase (a fixed structure trains search + recovery epochs of
  // recovery), optimizer steps taken, the optimizer, learning rate and batch size of both.
  std::optional<int64_t> search_epochs, recovery_epochs, search_steps, recovery_steps;
  std::optional<std::string> optimizer;
  std::optional<double> learning_rate;
  std::optional<int64_t> batch_size;
  // The deployed network: kept hidden and input neurons per LSTM direction (e.g.
  // "contextual.fw"), the parent's sizes, and parameter counts (LSTMs: W_ih, W_hh and biases of
  // every direction; all: every parameter, the word embedding included).
  std::optional<nlohmann::json> kept_hidden, kept_inputs, parent_hidden, parent_inputs;
  std::optional<int64_t> lstm_parameters, parameters, parent_lstm_parameters, parent_parameters;
  // Unstructured methods only (every neuron kept, irregular zeros): the non-zero entries of the
  // LSTM parameters, and the fraction of the LSTM weight-matrix entries (W_ih, W_hh) pruned.
  std::optional<int64_t> lstm_nonzero_parameters;
  std::optional<double> lstm_weight_sparsity;
  // Set when the final structure closed every neuron of some direction: nothing was deployed,
  // `error` names the direction.
  std::optional<bool> collapsed;
  std::optional<std::string> error;
  // Training: mean loss per epoch (nats, CE start + CE end) of each phase, and exact match / F1
  // (percent) on the validation part after every epoch of both phases in order.
  std::optional<std::vector<double>> search_epoch_loss, recovery_epoch_loss;
  std::optional<std::vector<double>> epoch_validation_exact_match, epoch_validation_f1;
  std::optional<nlohmann::json> search_diagnostics;  // the method's (e.g. L0's gate statistics)
  // Evaluation (the official v1.1 metric, percent) on the evaluation questions.
  std::optional<int64_t> eval_questions;
  std::optional<double> exact_match, f1;
  // Inference speed against the parent, timed side by side in this run's process
  // (benchmarks/bidaf_timing.h): BidafSpeedups ({"lstms_b1", "model_b1", "lstms_b32",
  // "model_b32", each with "_iqr"}), both models' BidafTiming, and the rounds timed.
  std::optional<nlohmann::json> speedups, timing;
  std::optional<int64_t> timing_repeats;
  // Provenance and cost (s, over this process).
  std::optional<double> search_seconds, recovery_seconds, wall_seconds;
  RecordProvenance provenance;
  std::optional<bool> reused;  // re-used from the results file by config hash
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("task", self.task);
    visit("config_hash", self.config_hash);
    visit("parent_config_hash", self.parent_config_hash);
    visit("preset", self.preset);
    visit("protocol", self.protocol);
    visit("method", self.method);
    visit("setting", self.setting);
    visit("lambda", self.lambda);
    visit("sparsity", self.sparsity);
    visit("method_options", self.method_options);
    visit("target_hidden", self.target_hidden);
    visit("search_epochs", self.search_epochs);
    visit("recovery_epochs", self.recovery_epochs);
    visit("search_steps", self.search_steps);
    visit("recovery_steps", self.recovery_steps);
    visit("optimizer", self.optimizer);
    visit("learning_rate", self.learning_rate);
    visit("batch_size", self.batch_size);
    visit("kept_hidden", self.kept_hidden);
    visit("kept_inputs", self.kept_inputs);
    visit("parent_hidden", self.parent_hidden);
    visit("parent_inputs", self.parent_inputs);
    visit("lstm_parameters", self.lstm_parameters);
    visit("parameters", self.parameters);
    visit("parent_lstm_parameters", self.parent_lstm_parameters);
    visit("parent_parameters", self.parent_parameters);
    visit("lstm_nonzero_parameters", self.lstm_nonzero_parameters);
    visit("lstm_weight_sparsity", self.lstm_weight_sparsity);
    visit("collapsed", self.collapsed);
    visit("error", self.error);
    visit("search_epoch_loss", self.search_epoch_loss);
    visit("recovery_epoch_loss", self.recovery_epoch_loss);
    visit("epoch_validation_exact_match", self.epoch_validation_exact_match);
    visit("epoch_validation_f1", self.epoch_validation_f1);
    visit("search_diagnostics", self.search_diagnostics);
    visit("eval_questions", self.eval_questions);
    visit("exact_match", self.exact_match);
    visit("f1", self.f1);
    visit("speedups", self.speedups);
    visit("timing", self.timing);
    visit("timing_repeats", self.timing_repeats);
    visit("search_seconds", self.search_seconds);
    visit("recovery_seconds", self.recovery_seconds);
    visit("wall_seconds", self.wall_seconds);
    RecordProvenance::Fields(self.provenance, visit);
    visit("reused", self.reused);
  }

  // The record as the JSON object of a results file.
  nlohmann::json ToJson() const;
  // The record held by `j`. Errors: InvalidArgument when `j` is not an object or a field has the
  // wrong type (naming the field and the value).
  static absl::StatusOr<BidafPruningRecord> FromJson(const nlohmann::json& j);
};

// The record in the results file at `path`. Errors: the file's read errors; InvalidArgument
// naming the file when it is not JSON or a field has the wrong type.
absl::StatusOr<BidafPruningRecord> ReadBidafPruningRecord(const std::string& path);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_BIDAF_PRUNING_RECORD_H_
