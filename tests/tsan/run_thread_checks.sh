#!/usr/bin/env bash
# The thread checks of CI (issue #15), in a Bazel output base of their own
# (clang; the gcc build stays untouched):
#   1. clang's -Wthread-safety -Werror=thread-safety over every library whose
#      sources carry the Abseil annotations (ABSL_GUARDED_BY, ...), under
#      server/, client/ and common/ (--config=thread_safety);
#   2. the TSan subset below under --config=tsan, as long as the time budget
#      allows (each test's own timeout still holds).
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

# 1. The annotated libraries: the cc_library rules that list a file using
# the annotations. Building a library compiles its own sources only.
mapfile -t annotated < <(grep -rlE \
  'ABSL_(PT_)?GUARDED_BY|ABSL_(EXCLUSIVE|SHARED)_LOCKS_REQUIRED|ABSL_LOCKS_EXCLUDED|ABSL_LOCKABLE|ABSL_SCOPED_LOCKABLE' \
  server client common --include='*.h' --include='*.cc' | sort)
labels=()
for file in "${annotated[@]}"; do
  labels+=("//$(dirname "${file}"):$(basename "${file}")")
done
query="kind(cc_library, rdeps(//server/... + //client/... + //common/..., set(${labels[*]}), 1))"
mapfile -t libraries < <("${bazel_clang[@]}" query "${query}" 2>/dev/null)
status=0
if "${bazel_clang[@]}" build --config=thread_safety "${libraries[@]}"; then
  echo "//tests/tsan:thread_safety_analysis PASSED in $((SECONDS - start))s (${#libraries[@]} annotated libraries: ${libraries[*]})"
else
  echo "//tests/tsan:thread_safety_analysis FAILED (clang -Wthread-safety)"
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
fi
# Frees the second Bazel server's memory.
"${bazel_clang[@]}" shutdown >/dev/null 2>&1 || true
exit "${status}"
