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
  zlib1g-dev
  # Prometheus metrics (--metrics_listen): prometheus-cpp's core registry and
  # its pull Exposer (the -dev package pulls in both runtime libraries).
  prometheus-cpp-dev
  libprometheus-cpp-core1.0
  libprometheus-cpp-pull1.0
  # Every figure (demo, evaluator, experiments) is drawn by gnuplot's
  # pngcairo terminal from TSV files; a font for its labels.
  gnuplot-nox
  fonts-dejavu-core
  # The figure tests decode every PNG with libpng.
  libpng-dev
  openssl
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  # LibTorch is linked against the generic libblas.so.3; without OpenBLAS that
  # resolves to the reference BLAS, which is 15-30x slower.
  libopenblas0-openmp
  # deploy/ tests: the Kubernetes render test parses YAML; the multi-host
  # test uses ip netns; the systemd test runs systemd-analyze verify.
  python3-yaml
  iproute2
  systemd
  # The Python sampler client (client/python) and its test, with the system
  # /usr/bin/python3.
  python3-grpcio
  python3-protobuf
  # Summarize's marginal tables come back as numpy arrays when it is there.
  # `pip install ./client/python` into a venv, offline (its install test),
  # and SampleResult.to_numpy().
  python3-venv
  python3-pip
  python3-setuptools
  python3-wheel
  python3-numpy
  # The libFuzzer targets (tests/fuzz) build with clang + its sanitizer
  # runtimes.
  clang
  libclang-rt-14-dev
  # The standard phylogenetics benchmark alignments DS1-DS11 (gzipped BEAST
  # XML under /usr/share/doc/beast2-mcmc/examples/benchmark), read as
  # shipped by common/env/phylo (its DS1 test and the DS1 benchmark).
  beast2-mcmc-examples
  # tests/bench:kernel_comparison times the JC69 pruning kernels against the
  # field's likelihood libraries: BEAGLE 3.1 (MrBayes, BEAST) and libpll
  # (RAxML-NG's kernel).
  libhmsbeagle-dev
  libpll-dev
  # GNU time: peak RSS per process in tests/bench/sachs_federation.sh.
  time
  # common/eval/phylo (dnapars_test) and tests/bench:tree_reference: PHYLIP's
  # dnapars as an external parsimony search.
  phylip
)
# kubectl with kustomize built in renders deploy/k8s offline. Any kubectl
# will do; Debian's package would conflict with one already installed.
if ! command -v kubectl >/dev/null; then
  PACKAGES+=(kubernetes-client)
fi

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
