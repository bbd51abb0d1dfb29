#!/usr/bin/env bash
# Installs everything rnnprune's build, tests and main job need on Debian 12 (apt, as root),
# and clang 14 with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev) plus
# llvm-symbolizer (llvm) for tools/fuzz.sh, clang-format for tools/format.sh, and Debian's
# PyTorch (python3-torch, run by /usr/bin/python3) for the tests that load exported models in
# PyTorch (tools/rnnprune_torch.py), and Google Benchmark's compare.py (libbenchmark-tools, with
# python3-scipy) for the test that it reads our speed runs.
# Idempotent: packages already present are skipped; BLAS alternatives are (re)pointed at the
# OpenMP build of OpenBLAS so that OpenBLAS and LibTorch share libgomp's thread pool.
# Recipe and rationale: ../shared/TOOLCHAIN.md.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-cc bazel-rules-java bazel-platforms bazel-skylib
  libtorch-dev libgloo-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas0-openmp libopenblas-openmp-dev libopenblas-dev nlohmann-json3-dev zlib1g-dev libzip-dev libssl-dev gnuplot-nox libeigen3-dev libdnnl-dev libicu-dev
  git ca-certificates python3-torch libbenchmark-tools python3-scipy
  clang libclang-rt-14-dev llvm clang-format
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap.sh: must run as root (apt-get) or have sudo" >&2; exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap.sh: installing ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# libopenblas-dev pulls in the pthread OpenBLAS, which wins the libblas.so.3 alternative; LibTorch
# uses libgomp, so point the alternatives at the OpenMP build (one thread pool, no oversubscription).
arch_dir=/usr/lib/x86_64-linux-gnu
for alt in libblas.so.3 liblapack.so.3 libopenblas.so.0 libblas.so liblapack.so libopenblas.so; do
  target="$arch_dir/openblas-openmp/$alt"
  if [ -e "$target" ] && update-alternatives --query "$alt-x86_64-linux-gnu" >/dev/null 2>&1; then
    current=$(update-alternatives --query "$alt-x86_64-linux-gnu" | awk '/^Value:/ {print $2}')
    if [ "$current" != "$target" ]; then
      $SUDO update-alternatives --set "$alt-x86_64-linux-gnu" "$target" >/dev/null
    fi
  fi
done
echo "bootstrap.sh: ok" >&2
