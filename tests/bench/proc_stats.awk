# The memory and threads table of tests/bench/process_federation.sh:
#
#   awk -f proc_stats.awk pids.txt proc_samples.txt
#
# pids.txt: "<pid> <name>" lines; the name "server" is the server, every
# other name a client. proc_samples.txt: per second a line "T <epoch>
# <MemAvailable kB>", then `grep -H` lines "/proc/<pid>/<file>:<Key>: <n>
# [kB]" for the keys VmHWM, VmRSS, Threads (status), Pss, Pss_Anon
# (smaps_rollup). Per process it keeps the largest value of each key (VmHWM
# is the kernel's own peak); over the processes, the largest sums of VmRSS,
# Pss, Pss_Anon and Threads in one sample, and how far apart the samples
# were (a starved monitor misses peaks of PSS, never of VmHWM). Tested by
# proc_stats_test.sh.

function flush(    key) {
  for (key in sum) if (!(key in most) || sum[key] > most[key]) most[key] = sum[key]
  delete sum
}
function mib(kb) { return sprintf("%.0f", kb / 1024) }
# "min / median / max" of the first n entries of v (sorted here).
function spread(v, n, scale,    i, j, x, median) {
  for (i = 2; i <= n; i++) {
    x = v[i]
    for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
    v[j + 1] = x
  }
  median = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  return sprintf("%s / %s / %s", scale ? mib(v[1]) : v[1],
                 scale ? mib(median) : median, scale ? mib(v[n]) : v[n])
}
function row(label, key, scale,    n, pid, v) {
  n = 0
  for (pid in name) if (name[pid] != "server" && (pid, key) in peak) v[++n] = peak[pid, key]
  client_cell = n ? spread(v, n, scale) : "n/a"
  server_cell = (server, key) in peak ? (scale ? mib(peak[server, key]) : peak[server, key]) : "n/a"
  printf "| %s | %s | %s | %s |\n", label, client_cell, server_cell,
         key in most ? (scale ? mib(most[key]) : most[key]) : "n/a"
}

FNR == NR { name[$1] = $2; if ($2 == "server") server = $1; next }
$1 == "T" {
  flush()
  if (least == "" || $3 < least) least = $3
  if (samples++ && $2 - last > widest) widest = $2 - last
  if (samples == 1) first = $2
  last = $2
  next
}
{
  split($0, part, ":")
  split(part[1], path, "/")
  pid = path[3]
  key = part[2]
  value = part[3] + 0
  if (!(pid in name)) next
  if (!((pid, key) in peak) || value > peak[pid, key]) peak[pid, key] = value
  if (key != "VmHWM") sum[key] += value
}
END {
  flush()
  clients = 0
  for (pid in name) if (name[pid] != "server") clients++
  printf "| per process (%d clients) | client min / median / max | server | all, largest sum in one sample |\n", clients
  print "|---|---|---|---|"
  if ("VmRSS" in most) most["VmHWM"] = most["VmRSS"]
  row("peak RSS MiB (VmHWM; sum: VmRSS)", "VmHWM", 1)
  row("peak PSS MiB", "Pss", 1)
  row("peak anonymous PSS MiB (heap, not libraries)", "Pss_Anon", 1)
  row("threads (most)", "Threads", 0)
  if (least != "") printf "least MemAvailable during the run: %s MiB\n", mib(least)
  if (samples > 1) {
    printf "samples: %d, %.1f s apart on average, at most %.1f s\n", samples,
           (last - first) / (samples - 1), widest
  }
}
