// The main job's task "ptb": Zaremba LSTM language models on PTB, trained dense, then pruned by
// every method with the one protocol, evaluated, exported and timed (reports/ptb.md).
#ifndef RNNPRUNE_BENCHMARKS_PTB_TASK_H_
#define RNNPRUNE_BENCHMARKS_PTB_TASK_H_

#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/suite_options.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// The main job's task "ptb": each Zaremba config of the preset is trained from scratch
// (seeded with options.seed) and saved to <output_dir>/ptb_<preset>_<config>_dense.pt, or
// loaded from options.dense_checkpoint, then evaluated on valid and test (batch 1, BPTT 35,
// state carried). Then every method (options.methods, else the preset's list, else every
// registered method; size-taking methods last), at each of its settings (benchmarks/
// ptb_settings.h: --settings, else the method's settings flag such as --l0_lambdas, else the
// preset's, else for size-taking methods the sizes this config's L0 runs reached, else the
// registered defaults), is run on that checkpoint (or from scratch when the method's options
// say so) with
// the pruning protocol (pruning/protocol.h: the preset's search and recovery phases, the same
// for every method). Structured results are compacted (checked against the gated model on the
// first 5,000 valid tokens before the recovery phase), unstructured ones also converted to CSR
// (checked likewise against the dense model with zeros); each is evaluated, exported to
// <output_dir>/ptb_<preset>_<config>_<method>_<setting>.pt and .json (':' in the setting
// becomes '-') and timed side by side with the dense parent. Writes
// <reports_dir>/results/ptb_<preset>.jsonl after every run (MergeResults: this invocation's
// records, then the earlier ones it has not re-run) and re-renders <reports_dir>/ptb.md from
// all result files. Returns this invocation's records (reporting/ptb_record.h PtbRecord, which
// the task builds, as the JSON objects of the results file; re-used ones marked "reused").
// Reuse and resume: every PTB record carries "config_hash" (common/config_hash.h) over what
// determines its numbers (preset, config, schedule, method, setting, flags that change training,
// seed, the data's SHA-256 and, for methods, the dense parent's hash). Unless options.force, a
// run whose hash matches a record of the preset's existing results file, and whose checkpoint
// is still there, is not recomputed: the record is re-used (marked "reused": true); a method run
// only while its dense parent is re-used too (a parent trained again need not come out bit for
// bit the same, so its method runs are computed again). Every
// training run writes a training checkpoint (<output_dir>/<run>.train.ckpt, every
// checkpoint_every_steps steps and at each epoch end, atomically) and resumes from it, so a
// killed task continues where it stopped; the checkpoint is removed once its run is exported.
// Errors: missing or corrupt data, a record of the existing results file with a field of the
// wrong type (naming the file, the line and the field), training divergence, a pruned model that
// does not match its reference, unwritable outputs.
absl::StatusOr<std::vector<nlohmann::json>> RunPtbTask(const TaskContext& context);

// The records a PTB results file holds after a run: `current` (this invocation's records, in
// order), then the records of `earlier` (the file as the invocation found it) that `current`
// does not supersede, so that a killed suite, or one run on part of a preset (--methods=...),
// loses no finished record. A record is superseded by one of `current` for the same run (Zaremba
// config, method, setting, seed; dense parent or not), whatever their config hashes; an earlier
// method record whose "parent_config_hash" names no dense record of the result is dropped (its
// parent was re-trained differently), and so is one whose parent `current` trained again (not
// re-used) under the same hash.
std::vector<nlohmann::json> MergeResults(const std::vector<nlohmann::json>& current,
                                         const std::vector<nlohmann::json>& earlier);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PTB_TASK_H_
