#!/bin/bash
# rnnprune's C++ models against tools/rnnprune_torch.py's PyTorch modules built from the exported
# configs and state dicts (strict load): a dense and a compacted LSTM LM on real PTB tokens and a
# BiDAF on real SQuAD dev questions (tools/torch_parity_check.py states the tolerances).
# Arguments: the case writer (tools/torch_parity_case), the check script. Runs Debian's
# /usr/bin/python3 (python3-torch, installed by tools/bootstrap.sh), whatever python3 comes first
# on PATH.
set -euo pipefail
case_writer=$1
check=$2
data="${TEST_SRCDIR}/rnnprune_data"
for f in ptb/ptb.valid.txt squad/dev-v1.1.json; do
  if [[ ! -f "$data/$f" ]]; then
    echo "SKIPPED: $f is not in the test's data (../shared/data)"
    exit 0
  fi
done
out="${TEST_TMPDIR}/parity"
"$case_writer" --data_dir="$data" --out="$out"
PYTHONPATH="$(dirname "$check")" /usr/bin/python3 "$check" "$out"
