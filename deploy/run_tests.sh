#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every test with Bazel. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh

log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
status=0
bazel test //... 2>&1 | tee "${log}" || status=$?

# One closing line in the plain "N passed, N failed" form, from Bazel's own
# per-target summary.
passed=$(grep -cE '^//.* (PASSED|\(cached\) PASSED)' "${log}" || true)
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "${log}" || true)
echo "${passed} passed, ${failed} failed"
exit "${status}"
