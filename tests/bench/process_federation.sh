#!/usr/bin/env bash
# A federation of N real client daemons against one server on this machine
# (issue 14): the kit (CA, certificates, a config with N client ids) from
# deploy/provision.sh, the opt epgfn_server and N epgfn_client processes over
# mutual TLS on 127.0.0.1, hypergrid 8x8 with client i holding the factor
# client:index=i,count=N; then 10,000 samples from the global model and its
# TV to the exact product of the N rewards (tests/demo:evaluate).
#
#   nice -n 10 bazel run -c opt //tests/bench:process_federation -- \
#     [--clients=100] [--out=/tmp/epgfn_process_federation] \
#     [--local_iterations=300] [--aggregation_iterations=300] \
#     [--samples=10000] [--threads=1] [--timeout_seconds=3600]
#
# Prints, per process, the peak RSS (VmHWM), the peak PSS (smaps_rollup,
# shared library pages split between the processes that map them) and the
# most threads, sampled from /proc about once a second (min/median/max
# over the clients, the server, and the largest sum over all of them in one
# sample, with the least MemAvailable seen and how far apart the samples
# were: a loaded machine spaces them out); the time of each phase from
# the processes' own log timestamps; the uploads in the published version
# and the TV. The clients run 5 nice levels below the server and the
# monitor. Exits 1 with the log's tail when a process fails, or when the
# global model is not on every client within --timeout_seconds.
set -euo pipefail

num_clients=100
out="/tmp/epgfn_process_federation"
local_iterations=300
aggregation_iterations=300
num_samples=10000
threads=1
timeout_s=3600
for arg in "$@"; do
  case "${arg}" in
    --clients=*) num_clients="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --local_iterations=*) local_iterations="${arg#*=}" ;;
    --aggregation_iterations=*) aggregation_iterations="${arg#*=}" ;;
    --samples=*) num_samples="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    --timeout_seconds=*) timeout_s="${arg#*=}" ;;
    *) echo "process_federation: unknown argument ${arg} (see the header)" >&2
       exit 2 ;;
  esac
done
[[ "${num_clients}" =~ ^[1-9][0-9]*$ ]] ||
  { echo "process_federation: --clients must be a positive integer" >&2; exit 2; }

# Absolute: the server runs in a folder of its own.
runfiles="$(cd "${RUNFILES_DIR:-$0.runfiles}/epgfn" && pwd)"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
sample_bin="${runfiles}/client/epgfn_sample"
evaluate_bin="${runfiles}/tests/demo/evaluate"
provision="${runfiles}/deploy/provision.sh"
template="${runfiles}/deploy/configs/hypergrid_demo.textproto"
for f in "${server_bin}" "${client_bin}" "${sample_bin}" "${evaluate_bin}" \
  "${provision}" "${template}" "${runfiles}/deploy/federation_lib.sh" \
  "${runfiles}/tests/e2e/e2e_lib.sh" "${runfiles}/tests/bench/proc_stats.awk"; do
  [[ -e "${f}" ]] || { echo "process_federation: missing ${f}" >&2; exit 1; }
done
# shellcheck source=deploy/federation_lib.sh
source "${runfiles}/deploy/federation_lib.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"  # e2e_wait_for_listening
proc_stats="${runfiles}/tests/bench/proc_stats.awk"

rm -rf "${out}"
mkdir -p "${out}/logs"
out="$(cd "${out}" && pwd)"
logs="${out}/logs"
kit="${out}/kit"
clients=()
for ((i = 0; i < num_clients; i++)); do clients+=("client-${i}"); done

# The demo's federation with this run's budgets: the first `iterations:` is
# local training's, the second the aggregation's.
awk -v l="${local_iterations}" -v a="${aggregation_iterations}" '
  /^ *iterations:/ { sub(/[0-9]+/, ++n == 1 ? l : a) } { print }' \
  "${template}" >"${out}/template.textproto"
bash "${provision}" --federation="procs-${num_clients}" \
  --clients="$(IFS=,; echo "${clients[*]}")" --out="${kit}" \
  --server-ip=127.0.0.1 --config="${out}/template.textproto" >/dev/null

server_pid=""
client_pids=()
monitor_pid=""
cleanup() {
  e2e_stop TERM "${client_pids[@]}" "${server_pid}" "${monitor_pid}"
}
trap cleanup EXIT
fail() {  # message, logs to show...
  local message="$1" log
  shift
  for log in "$@"; do
    echo "---- last lines of ${log}" >&2
    tail -n 20 "${log}" >&2 || true
  done
  echo "process_federation FAILED: ${message}" >&2
  exit 1
}

# Every second: MemAvailable, then VmHWM/VmRSS/Threads and Pss(_Anon) of each
# process in pids.txt ("<pid> <name>" lines, appended as they start).
monitor() {
  local pid files
  while :; do
    echo "T $(date +%s.%N) $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
    files=()
    while read -r pid _; do
      files+=("/proc/${pid}/status" "/proc/${pid}/smaps_rollup")
    done <"${out}/pids.txt"
    grep -sH -E '^(VmHWM|VmRSS|Threads|Pss|Pss_Anon):' "${files[@]}" || true
    sleep 1
  done >>"${out}/proc_samples.txt"
}
: >"${out}/pids.txt"
monitor &
monitor_pid=$!
uptime_start="$(uptime)"
clock() { date +%d:%H:%M:%S.%N; }  # as the glog timestamps below read

server="${kit}/server"
fed_start_server "${server_bin}" "${out}/server" "${logs}/server.log" \
  "${server}/federation.textproto" "${server}/server.pem" \
  "${server}/server.key" "${server}/ca.pem" "${server}/sampler_tokens.txt" \
  "${threads}"
server_pid="${FED_SERVER_PID}"
echo "${server_pid} server" >>"${out}/pids.txt"
address="$(e2e_wait_for_listening "${logs}/server.log" "${server_pid}")" ||
  fail "the server did not start" "${logs}/server.log"

client_nice=$(($(nice) + 5))
launched="$(clock)"
for id in "${clients[@]}"; do
  dir="${kit}/client-${id}"
  i="${id#client-}"
  fed_start_client "${client_bin}" "${address}" "${id}" "${dir}/ca.pem" \
    "${dir}/client.pem" "${dir}/client.key" "${out}/state/${id}" \
    "client:index=${i},count=${num_clients}" "${threads}" "${logs}/${id}.log" \
    --iterations="${local_iterations}" --wait_seconds="${timeout_s}" \
    --progress_seconds=60
  client_pids+=("${FED_CLIENT_PID}")
  echo "${FED_CLIENT_PID} ${id}" >>"${out}/pids.txt"
  # N trainers on two cores would otherwise starve the monitor (one sample
  # per 19 s, up to 86 s apart, at N = 100 on 2026-12-07) and the server.
  renice -n "${client_nice}" -p "${FED_CLIENT_PID}" >/dev/null
done
echo "started the server (pid ${server_pid}, ${address}) and ${num_clients} clients; logs in ${logs}"

# Each client exits once it has the global model that includes its upload.
deadline=$((SECONDS + timeout_s))
running=("${!clients[@]}")
while ((${#running[@]} > 0)); do
  still=()
  for i in "${running[@]}"; do
    if kill -0 "${client_pids[$i]}" 2>/dev/null; then
      still+=("${i}")
    elif ! wait "${client_pids[$i]}"; then
      fail "${clients[$i]} exited with an error" "${logs}/${clients[$i]}.log" \
        "${logs}/server.log"
    fi
  done
  running=("${still[@]+"${still[@]}"}")
  kill -0 "${server_pid}" 2>/dev/null ||
    fail "the server exited" "${logs}/server.log"
  ((SECONDS < deadline)) || fail "${#running[@]} client(s) still without \
the global model after ${timeout_s} s" "${logs}/server.log"
  sleep 1
done
all_done="$(clock)"
client_pids=()

sampler="${kit}/sampler-user"
sample_start=${EPOCHREALTIME}
"${sample_bin}" --server="${address}" --tls_ca="${sampler}/ca.pem" \
  --tls_cert="${sampler}/sampler.pem" --tls_key="${sampler}/sampler.key" \
  --sampler_token_file="${sampler}/sampler_token" \
  --num_samples="${num_samples}" --seed=1 --output="${out}/samples.tsv" \
  >"${logs}/sample.log" 2>&1 ||
  fail "the sampler failed" "${logs}/sample.log" "${logs}/server.log"
sample_s=$(awk -v a="${sample_start}" -v b="${EPOCHREALTIME}" \
  'BEGIN { printf "%.1f", b - a }')
sleep 1.5  # one more sample of the server after sampling
e2e_stop TERM "${server_pid}" "${monitor_pid}"
server_pid=""
monitor_pid=""

global_model="$(fed_global_model "${logs}/client-0.log")"
[[ -f "${global_model}" ]] || fail "client-0 reported no global model file" \
  "${logs}/client-0.log"
"${evaluate_bin}" --config="${server}/federation.textproto" \
  --num_clients="${num_clients}" --model="${global_model}" \
  --samples="${out}/samples.tsv" --threads="${threads}" \
  >"${logs}/evaluate.log" 2>&1 ||
  fail "the evaluation failed" "${logs}/evaluate.log"

# Phases, from the glog timestamps (I<yyyy>mmdd hh:mm:ss.us) of the logs.
events() {  # event name, logs... -> "<dd:hh:mm:ss.us>" per matching line
  grep -h " event=$1 " "${@:2}" |
    awk '{ print substr($1, length($1) - 1, 2) ":" $2 }'
}
seconds() {  # dd:hh:mm:ss.frac lines -> seconds
  awk -F: '{ printf "%.3f\n", (($1 * 24 + $2) * 60 + $3) * 60 + $4 }'
}
first_of() { seconds | sort -g | head -n 1; }
last_of() { seconds | sort -g | tail -n 1; }
client_logs=()
for id in "${clients[@]}"; do client_logs+=("${logs}/${id}.log"); done
t0=$(echo "${launched}" | seconds)
at() {  # seconds -> since the launch
  awk -v a="${t0}" -v b="$1" 'BEGIN { printf "%.1f", b - a }'
}
connected=$(events spec_received "${client_logs[@]}" | last_of)
first_upload=$(events upload_accepted "${logs}/server.log" | first_of)
last_upload=$(events upload_accepted "${logs}/server.log" | last_of)
agg_start=$(events aggregation_started "${logs}/server.log" | first_of)
agg_stop=$(events aggregation_stopped "${logs}/server.log" | first_of)
published=$(events version_published "${logs}/server.log" | first_of)
downloaded=$(events downloaded "${client_logs[@]}" | last_of)
done_s=$(echo "${all_done}" | seconds)
included=$(grep -h -m 1 " event=version_published " "${logs}/server.log" |
  tr ' ' '\n' | awk -F= '$1 == "clients" { print split($2, c, ",") }')
tv=$(fed_field "${logs}/evaluate.log" tv_learned)
tv_samples=$(fed_field "${logs}/evaluate.log" tv_empirical)

echo
echo "process federation: ${num_clients} clients, hypergrid 8x8, local" \
  "${local_iterations} and aggregation ${aggregation_iterations} iterations" \
  "(batch 64, MLP 2x128), ${threads} LibTorch thread(s) per process"
echo "start: ${uptime_start}"
echo "end:   $(uptime)"
echo
awk -f "${proc_stats}" "${out}/pids.txt" "${out}/proc_samples.txt"
echo
echo "| phase (seconds after the clients were launched) | from | to | s |"
echo "|---|---|---|---|"
row() { printf '| %s | %s | %s | %s |\n' "$1" "$(at "$2")" "$(at "$3")" \
  "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", b - a }')"; }
row "start-up: launch -> last client has the spec" "${t0}" "${connected}"
row "local training: launch -> first upload accepted" "${t0}" "${first_upload}"
row "uploads: first -> last accepted" "${first_upload}" "${last_upload}"
row "last upload -> aggregation started" "${last_upload}" "${agg_start}"
row "aggregation (training)" "${agg_start}" "${agg_stop}"
row "publish (FCS, version written)" "${agg_stop}" "${published}"
row "delivery: published -> last client has the model" "${published}" "${downloaded}"
row "exit: -> every client process gone (1 s polls)" "${downloaded}" "${done_s}"
echo "| sampling (${num_samples} objects, epgfn_sample) | | | ${sample_s} |"
echo
echo "uploads in the published version: ${included:-0} of ${num_clients}"
echo "TV(global model, exact product of the ${num_clients} rewards) = ${tv}"
echo "TV(${num_samples} samples, exact product) = ${tv_samples}"
echo "work folder: ${out} (logs in ${logs})"
((${included:-0} == num_clients)) ||
  fail "the published version includes ${included:-0} of ${num_clients} uploads"
