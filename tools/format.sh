#!/bin/sh
# Formats C++ files in place with clang-format (.clang-format: Google style, 100 columns): the
# files given, or every tracked *.cc / *.h of the project when none is.
# --check: change nothing, list the tracked files that are not formatted, exit 1 if any.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in $(git ls-files '*.cc' '*.h'); do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then echo "$f"; bad=1; fi
  done
  exit $bad
fi
if [ $# -gt 0 ]; then
  clang-format --style=file -i "$@"
else
  clang-format --style=file -i $(git ls-files '*.cc' '*.h')
fi
