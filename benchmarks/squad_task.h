// The main job's task "squad": BiDAF (Seo et al. 2017) trained and evaluated on SQuAD v1.1 with
// the preset's sizes and schedule, on the official protocol (a user-supplied train-v1.1.json,
// evaluated on dev-v1.1.json) or the local one (dev articles only, split by article:
// datasets/squad_split.h). Writes the predictions, the result record and reports/squad.md.
#ifndef RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_
#define RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "benchmarks/presets.h"
#include "common/run_info.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// SHA-256 of the official dev-v1.1.json (../shared/data/README.md).
inline constexpr char kSquadDevSha256[] =
    "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9";

struct SquadTaskOptions {
  Preset preset;
  std::string data_dir;       // holds squad/dev-v1.1.json (and glove/ when present)
  bool verify_checksums = true;  // dev-v1.1.json must be the official file
  // train-v1.1.json: when set, the protocol is "official"; else "local".
  std::string train_path;
  // GloVe vectors (.txt or .txt.gz) of dimension preset.squad_word_dim. Empty: the first of
  // <data_dir>/glove/glove.6B.<dim>d.txt.gz, .txt, .first100.txt.gz (the shared sample of the 100
  // most frequent words) that exists; "none": random word embeddings. The report says which.
  std::string glove_path;
  std::string reports_dir;  // results/squad_<preset>.json and squad.md
  // squad_<preset>_predictions.json, and the training checkpoint squad_<preset>.train.ckpt
  // while training runs (removed once the record is written)
  std::string output_dir;
  int threads = 1;
  int seed = 1;
  // false: when <reports_dir>/results/squad_<preset>.json holds a record with this run's config
  // hash and its predictions file exists, that record is re-used (marked "reused": true);
  // otherwise training resumes from <output_dir>/squad_<preset>.train.ckpt when one of this
  // config hash is there (a checkpoint of another configuration is refused: delete it or pass
  // force). true: everything is recomputed and an existing training checkpoint is replaced.
  bool force = false;
  // >= 0: a training checkpoint every this many optimizer steps (0 = only at epoch ends;
  // training/bidaf_trainer.h BidafTrainOptions::checkpoint_every_steps).
  int64_t checkpoint_every_steps = 200;
  std::string command;
  RunInfo run_info;
  std::function<void(const std::string&)> log;
};

// Runs the task (or re-uses a finished one, or resumes an interrupted one: see `force`) and
// returns its record (the fields reports/squad_report.h reads): data and protocol, BiDAF
// config, schedule, per-epoch loss (nats), exact match and F1 (percent), training time (s, over
// every process of a resumed run) and speed (questions/s), evaluation speed, provenance, and
// "resumed_at_step" (optimizer steps the training checkpoint had taken) when training resumed.
// The record is written to <reports_dir>/results/squad_<preset>.json and squad.md re-rendered.
// On one thread a resumed run's numbers are bit-identical to an uninterrupted one's.
// Word embeddings are trained unless at least half of the vocabulary comes from GloVe (the
// paper keeps full GloVe fixed; frozen random vectors would carry no meaning).
// Errors: missing or corrupt data (a checksum mismatch names the file), malformed JSON (the
// reader's messages name the question), a GloVe file of another dimension, a non-finite loss
// (naming the step), unwritable outputs, a training checkpoint of another configuration
// (FailedPrecondition naming both hashes) or a damaged one (InvalidArgument naming its path).
absl::StatusOr<nlohmann::json> RunSquadTask(const SquadTaskOptions& options);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_
