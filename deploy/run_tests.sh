#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every test with Bazel, then runs each fuzz target for a bounded time
# (EPGFN_FUZZ_SECONDS, default 30). Exits non-zero if any of them fails.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=${SECONDS}
# One line per phase with its wall-clock, so that a CI log shows where the
# time budget (40 minutes on 2 cores) goes.
phase_done() {
  echo "run_tests: $1 took $((SECONDS - phase_start)) s (total ${SECONDS} s)"
  phase_start=${SECONDS}
}

bash deploy/setup.sh
phase_done setup

log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
status=0
# --build_tests_only: the benchmark binaries and tools that no test depends on
# are not compiled here; `bazel build //...` builds them, and each
# benchmark's command is in BENCHMARKS.md.
bazel test --build_tests_only //... 2>&1 | tee "${log}" || status=$?
phase_done "bazel test --build_tests_only //..."

# Each libFuzzer target for a bounded time (clang build in its own output
# base; see tests/fuzz/README.md). Its summary lines count below.
fuzz_status=0
bash tests/fuzz/run_fuzzers.sh "${EPGFN_FUZZ_SECONDS:-30}" 2>&1 | tee -a "${log}" ||
  fuzz_status=$?
phase_done fuzzing
if ((status == 0)); then status=${fuzz_status}; fi

# clang's thread-safety analysis of the annotated code (about a minute:
# clang -fsyntax-only over a dozen sources), and a TSan subset when
# EPGFN_TSAN_TESTS names one, bounded in time; see TESTING.md.
# EPGFN_THREAD_CHECKS=0 skips it.
thread_status=0
if [[ "${EPGFN_THREAD_CHECKS:-1}" == 1 ]]; then
  timeout "${EPGFN_THREAD_CHECK_SECONDS:-420}" \
    bash tests/tsan/run_thread_checks.sh "${EPGFN_THREAD_CHECK_SECONDS:-420}" \
    2>&1 | tee -a "${log}" || thread_status=$?
  phase_done "thread checks"
fi
if ((status == 0)); then status=${thread_status}; fi

# One closing line in the plain "N passed, N failed" form, from Bazel's own
# per-target summary.
passed=$(grep -cE '^//.* (PASSED|\(cached\) PASSED)' "${log}" || true)
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "${log}" || true)
echo "${passed} passed, ${failed} failed"
exit "${status}"
