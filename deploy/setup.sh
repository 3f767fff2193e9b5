#!/usr/bin/env bash
# Installs every Debian package epgfn needs to build, test and run.
# Idempotent: prints nothing and returns quickly when everything is present.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap
  g++
  pkg-config
  libgrpc++-dev
  protobuf-compiler-grpc
  libprotobuf-dev
  protobuf-compiler
  libtorch-dev
  libabsl-dev
  libssl-dev
  # The demo writes PNG heatmaps with its own encoder over zlib.
  zlib1g-dev
  openssl
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  # LibTorch is linked against the generic libblas.so.3; without OpenBLAS that
  # resolves to the reference BLAS, which is 15-30x slower.
  libopenblas0-openmp
  # The libFuzzer targets (tests/fuzz) build with clang + its sanitizer
  # runtimes.
  clang
  libclang-rt-14-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "ok installed"; then
    missing+=("${pkg}")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "epgfn setup: installing ${#missing[@]} missing Debian package(s): ${missing[*]}" >&2
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO} apt-get update -qq
${SUDO} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "epgfn setup: done" >&2
