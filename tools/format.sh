#!/bin/sh
# Formats every C++ file of the project in place with clang-format (.clang-format: Google style,
# 100 columns). --check: change nothing, list the files that are not formatted, exit 1 if any.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in $files; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then echo "$f"; bad=1; fi
  done
  exit $bad
fi
clang-format --style=file -i $files
