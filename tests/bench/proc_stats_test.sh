#!/usr/bin/env bash
# proc_stats.awk on two seconds of made-up /proc samples: per-client peaks
# (the largest VmHWM seen, not the last), min/median/max over the clients,
# the server apart, sums within one second only, and a process not in
# pids.txt ignored.
set -euo pipefail

stats="${TEST_SRCDIR}/epgfn/tests/bench/proc_stats.awk"
work="${TEST_TMPDIR}/proc_stats"
mkdir -p "${work}"
printf '10 server\n11 client-0\n12 client-1\n13 client-2\n' >"${work}/pids.txt"
# Tabs as /proc writes them. Second 1: server and client-0; second 2:
# client-0's RSS has dropped (its VmHWM grew), clients 1 and 2 are up, and
# pid 99 is someone else's.
sed 's/|/\t/' >"${work}/samples.txt" <<'EOF'
T 1.0 2048000
/proc/10/status:VmHWM:|  102400 kB
/proc/10/status:VmRSS:|  102400 kB
/proc/10/status:Threads:|7
/proc/10/smaps_rollup:Pss:|   51200 kB
/proc/10/smaps_rollup:Pss_Anon:|   10240 kB
/proc/11/status:VmHWM:|  204800 kB
/proc/11/status:VmRSS:|  204800 kB
/proc/11/status:Threads:|3
/proc/11/smaps_rollup:Pss:|  102400 kB
/proc/11/smaps_rollup:Pss_Anon:|   20480 kB
T 2.0 1024000
/proc/11/status:VmHWM:|  307200 kB
/proc/11/status:VmRSS:|   10240 kB
/proc/11/status:Threads:|5
/proc/12/status:VmHWM:|  409600 kB
/proc/12/status:VmRSS:|  409600 kB
/proc/12/status:Threads:|4
/proc/12/smaps_rollup:Pss:|  204800 kB
/proc/13/status:VmHWM:|  512000 kB
/proc/13/status:VmRSS:|  512000 kB
/proc/13/status:Threads:|6
/proc/13/smaps_rollup:Pss:|  307200 kB
/proc/99/status:VmHWM:|  999999 kB
/proc/99/status:VmRSS:|  999999 kB
T 4.5 1536000
EOF
actual="$(awk -f "${stats}" "${work}/pids.txt" "${work}/samples.txt")"
# RSS sum: second 1 100 + 200 = 300 MiB, second 2 10 + 400 + 500 = 910.
expected="| per process (3 clients) | client min / median / max | server | all, largest sum in one sample |
|---|---|---|---|
| peak RSS MiB (VmHWM; sum: VmRSS) | 300 / 400 / 500 | 100 | 910 |
| peak PSS MiB | 100 / 200 / 300 | 50 | 500 |
| peak anonymous PSS MiB (heap, not libraries) | 20 / 20 / 20 | 10 | 30 |
| threads (most) | 4 / 5 / 6 | 7 | 15 |
least MemAvailable during the run: 1000 MiB
samples: 3, 1.8 s apart on average, at most 2.5 s"
if [[ "${actual}" != "${expected}" ]]; then
  echo "FAIL: proc_stats.awk printed" >&2
  echo "${actual}" >&2
  echo "expected" >&2
  echo "${expected}" >&2
  exit 1
fi
echo PASS
