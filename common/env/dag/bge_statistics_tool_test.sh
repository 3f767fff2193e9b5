#!/usr/bin/env bash
# The bge_statistics binary: the statistics of two blocks written one after
# the other (the second --given the first) equal those of all the rows at
# once, and bad input is refused with a message naming it.
set -euo pipefail
tool="$1"
csv="$2"
work="${TEST_TMPDIR:-$(mktemp -d)}"
fail() { echo "FAIL: $*" >&2; exit 1; }

head -n 31 "${csv}" >"${work}/first.csv"                       # header + 30
{ head -n 1 "${csv}"; tail -n +32 "${csv}"; } >"${work}/second.csv"  # the rest
rows=$(($(wc -l <"${csv}") - 1))

"${tool}" --data="${csv}" --out="${work}/all.stats" >/dev/null
"${tool}" --data="${work}/first.csv" --out="${work}/so_far.stats" >/dev/null
"${tool}" --data="${work}/second.csv" --given="${work}/so_far.stats" \
  --out="${work}/so_far.stats" >"${work}/merge.log"
grep -q "${rows} rows, 4 columns" "${work}/merge.log" ||
  fail "the merge did not report ${rows} rows: $(cat "${work}/merge.log")"

# Same names and rows; mean and scatter equal to 1e-12 relative.
for key in names rows; do
  [[ "$(grep "^${key} " "${work}/all.stats")" == "$(grep "^${key} " "${work}/so_far.stats")" ]] ||
    fail "line '${key}' differs"
done
for key in mean scatter; do
  paste <(grep "^${key} " "${work}/all.stats" | tr ' ' '\n' | tail -n +2) \
    <(grep "^${key} " "${work}/so_far.stats" | tr ' ' '\n' | tail -n +2) |
    awk -v key="${key}" '{ d = $1 - $2; if (d < 0) d = -d; s = ($1 < 0 ? -$1 : $1) + 1e-300;
        if (d > 1e-12 * (s > 1 ? s : 1)) { print key " differs: " $1 " vs " $2; bad = 1 } }
        END { exit bad }' || fail "merged statistics differ from all rows at once"
done

# --columns picks and orders columns; a merge with other columns is refused.
"${tool}" --data="${work}/first.csv" --columns='delta;alpha' \
  --out="${work}/two.stats" >/dev/null
grep -q "^names delta;alpha$" "${work}/two.stats" || fail "--columns not applied"
if "${tool}" --data="${work}/second.csv" --given="${work}/two.stats" \
    --out="${work}/bad.stats" 2>"${work}/mismatch.log"; then
  fail "a merge of different columns was accepted"
fi
grep -qi "column" "${work}/mismatch.log" || fail "mismatch message: $(cat "${work}/mismatch.log")"
[[ ! -e "${work}/bad.stats" ]] || fail "a refused merge wrote its output"

# A missing data file and missing flags are refused by name.
if "${tool}" --data="${work}/nope.csv" --out="${work}/x.stats" 2>"${work}/missing.log"; then
  fail "a missing data file was accepted"
fi
grep -q "nope.csv" "${work}/missing.log" || fail "missing-file message: $(cat "${work}/missing.log")"
if "${tool}" --out="${work}/x.stats" 2>"${work}/flags.log"; then
  fail "no --data was accepted"
fi
grep -q -- "--data and --out are required" "${work}/flags.log" || fail "flags message"
echo "PASS"
