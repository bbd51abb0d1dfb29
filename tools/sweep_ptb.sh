#!/usr/bin/env bash
# The sweeps that chose the PTB presets' settings, on the valid split only: every run passes
# --noevaluate_test, so no test perplexity is ever computed. Each sweep writes its own results and
# report to reports/sweeps/<name>/ (ptb.md, results/ptb_<preset>.jsonl) and its checkpoints to
# runs/sweeps/<name>/.
#
#   tools/sweep_ptb.sh [SWEEP...]               # the default preset's sweeps, in this order
#   PRESET=small tools/sweep_ptb.sh recovery_lr  # the small preset's
#   THREADS=1 tools/sweep_ptb.sh lasso            # on one thread (another job beside it)
#
# SWEEP is one of gate_lr, l0, l0_speed, iss, lasso (the default preset's; all of them when none
# is named) or recovery_lr (run for the small preset). They prune the preset's dense parent,
# runs/ptb_<preset>_small_dense.pt (override with PARENT=...), which the main job trains (or
# `bazel run -c opt //benchmarks:all -- --preset=<preset> --tasks=ptb --methods=dense`). Every
# sweep but gate_lr uses the gate learning rate that gate_lr chose (the flag's default). Each run
# resumes after a kill, like the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
preset=${PRESET:-default}
parent=${PARENT:-$root/runs/ptb_${preset}_small_dense.pt}
threads=${THREADS:-0}  # 0: every core (the flag's default)
if [ ! -f "$parent" ]; then
  echo "sweep_ptb.sh: no dense parent at $parent; train it first with" >&2
  echo "  bazel run -c opt //benchmarks:all -- --preset=$preset --tasks=ptb --methods=dense" >&2
  exit 1
fi
# The default preset's sweeps keep their folder names; another preset's get it as a prefix.
prefix=""
[ "$preset" != default ] && prefix="${preset}_"

sweep() {
  local name=$prefix$1; shift
  echo "== sweep $name: $*"
  bazel run -c opt //benchmarks:all -- --preset="$preset" --tasks=ptb --noevaluate_test \
    --threads="$threads" --dense_checkpoint="$parent" --reports_dir="$root/reports/sweeps/$name" \
    --output_dir="$root/runs/sweeps/$name" "$@"
}

run_gate_lr() {
  # Adam's learning rate for log_alpha, at two lambdas of the paper's weighting.
  for lr in 0.1 0.5 1 2; do
    sweep "l0_gate_lr_$lr" --methods=l0 --settings=l0=0.25/1 --l0_gate_learning_rate="$lr"
  done
}
# 0.25 and 1 at the chosen gate learning rate are in the gate_lr sweep.
run_l0() { sweep l0_lambda --methods=l0 --settings=l0=0.1/0.5/2; }
run_l0_speed() { sweep l0_speed_lambda --methods=l0_speed --settings=l0_speed=0.25/1/4; }
run_iss() { sweep iss_lambda --methods=iss --settings=iss=1000/2000/3000/4000; }
run_lasso() { sweep lasso_lambda --methods=lasso --settings=lasso=30/100; }
run_recovery_lr() {
  # The recovery phase's learning rate, for a parent whose schedule ended far below the search
  # phase's 0.25: L0 at lambda 1 and structured magnitude at L0's sizes. The rule, fixed before
  # the runs: the rate with the lowest mean valid perplexity of the two pruned runs (what the
  # recovery phase is for). The dense control at the chosen rate is in the preset's own report.
  for lr in 0.25 0.05 0.01; do
    sweep "recovery_lr_$lr" --methods=l0,structured_magnitude --settings=l0=1 \
      --recovery_learning_rate="$lr"
  done
}

sweeps=("$@")
[ ${#sweeps[@]} -eq 0 ] && sweeps=(gate_lr l0 l0_speed iss lasso)
for s in "${sweeps[@]}"; do
  case "$s" in
    gate_lr|l0|l0_speed|iss|lasso|recovery_lr) "run_$s" ;;
    *) echo "sweep_ptb.sh: unknown sweep '$s' (gate_lr, l0, l0_speed, iss, lasso, recovery_lr)" >&2
       exit 1 ;;
  esac
done
