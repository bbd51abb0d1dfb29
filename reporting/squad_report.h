// The SQuAD v1.1 report (reports/squad.md), rendered from the squad task's result records
// (<reports_dir>/results/squad_<preset>.json, written by benchmarks/squad_task.h). Links no
// model code.
#ifndef RNNPRUNE_REPORTING_SQUAD_REPORT_H_
#define RNNPRUNE_REPORTING_SQUAD_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reporting/squad_record.h"

namespace rnnprune {

// Markdown for `runs` (records of the squad task): one table per protocol (local runs and
// official runs are never mixed in one table), with exact match and F1 (percent), BiDAF's
// sizes, the schedule, training time, training and evaluation speed (questions/s); then each
// run's provenance (command, commit, machine, threads, seed, data, embedding initialisation,
// per-epoch loss), and BiDAF's published dev figures in a separate, labelled table. Missing
// fields show "?". `pruning_sections` (reporting/bidaf_pruning_report.h, may be empty) follows
// the tables of the parents.
std::string RenderSquadReport(const std::vector<SquadRecord>& runs,
                              const std::string& pruning_sections = "");

// Reads every <reports_dir>/results/squad_*.json (one record each) and bidaf_pruning_*.json
// (the pruning runs: a section and a plot <reports_dir>/squad_pruning_<preset>.svg per preset)
// and writes <reports_dir>/squad.md atomically. Errors: NotFound when there is no result file; a
// file that is unreadable, not a JSON object or holds a field of the wrong type (naming the file
// and the field: reporting/squad_record.h); an unwritable report.
absl::Status RenderSquadReportFiles(const std::string& reports_dir);

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_SQUAD_REPORT_H_
