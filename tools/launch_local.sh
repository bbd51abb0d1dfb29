#!/usr/bin/env bash
# Starts N ranks of a data-parallel command on this machine (loopback), as torchrun would:
#
#   tools/launch_local.sh [--port=P] N COMMAND [ARGS...]
#
# Each rank runs COMMAND ARGS with RANK=r, WORLD_SIZE=N, MASTER_ADDR=127.0.0.1 and
# MASTER_PORT=P (default 29500) in its environment (training/data_parallel_flags.h reads them);
# give each its thread count by the command's own flag (e.g. --threads=1). Rank 0's output goes
# to stdout/stderr as it is; rank r's lines are prefixed "[rank r] ". Waits for every rank and
# exits with the first non-zero status among them (0 when all succeed). A rank that dies makes
# the others stop on their own with an error naming it (within --dp_timeout_seconds at most);
# running the same line again resumes from the last checkpoint.
set -uo pipefail

port=29500
if [[ "${1:-}" == --port=* ]]; then
  port="${1#--port=}"
  shift
fi
if [[ $# -lt 2 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [--port=P] N COMMAND [ARGS...]  (N >= 1 ranks)" >&2
  exit 2
fi
n="$1"
shift

pids=()
for ((r = 0; r < n; r++)); do
  if ((r == 0)); then
    RANK=0 WORLD_SIZE="$n" MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" "$@" &
  else
    (RANK="$r" WORLD_SIZE="$n" MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" "$@" 2>&1 |
      sed -u "s/^/[rank $r] /") &
  fi
  pids+=($!)
done

status=0
for ((r = 0; r < n; r++)); do
  wait "${pids[$r]}"
  s=$?
  if ((s != 0)); then
    echo "launch_local.sh: rank $r exited with status $s" >&2
    ((status == 0)) && status=$s
  fi
done
exit "$status"
