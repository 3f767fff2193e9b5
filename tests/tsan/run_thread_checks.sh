#!/usr/bin/env bash
# The thread checks of CI (issue #15):
#   1. clang's thread-safety analysis (-Wthread-safety
#      -Werror=thread-safety) over every source that uses the Abseil
#      annotations (ABSL_GUARDED_BY, ...) or includes a header that does,
#      under server/, client/ and common/. It runs clang -fsyntax-only on each
#      file (the analysis is part of semantic analysis, so no code is
#      generated and no second Bazel output base is built), with the protobuf
#      headers the gcc build generated under bazel-bin/: run it after
#      `bazel test //...` (deploy/run_tests.sh does). A canary file with an
#      unguarded read must be rejected, so that the analysis cannot be
#      switched off silently;
#   2. the TSan subset named in EPGFN_TSAN_TESTS under --config=tsan (its own
#      output base), as long as the time budget allows. None by default: see
#      TESTING.md ("Thread-safety checks").
# Prints "//...:target PASSED|FAILED ..." lines, which deploy/run_tests.sh
# counts, and exits non-zero when either step fails.
#
#   bash tests/tsan/run_thread_checks.sh [BUDGET_SECONDS]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/../.."

budget="${1:-300}"
output_base="${EPGFN_TSAN_OUTPUT_BASE:-${HOME}/.cache/bazel_epgfn_tsan/$(pwd | sha256sum | cut -c1-16)}"
bazel_clang=(bazel --output_base="${output_base}")
start=${SECONDS}
status=0

annotations='ABSL_(PT_)?GUARDED_BY|ABSL_(EXCLUSIVE|SHARED)_LOCKS_REQUIRED|ABSL_LOCKS_EXCLUDED|ABSL_LOCKABLE|ABSL_SCOPED_LOCKABLE'
clang_flags=(-std=c++17 -fsyntax-only -Wthread-safety -Werror=thread-safety
  -Wno-deprecated-declarations -I. -Ibazel-bin
  -isystem /usr/include/torch/csrc/api/include)

if [[ ! -f bazel-bin/proto/federation.pb.h ]]; then
  echo "//tests/tsan:thread_safety_analysis FAILED: bazel-bin/proto/federation.pb.h is missing; run \`bazel build //proto:all\` (or the test suite) first"
  exit 1
fi

# 1a. The canary: proves the flags and includes still turn the analysis on
# (it must fail, and for the thread-safety reason, not a missing include).
canary_output="$(clang++ "${clang_flags[@]}" tests/tsan/thread_safety_canary.cc 2>&1 || true)"
if grep -q 'Werror,-Wthread-safety' <<<"${canary_output}"; then
  echo "//tests/tsan:thread_safety_canary PASSED (clang rejects the unguarded read)"
else
  echo "${canary_output}"
  echo "//tests/tsan:thread_safety_canary FAILED: clang did not report the unguarded read; the analysis is not running"
  status=1
fi

# 1b. Every annotated source, and every source that includes an annotated
# header, so that a caller of a LOCKS_EXCLUDED / LOCKS_REQUIRED method is
# checked as well as the class itself.
mapfile -t annotated_headers < <(grep -rlE "${annotations}" server client common --include='*.h' | sort)
include_pattern="$(printf '#include "%s"|' "${annotated_headers[@]}")"
mapfile -t sources < <({
  grep -rlE "${annotations}" server client common --include='*.cc'
  # Tests that merely include an annotated header add minutes, not checks.
  grep -rlE "${include_pattern%|}" server client common --include='*.cc' |
    grep -v '_test\.cc$'
} | sort -u)
log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
if printf '%s\n' "${sources[@]}" |
    xargs -P "$(nproc)" -I{} sh -c 'clang++ "$@" {} || { echo "thread-safety analysis failed in {}"; exit 255; }' \
      clang "${clang_flags[@]}" >"${log}" 2>&1; then
  echo "//tests/tsan:thread_safety_analysis PASSED in $((SECONDS - start))s (${#sources[@]} sources: ${sources[*]})"
else
  cat "${log}"
  echo "//tests/tsan:thread_safety_analysis FAILED (clang -Wthread-safety; see above)"
  status=1
fi

# 2. TSan over the tests whose threads meet in our own code.
tsan_tests=(${EPGFN_TSAN_TESTS:-})
if ((${#tsan_tests[@]} > 0)); then
  left=$((budget - (SECONDS - start)))
  if ((left < 60)); then
    echo "//tests/tsan:tsan_subset FAILED: no time left in the ${budget}s budget for the TSan run"
    status=1
  elif ! timeout "${left}" "${bazel_clang[@]}" test --config=tsan \
      --test_output=errors "${tsan_tests[@]}"; then
    echo "//tests/tsan:tsan_subset FAILED (see the output above)"
    status=1
  else
    echo "//tests/tsan:tsan_subset PASSED in $((SECONDS - start))s total (${tsan_tests[*]})"
  fi
  # Frees the second Bazel server's memory.
  "${bazel_clang[@]}" shutdown >/dev/null 2>&1 || true
fi
exit "${status}"
