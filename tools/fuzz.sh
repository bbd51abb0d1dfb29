#!/usr/bin/env bash
# Builds every libFuzzer target (//fuzz, tag "fuzz") with --config=fuzz (clang 14, ASan, UBSan) and
# runs each for SECONDS (default 60) on its seed corpus fuzz/corpus/<target>/, one process at a
# time (-max_total_time, no -jobs/-workers). Exits non-zero on any finding: a crash, a hang
# (an input taking more than 30 s), running out of memory (4 GiB), a sanitizer report or a failed
# FUZZ_CHECK. Findings are saved under $TMPDIR/rnnprune_fuzz/findings/<target>/ (printed); rerun one
# with bazel-bin/fuzz/<target> FILE in the fuzz output base (printed too).
#   tools/fuzz.sh [SECONDS]
# Environment: FUZZ_BAZEL_FLAGS adds build flags (e.g. --jobs=1); FUZZ_OUTPUT_BASE overrides the
# output base (default ~/.cache/rnnprune-fuzz/<hash of this checkout's path>).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: tools/fuzz.sh [SECONDS >= 1]" >&2; exit 2
fi
# Clang in an output base of its own: one output base holds one C++ toolchain configuration, and
# alternating gcc and clang in it would re-run the toolchain detection and rebuild on every switch.
output_base=${FUZZ_OUTPUT_BASE:-$HOME/.cache/rnnprune-fuzz/$(pwd -P | md5sum | cut -c1-32)}
bzl() { bazel --output_base="$output_base" "$@"; }
# No bazel-* convenience links from this output base: they would replace the gcc build's, and
# `bazel test //...` would then wander into this output base's external/ folder through them.
no_links=--symlink_prefix=/

targets=$(bzl query --noshow_progress 'attr(tags, "\bfuzz\b", //fuzz:*)' 2>/dev/null) || {
  echo "fuzz.sh: bazel query for the fuzz targets failed" >&2; exit 1; }
[ -n "$targets" ] || { echo "fuzz.sh: no fuzz targets found" >&2; exit 1; }
# shellcheck disable=SC2086
bzl build --config=fuzz "$no_links" ${FUZZ_BAZEL_FLAGS:-} $targets || { echo "fuzz.sh: build failed" >&2; exit 1; }
bin=$(bzl info --config=fuzz "$no_links" bazel-bin 2>/dev/null)

work=${TMPDIR:-/tmp}/rnnprune_fuzz
mkdir -p "$work"
# Leaks count as findings, except those in tools/lsan_suppressions.txt (third-party code only, each
# entry says why).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd -P)/tools/lsan_suppressions.txt:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in $targets; do
  name=${t#//fuzz:}
  seeds=fuzz/corpus/$name
  findings=$work/findings/$name
  # New inputs go to a scratch corpus: the committed seeds stay as they are.
  scratch=$(mktemp -d "$work/corpus_$name.XXXXXX")
  mkdir -p "$findings"
  log=$work/$name.log
  dict=()
  [ -f "fuzz/$name.dict" ] && dict=("-dict=fuzz/$name.dict")
  echo "fuzz.sh: $name for ${seconds}s (log: $log)"
  "$bin/fuzz/$name" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" "$scratch" "$seeds" \
    >"$log" 2>&1
  rc=$?
  rm -rf "$scratch"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error: |.*FUZZ_CHECK failed)' "$log"; then
    failed=$((failed + 1))
    echo "fuzz.sh: $name: FAILED (exit $rc); last lines of $log:"
    tail -n 40 "$log"
    echo "fuzz.sh: findings in $findings; reproduce with $bin/fuzz/$name FILE"
  else
    echo "fuzz.sh: $name: PASSED (${execs:-?} runs in ${seconds}s)"
  fi
done
[ "$failed" -eq 0 ] || { echo "fuzz.sh: $failed fuzz target(s) failed"; exit 1; }
echo "fuzz.sh: every fuzz target ran ${seconds}s without a finding"
