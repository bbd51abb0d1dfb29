// The result record of the speed task: what benchmarks/speed_suite.h writes to
// <reports_dir>/results/speed_<preset>.json and reporting/speed_report.h renders. One document
// per run of the task: the machine, its measured limits, the engines, the shapes and every
// benchmark. JSON through reporting/record_fields.h: every field may be absent (records of older
// versions), unknown keys are kept.
#ifndef RNNPRUNE_REPORTING_SPEED_RECORD_H_
#define RNNPRUNE_REPORTING_SPEED_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// The machine, the build and the protocol of the run.
struct SpeedMachineRecord {
  std::optional<std::string> cpu_model;
  std::optional<int64_t> logical_cpus;
  std::optional<int64_t> l3_bytes;                        // last-level cache, bytes
  std::optional<std::string> blas_config, blas_corename;  // OpenBLAS's own description
  std::optional<std::string> openblas_coretype;           // $OPENBLAS_CORETYPE, "" when unset
  std::optional<std::string> git_commit, hostname, timestamp_utc, command;
  std::optional<double> min_time;  // seconds per benchmark, over its repetitions
  std::optional<int64_t> repetitions;
  std::optional<int64_t> seed;                  // random weights and token ids
  std::optional<std::vector<int64_t>> threads;  // every thread count measured
  std::optional<int64_t> steps_per_sequence;    // tokens per call and batch element (35)
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("cpu_model", self.cpu_model);
    visit("logical_cpus", self.logical_cpus);
    visit("l3_bytes", self.l3_bytes);
    visit("blas_config", self.blas_config);
    visit("blas_corename", self.blas_corename);
    visit("openblas_coretype", self.openblas_coretype);
    visit("git_commit", self.git_commit);
    visit("hostname", self.hostname);
    visit("timestamp_utc", self.timestamp_utc);
    visit("command", self.command);
    visit("min_time", self.min_time);
    visit("repetitions", self.repetitions);
    visit("seed", self.seed);
    visit("threads", self.threads);
    visit("steps_per_sequence", self.steps_per_sequence);
  }
};

// One measured limit of the machine: a triad bandwidth (GB/s) or the sgemm peak (GFLOP/s).
struct SpeedLimitRecord {
  std::optional<std::string> kind;  // "triad_dram", "triad_l3" or "sgemm"
  std::optional<int64_t> threads;
  std::optional<double> gflops;        // sgemm
  std::optional<double> gbytes_per_s;  // triads
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("kind", self.kind);
    visit("threads", self.threads);
    visit("gflops", self.gflops);
    visit("gbytes_per_s", self.gbytes_per_s);
  }
};

// An inference engine (models/engines/).
struct SpeedEngineRecord {
  std::optional<std::string> name, description;
  std::optional<bool> sparse;  // runs CSR weights
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("name", self.name);
    visit("description", self.description);
    visit("sparse", self.sparse);
  }
};

// A model shape measured: a Zaremba config, or a pruned model's sizes with its dense parent.
struct SpeedShapeRecord {
  std::optional<std::string> name, source;
  std::optional<std::string> parent;             // "" for a dense parent
  std::optional<double> sparsity;                // fraction of LSTM weights that are zero; 0: dense
  std::optional<std::vector<std::string>> also;  // other runs with the same sizes
  std::optional<nlohmann::json> config;          // models/lstm_lm.h LstmLmConfig as JSON
  std::optional<double> lstm_weight_bytes, decoder_weight_bytes;
  std::optional<double> lstm_macs_per_token, decoder_macs_per_token;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("name", self.name);
    visit("source", self.source);
    visit("parent", self.parent);
    visit("sparsity", self.sparsity);
    visit("also", self.also);
    visit("config", self.config);
    visit("lstm_weight_bytes", self.lstm_weight_bytes);
    visit("decoder_weight_bytes", self.decoder_weight_bytes);
    visit("lstm_macs_per_token", self.lstm_macs_per_token);
    visit("decoder_macs_per_token", self.decoder_macs_per_token);
  }
};

// One benchmark: a shape run by an engine in a scope ("lstm", "model") and a mode ("b1_seq",
// "b1_token", "b20") on a number of threads.
struct SpeedRunRecord {
  std::optional<std::string> shape, engine, scope, mode;
  std::optional<int64_t> threads;
  std::optional<double> ms_per_token;  // median of the repetitions
  std::optional<int64_t> repetitions;
  std::optional<std::vector<double>> ms_per_token_iqr;  // [q1, q3]
  std::optional<double> tokens_per_s, gflops, weight_gbytes_per_s;
  std::optional<double> bytes_per_token, flops_per_token;
  std::optional<std::string> level;  // memory level holding the weights: "L3" or "DRAM"
  std::optional<double> bound_ms_per_token, ratio_to_bound;  // the roofline bound
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("shape", self.shape);
    visit("engine", self.engine);
    visit("scope", self.scope);
    visit("mode", self.mode);
    visit("threads", self.threads);
    visit("ms_per_token", self.ms_per_token);
    visit("repetitions", self.repetitions);
    visit("ms_per_token_iqr", self.ms_per_token_iqr);
    visit("tokens_per_s", self.tokens_per_s);
    visit("gflops", self.gflops);
    visit("weight_gbytes_per_s", self.weight_gbytes_per_s);
    visit("bytes_per_token", self.bytes_per_token);
    visit("flops_per_token", self.flops_per_token);
    visit("level", self.level);
    visit("bound_ms_per_token", self.bound_ms_per_token);
    visit("ratio_to_bound", self.ratio_to_bound);
  }
};

// The engines the default engine runs in each regime.
struct SpeedRegimesRecord {
  std::optional<std::string> batch_1, batch_20;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("batch_1", self.batch_1);
    visit("batch_20", self.batch_20);
  }
};

struct SpeedRecord {
  std::optional<SpeedMachineRecord> machine;
  std::optional<std::vector<SpeedLimitRecord>> limits;
  std::optional<std::vector<SpeedEngineRecord>> engines;
  std::optional<std::vector<SpeedShapeRecord>> shapes;
  std::optional<std::vector<SpeedRunRecord>> runs;
  std::optional<std::vector<std::string>> notes;
  std::optional<std::string> default_engine;
  std::optional<SpeedRegimesRecord> default_engine_regimes;
  // The resolved preset of the main job that timed it (benchmarks/preset_json.h PresetToJson);
  // absent from documents of older versions and from the standalone speed binary's.
  std::optional<nlohmann::json> preset_config;
  nlohmann::json extra = nlohmann::json::object();

  template <class Self, class Visit>
  static void Fields(Self& self, Visit& visit) {
    visit("preset_config", self.preset_config);
    visit("machine", self.machine);
    visit("limits", self.limits);
    visit("engines", self.engines);
    visit("shapes", self.shapes);
    visit("runs", self.runs);
    visit("notes", self.notes);
    visit("default_engine", self.default_engine);
    visit("default_engine_regimes", self.default_engine_regimes);
  }

  // The document as the JSON object of a results file.
  nlohmann::json ToJson() const;

  // The document held by `j`. Errors: InvalidArgument when `j` is not an object or a field has
  // the wrong type (naming the field, nested ones as "in \"runs[3]\": field ...").
  static absl::StatusOr<SpeedRecord> FromJson(const nlohmann::json& j);
};

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_SPEED_RECORD_H_
