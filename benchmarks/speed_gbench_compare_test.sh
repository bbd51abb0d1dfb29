#!/bin/bash
# Google Benchmark's own comparison tool reads the JSON the speed benchmarks keep beside their
# results (results/speed_<preset>.benchmark.json): two short runs of //benchmarks:speed, then
# compare.py (Debian's libbenchmark-tools, with python3-scipy; both installed by
# tools/bootstrap.sh) compares them benchmark by benchmark. Argument: the speed binary.
set -euo pipefail
speed=$1
compare=/usr/share/benchmark/compare.py
if [[ ! -f "$compare" ]]; then
  echo "FAILED: $compare is missing: run tools/bootstrap.sh (libbenchmark-tools)" >&2
  exit 1
fi
for run in old new; do
  "$speed" --threads=1 --min_time=0.01 --benchmark_filter='zaremba_small/blas/lstm' \
    --compacted_from="$TEST_TMPDIR/no_reports" --reports_dir="$TEST_TMPDIR/$run" >/dev/null
done
json=results/speed_default.benchmark.json
out=$(/usr/bin/python3 "$compare" benchmarks "$TEST_TMPDIR/old/$json" "$TEST_TMPDIR/new/$json")
echo "$out"
for mode in b1_seq b1_token b20; do
  if ! grep -q "speed/zaremba_small/blas/lstm/$mode/threads:1" <<< "$out"; then
    echo "FAILED: compare.py's output has no row for zaremba_small/blas/lstm/$mode" >&2
    exit 1
  fi
done
echo "OK: compare.py read both reports"
