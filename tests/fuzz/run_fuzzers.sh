#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan (--config=fuzz, in a
# Bazel output base of their own so the gcc build stays untouched) and runs
# each for a bounded time on a copy of its seed corpus. Prints one line per
# target in Bazel's summary form ("//tests/fuzz:NAME PASSED|FAILED ...") and
# exits non-zero when a target fails to build, crashes, leaks, times out or
# trips a sanitizer; crash inputs are kept in a temporary folder it names.
#
#   bash tests/fuzz/run_fuzzers.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-30}"
targets=(model_upload_fuzzer config_fuzzer)
output_base="${EPGFN_FUZZ_OUTPUT_BASE:-${HOME}/.cache/bazel_epgfn_fuzz/$(pwd | sha256sum | cut -c1-16)}"
bazel_fuzz=(bazel --output_base="${output_base}")

labels=()
for target in "${targets[@]}"; do labels+=("//tests/fuzz:${target}"); done
build_start=${SECONDS}
if ! "${bazel_fuzz[@]}" build --config=fuzz "${labels[@]}"; then
  for label in "${labels[@]}"; do echo "${label} FAILED TO BUILD"; done
  "${bazel_fuzz[@]}" shutdown || true
  exit 1
fi
echo "fuzz targets built in $((SECONDS - build_start)) s"
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)"
# Frees the second Bazel server's memory for the runs.
"${bazel_fuzz[@]}" shutdown || true

work="$(mktemp -d "${TMPDIR:-/tmp}/epgfn_fuzz.XXXXXX")"
status=0
for target in "${targets[@]}"; do
  name="${target%_fuzzer}"
  mkdir -p "${work}/${name}/corpus" "${work}/${name}/artifacts"
  cp tests/fuzz/corpus/"${name}"/* "${work}/${name}/corpus/"
  flags=(
    -max_total_time="${seconds}"
    # A single input slower than this is reported as a hang.
    -timeout=20
    -rss_limit_mb=4096
    -print_final_stats=1
    -artifact_prefix="${work}/${name}/artifacts/"
  )
  if [[ -f "tests/fuzz/${name}.dict" ]]; then
    flags+=(-dict="tests/fuzz/${name}.dict")
  fi
  rc=0
  start=${SECONDS}
  # The first corpus folder receives the new inputs; the repository's stays
  # as it is.
  "${bin}/tests/fuzz/${target}" "${flags[@]}" "${work}/${name}/corpus" \
    >"${work}/${name}/log" 2>&1 || rc=$?
  took=$((SECONDS - start))
  done_line="$(grep -E '^#[0-9]+\s+DONE' "${work}/${name}/log" | tail -1 || true)"
  execs="$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "${work}/${name}/log" | grep -oE '[0-9]+$' || true)"
  rate="$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "${work}/${name}/log" | grep -oE '[0-9]+$' || true)"
  if ((rc == 0)); then
    echo "//tests/fuzz:${target} PASSED in ${took}s (${execs:-?} runs, ${rate:-?}/s; ${done_line})"
  else
    status=1
    tail -n 60 "${work}/${name}/log"
    echo "//tests/fuzz:${target} FAILED in ${took}s (exit ${rc}); log and crash inputs in ${work}/${name}:"
    ls -l "${work}/${name}/artifacts"
  fi
done
if ((status == 0)); then rm -rf "${work}"; fi
exit "${status}"
