// The main job's task "squad": BiDAF (Seo et al. 2017) trained and evaluated on SQuAD v1.1 with
// the preset's sizes and schedule, on the official protocol (a user-supplied train-v1.1.json,
// evaluated on dev-v1.1.json) or the local one (dev articles only, split by article:
// datasets/squad_split.h). Writes the predictions, the result record and reports/squad.md.
#ifndef RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_
#define RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_

#include <optional>

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"
#include "reporting/squad_record.h"

namespace rnnprune {

// SHA-256 of the official dev-v1.1.json (../shared/data/README.md).
inline constexpr char kSquadDevSha256[] =
    "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9";

// Runs the task with the preset's sizes and schedule and these options: data_dir (holds
// squad/dev-v1.1.json and glove/), verify_checksums (dev-v1.1.json must be the official file),
// squad_train (train-v1.1.json: the "official" protocol; empty: "local"), glove (GloVe vectors
// of dimension preset.squad_word_dim; empty: the first of <data_dir>/glove/glove.6B.<dim>d.txt.gz,
// .txt, .first100.txt.gz that exists; "none": random word embeddings; the report says which),
// reports_dir (results/squad_<preset>.json and squad.md), output_dir (the predictions and, while
// training runs, the training checkpoint squad_<preset>.train.ckpt, removed once the record is
// written), threads, seed, checkpoint_every_steps (> 0), command and log. Re-use and resume:
// unless `force`, when <reports_dir>/results/squad_<preset>.json holds a record with this run's
// config hash and its predictions file exists, that record is re-used (marked "reused": true);
// otherwise training resumes from the training checkpoint when one of this config hash is
// there (one of another configuration is refused: delete it or pass force); with force
// everything is recomputed and an existing training checkpoint is replaced.
// Returns its record (reporting/squad_record.h): data and protocol, BiDAF
// config, schedule, per-epoch loss (nats), exact match and F1 (percent), training time (s, over
// every process of a resumed run) and speed (questions/s), evaluation speed, provenance, and
// "resumed_at_step" (optimizer steps the training checkpoint had taken) when training resumed.
// The record is written to <reports_dir>/results/squad_<preset>.json and squad.md re-rendered.
// On one thread a resumed run's numbers are bit-identical to an uninterrupted one's.
// The trained parent is saved to SquadParentPath under its training hash (the config hash
// without the evaluation switch), its metadata holding the training's record. A run with no
// record of its own adopts such a file instead of training (its record then copies the
// training's fields, names the run that trained it in "trained_by", and is scored and written
// by this run): the main job and a sweep choosing on the validation part (--noevaluate_test)
// with the same output_dir train the parent once. With preset.squad_methods, the BiDAF pruning
// runs of benchmarks/squad_pruning.h follow from it (a finished record is re-used only while
// that file exists; else the parent trains again); with --noevaluate_test they score the
// validation part only. squad.md then holds their section too.
// Word embeddings are trained unless at least half of the vocabulary comes from GloVe (the
// paper keeps full GloVe fixed; frozen random vectors would carry no meaning).
// Errors: missing or corrupt data (a checksum mismatch names the file), malformed JSON (the
// reader's messages name the question), a GloVe file of another dimension, a non-finite loss
// (naming the step), unwritable outputs, a training checkpoint of another configuration
// (FailedPrecondition naming both hashes) or a damaged one (InvalidArgument naming its path), a
// parent file of another configuration (FailedPrecondition naming it); the
// pruning runs' errors (a method that cannot prune BiDAF: Unimplemented naming it).
absl::StatusOr<SquadRecord> RunSquadTask(const TaskContext& context);

// The record file of the context's SQuAD run: <reports_dir>/results/squad_<preset>.json, or at
// a point of a sweep squad_<preset>_<12 hex digits of the point's hash>.json (one file per point,
// all rendered into squad.md).
std::string SquadRecordPath(const TaskContext& context);

// The trained parent BiDAF of the context's SQuAD runs of training hash `hash`
// (models/bidaf_checkpoint.h, its metadata {"config_hash": the training hash, "preset",
// "record": the training's record, without evaluation}):
// <output_dir>/squad_<preset>_<12 hex digits of hash>.bidaf, written with the record and read by
// the pruning runs (benchmarks/squad_pruning.h) when the record is re-used.
std::string SquadParentPath(const TaskContext& context, const std::string& hash);

// The wall seconds (training and evaluation where the record predates wall_seconds) of the
// preset's earlier SQuAD run, from SquadRecordPath(context) (plus its training seconds when it
// adopted its parent from an earlier run's file), plus those of the pruning runs
// recorded from that parent when the preset lists squad_methods; nullopt when there is no
// parent record or it cannot be read. The job's ETA uses it before this run has a rate of its own.
std::optional<double> EarlierSquadSeconds(const TaskContext& context);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_SQUAD_TASK_H_
