#!/usr/bin/env bash
# The sweeps that chose the squad task's settings of a preset, on the validation part carved from
# the training articles only: every run passes --noevaluate_test, so the evaluation articles are
# never scored. Each run writes its record and report to reports/sweeps/squad_<name>/ and its
# checkpoints to runs/sweeps/squad_<name>/, and resumes after a kill, like the main job.
#
#   tools/sweep_squad.sh [SWEEP...]                 # the default preset's sweeps, in this order
#   THREADS=1 tools/sweep_squad.sh words:all,fixed  # one run of a sweep (two runs side by side)
#   tools/sweep_squad.sh epochs:14                  # the preset as it is, trained 14 epochs
#   THREADS=1 tools/sweep_squad.sh lr:0.002         # the preset with another learning rate
#   THREADS=1 tools/sweep_squad.sh dropout:0.1      # the preset with another dropout
#   THREADS=1 tools/sweep_squad.sh set:squad_learning_rate=0.002,squad_dropout=0.1
#   tools/sweep_squad.sh prune:dense,l0=0.01/0.03,iss=300     # BiDAF pruning settings
#   tools/sweep_squad.sh prune:dense,lasso=1/3/10/30,magnitude=0.5/0.8/0.9
#
# SWEEP is `words` (every run below), one run `words:VOCABULARY,EMBEDDING[,ROWS]`, `epochs:N`,
# `lr:RATE`, `dropout:P`, `set:FIELD=VALUE[,FIELD=VALUE...]` or
# `prune:METHOD[=S1/S2...][,METHOD...]`.
#
# words: how words unseen in training are represented (issue 16): the word vocabulary (`train`:
# every word absent from the training articles is one <unk> row; `all`: each word of every split
# has a row of its own) and whether the word embedding is trained or fixed at its random
# initialisation (--set squad_word_embedding), and how rows without GloVe are drawn (ROWS:
# uniform, U(-0.1, 0.1), the default; normal, N(0, 1); --set squad_random_word_rows). Each run trains EPOCHS (default 10) epochs and
# scores the validation part after each: one run gives the curve of every shorter schedule (the
# learning rate is constant, so k epochs of a longer run are a k-epoch run).
# epochs:N: the preset's squad settings as they are, trained N epochs (EPOCHS is ignored) and
# scored after each, for a schedule longer than the words sweep's (same rule as below).
# lr:RATE, dropout:P: the preset's squad settings with squad_learning_rate or squad_dropout
# changed, trained the preset's epochs (EPOCHS is ignored), scored after each (same rule);
# set:...: the same with any preset fields changed at once (each a --set).
# prune:...: the BiDAF pruning runs of the preset (squad_methods, squad_settings; the preset's
# epochs) at these methods and settings, from the parent the main job trains: its output folder is
# runs/, so the parent file there is adopted (benchmarks/squad_task.h; trained once if absent).
# The rule for pruning settings, fixed before the runs: per method, a span from the largest
# setting whose final validation F1 is within 1 of the dense control's to the smallest whose
# LSTMs run at least 3x faster than the parent's at batch 32 (batch 1 is bound by per-step
# overhead at d = 50: README.md, "Pruning BiDAF"). Unstructured methods (lasso, magnitude: every
# neuron kept, no speedup on this engine), fixed before their first runs (2026-12-07): the
# largest setting whose final validation F1 is within 1 of the dense control's, and the largest
# whose final validation F1 is at least that of the most pruned L0 default run (L0 0.5: 28.95),
# so that the report shows each at no loss and at that run's quality.
# The rule for training settings, fixed before the runs: the run and epoch count with the highest validation F1 among
# the epoch counts whose training fits the 25-minute budget (each record's training seconds per
# epoch times the epochs; for a run timed on one thread or beside other work, the training
# seconds per epoch of the preset's committed main-job record, 2 threads alone); the preset
# takes that vocabulary, embedding and epoch count.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
preset=${PRESET:-default}
epochs=${EPOCHS:-10}
threads=${THREADS:-0}
prefix="squad_"
[ "$preset" != default ] && prefix="squad_${preset}_"

run() {
  local name=$prefix$1; shift
  echo "== sweep $name: $*"
  bazel run -c opt //benchmarks:all -- --preset="$preset" --tasks=squad --noevaluate_test \
    --threads="$threads" --reports_dir="$root/reports/sweeps/$name" \
    --output_dir="${output_dir:-$root/runs/sweeps/$name}" --set squad_epochs="$epochs" "$@"
}

run_prune() {  # $1: METHOD[=S1/S2...][,METHOD...]
  local methods=() sets=() m
  IFS=, read -ra entries <<< "$1"
  for m in "${entries[@]}"; do
    methods+=("${m%%=*}")
    [[ "$m" == *=* ]] && sets+=(--set "squad_settings.${m%%=*}=${m#*=}")
  done
  local IFS=,
  output_dir="$root/runs" run "prune_$(tr '=/,' '___' <<< "$1")" \
    --set squad_methods="${methods[*]}" "${sets[@]}"
}

preset_epochs() {  # the preset's squad_epochs, from its resolved config
  bazel run -c opt //benchmarks:all -- --preset="$preset" --print_config 2> /dev/null |
    sed -n 's/^ *"squad_epochs": \([0-9]*\),*$/\1/p'
}

run_words() {  # $1: VOCABULARY,EMBEDDING[,ROWS]
  local vocabulary embedding rows
  IFS=, read -r vocabulary embedding rows <<< "$1"
  rows=${rows:-uniform}
  local name="words_${vocabulary}_${embedding}"
  [ "$rows" != uniform ] && name="${name}_$rows"
  run "$name" --set squad_word_vocabulary="$vocabulary" --set squad_word_embedding="$embedding" \
    --set squad_random_word_rows="$rows"
}

sweeps=("$@")
[ ${#sweeps[@]} -eq 0 ] && sweeps=(words)
for s in "${sweeps[@]}"; do
  case "$s" in
    words)
      for w in train,trained all,trained all,fixed all,trained,normal; do run_words "$w"; done ;;
    words:*,*) run_words "${s#words:}" ;;
    epochs:[1-9]*) (epochs=${s#epochs:}; run "epochs_$epochs") ;;
    lr:[0-9]*) (epochs=$(preset_epochs); run "lr_${s#lr:}" --set squad_learning_rate="${s#lr:}") ;;
    set:*=*)
      (epochs=$(preset_epochs); assignments=${s#set:}; sets=()
       IFS=, read -ra pairs <<< "$assignments"
       for a in "${pairs[@]}"; do sets+=(--set "$a"); done
       run "set_$(tr '=,' '__' <<< "$assignments")" "${sets[@]}") ;;
    prune:?*) (epochs=$(preset_epochs); run_prune "${s#prune:}") ;;
    dropout:[0-9]*)
      (epochs=$(preset_epochs); run "dropout_${s#dropout:}" --set squad_dropout="${s#dropout:}") ;;
    *) echo "sweep_squad.sh: unknown sweep '$s' (words, words:VOCABULARY,EMBEDDING[,ROWS]," \
         "epochs:N, lr:RATE, dropout:P, set:FIELD=VALUE,..., prune:METHOD=S1/S2,...)" >&2
       exit 1 ;;
  esac
done
