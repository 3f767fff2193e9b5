#!/usr/bin/env bash
# The soak run of issue 15: mixed load over the real binaries and mutual TLS
# for --duration seconds. A server on loopback with an 8-client 4x4
# hypergrid federation (soak_hypergrid.textproto); each client daemon runs
# round after round (round 1 from its reward, then a streaming update with
# --update_reward, its likelihood scale alternating between 1 and 2 so that
# each run's data differ from the round before and make a new round);
# --samplers concurrent Sample calls (sampler_soak) the whole time; the
# server SIGKILLed every --kill_period seconds and restarted on the same
# state dir and port; its RSS sampled every 5 s.
#
# At the end it checks that
#   1. every round the server acknowledged (a client's `event=uploaded`, or
#      `event=upload_skipped` when GetSpec said the server held it) is held:
#      GetStatus's accepted_round >= the last acknowledged round;
#   2. the published versions are 1..N without a gap or a repeat, every
#      version a client or sampler ever saw is among them with the digest the
#      client downloaded, no version was published twice by different
#      processes, and epgfn_sample serves each of them;
#   3. no unexpected error: a sampler error is expected only when it is
#      UNAVAILABLE inside a down window (from the SIGKILL to the restarted
#      server's "listening" line plus --grace seconds: gRPC's default
#      reconnect backoff, 1 s x 1.6^n, lets a long-lived channel see the new
#      server 15-25 s after it listens); a failed client run is expected
#      only when a down window overlaps it; the server never exits unless
#      killed by this script;
#   4. each server process's RSS at its end is within 20% of its RSS after
#      its first published version, and so is the last process's end RSS
#      against the first process's.
# prints a summary table and exits 1 if a check fails.
#
#   bash tests/soak/soak.sh [--duration=3600] [--kill_period=600]
#     [--clients=8] [--samplers=64] [--out=/tmp/soak/run]
#     [--client_pause=10] [--grace=45] [--bin_dir=<repo>/bazel-bin]
set -euo pipefail

duration=3600
kill_period=600
num_clients=8
samplers=64
out=/tmp/soak/run
client_pause=10
grace=45
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="${repo}/bazel-bin"
for arg in "$@"; do
  case "${arg}" in
    --duration=*) duration="${arg#*=}" ;;
    --kill_period=*) kill_period="${arg#*=}" ;;
    --clients=*) num_clients="${arg#*=}" ;;
    --samplers=*) samplers="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --client_pause=*) client_pause="${arg#*=}" ;;
    --grace=*) grace="${arg#*=}" ;;
    --bin_dir=*) bin_dir="${arg#*=}" ;;
    *)
      echo "unknown argument ${arg}; see the header of $0" >&2
      exit 2
      ;;
  esac
done
((num_clients >= 1 && num_clients <= 8)) ||
  { echo "--clients must be 1..8 (the config lists 8)" >&2; exit 2; }

# shellcheck source=tests/e2e/e2e_lib.sh
source "${repo}/tests/e2e/e2e_lib.sh"
e2e_init_work "${out}"
mkdir -p "${out}/logs" "${out}/bin"
# Copies, so that a rebuild in the worktree during the hour changes nothing.
for b in server/epgfn_server client/epgfn_client client/epgfn_sample \
  client/epgfn_admin tests/soak/sampler_soak; do
  cp -L "${bin_dir}/${b}" "${out}/bin/" ||
    { echo "missing ${bin_dir}/${b}: build it first (tests/soak/BUILD)" >&2; exit 2; }
done
server_bin="${out}/bin/epgfn_server"
client_bin="${out}/bin/epgfn_client"
sample_bin="${out}/bin/epgfn_sample"
admin_bin="${out}/bin/epgfn_admin"
load_bin="${out}/bin/sampler_soak"
config="${out}/federation.textproto"
# The config lists 8 clients; a smaller run keeps the first --clients.
awk -v n="${num_clients}" \
  '/^client_ids:/ { if (++seen > n) next } { print }' \
  "${repo}/tests/soak/soak_hypergrid.textproto" >"${config}"

clients=()
for ((i = 0; i < num_clients; i++)); do clients+=("client-${i}"); done
now_ms() { date +%s%3N; }
# Driver events, one per line: "<unix_ms> <kind> <detail>".
event() { echo "$(now_ms) $*" >>"${out}/events.log"; }
fail() { e2e_fail "$@"; }

server_pid=""
loop_pids=()
rss_pid=""
load_pid=""
cleanup() {
  touch "${out}/stop"
  e2e_stop TERM "${load_pid}"
  e2e_stop KILL "${loop_pids[@]}" "${rss_pid}"
  e2e_stop TERM "${server_pid}"
}
trap cleanup EXIT

bash "${repo}/deploy/gen_certs.sh" "${out}/certs" "${clients[@]}" >/dev/null
certs="${out}/certs"
e2e_write_sampler_token "${out}" soak-sampler >/dev/null
e2e_write_admin_token "${out}" soak-operator >/dev/null

listen="127.0.0.1:0"
incarnation=0
# Starts server process number incarnation+1 on the state dir; every restart
# listens on the port the first start picked.
start_server() {
  incarnation=$((incarnation + 1))
  local log="${out}/logs/server.${incarnation}.log"
  "${server_bin}" --listen="${listen}" --state_dir="${out}/server" \
    --config="${config}" --tls_cert="${certs}/server.pem" \
    --tls_key="${certs}/server.key" --tls_client_ca="${certs}/ca.pem" \
    --sampler_auth=token --sampler_tokens_file="${out}/sampler_tokens.txt" \
    --admin_tokens_file="${out}/admin_tokens.txt" \
    --aggregation_settle_seconds=5 --progress_seconds=0 \
    --threads=1 >"${log}" 2>&1 &
  server_pid=$!
  # Read by the RSS sampler: written whole, then renamed.
  echo "${incarnation} ${server_pid} ${log}" >"${out}/server.now.tmp"
  mv "${out}/server.now.tmp" "${out}/server.now"
  event started "incarnation=${incarnation} pid=${server_pid}"
  local address=""
  for _ in $(seq 1 1800); do
    address=$(awk '/^listening on /{ print $3; exit }' "${log}")
    [[ -n "${address}" ]] && break
    kill -0 "${server_pid}" 2>/dev/null || fail "server ${incarnation} exited at start"
    sleep 0.1
  done
  [[ -n "${address}" ]] || fail "server ${incarnation} did not listen in 180 s"
  listen="${address}"
  event listening "incarnation=${incarnation} address=${address}"
}

# RSS of the current server every 5 s: unix_s,incarnation,pid,rss_kb and the
# versions that process has published so far (its first is the base).
rss_loop() {
  echo "unix_s,incarnation,pid,rss_kb,published,rss_anon_kb,rss_file_kb" \
    >"${out}/rss.csv"
  while [[ ! -f "${out}/stop" ]]; do
    local inc pid log rss published vm anon file
    read -r inc pid log <"${out}/server.now"
    # VmRSS, RssAnon, RssFile: the kernel may drop the clean file pages
    # (LibTorch's code) under memory pressure, so growth shows in RssAnon.
    rss=$(awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s ", $2 }' \
      "/proc/${pid}/status" 2>/dev/null || true)
    if [[ -n "${rss}" ]]; then
      read -r vm anon file <<<"${rss}"
      published=$(grep -c "version_published" "${log}" || true)
      echo "$(date +%s),${inc},${pid},${vm},${published},${anon},${file}" \
        >>"${out}/rss.csv"
    fi
    sleep 5
  done
}

# One client's rounds until ${out}/stop appears. Round 1 trains on the
# client's reward; each later round is a streaming update whose data differ
# from the round before (so it is a new round, not a reuse). A failed run is
# retried with the same flags: the daemon then reuses the trained round and
# uploads it unless the server holds it. Writes
#   acks.txt:        <unix_ms> <client> <round> uploaded|skipped
#   runs.txt:        <client> <round> <try> <start_ms> <end_ms> <rc> <version>
client_loop() {
  local i="$1" id="client-$1" round=1 try=0
  while [[ ! -f "${out}/stop" ]]; do
    local extra=() log start end rc=0 version
    if ((round > 1)); then
      extra=(--update_reward="client:count=${num_clients},index=${i},scale=$((round % 2 + 1))")
    fi
    log="${out}/logs/${id}.r${round}.t${try}.log"
    start=$(now_ms)
    timeout -s KILL 1200 "${client_bin}" --server="${listen}" \
      --client_id="${id}" --tls_ca="${certs}/ca.pem" \
      --tls_cert="${certs}/${id}.pem" --tls_key="${certs}/${id}.key" \
      --state_dir="${out}/${id}" --reward="client:index=${i},count=${num_clients}" \
      --threads=1 --diagnostics_trajectories=128 --wait_seconds=900 \
      --progress_seconds=0 "${extra[@]}" >"${log}" 2>&1 || rc=$?
    end=$(now_ms)
    if grep -q "event=uploaded " "${log}"; then
      echo "${end} ${id} $(sed -nE 's/.*event=uploaded .* round=([0-9]+) .*/\1/p' "${log}" | tail -1) uploaded" >>"${out}/acks.txt"
    fi
    if grep -q "event=upload_skipped " "${log}"; then
      echo "${end} ${id} $(sed -nE 's/.*event=upload_skipped .* round=([0-9]+) .*/\1/p' "${log}" | tail -1) skipped" >>"${out}/acks.txt"
    fi
    version=$(sed -nE "s/^SUMMARY client=${id} round=${round} .* version=([0-9]+) .*/\1/p" "${log}")
    echo "${id} ${round} ${try} ${start} ${end} ${rc} ${version:-0}" >>"${out}/runs.txt"
    if ((rc == 0)) && [[ -n "${version}" ]]; then
      round=$((round + 1))
      try=0
      sleep "${client_pause}"
    else
      try=$((try + 1))
      sleep 5
    fi
  done
}

start_server
rss_loop &
rss_pid=$!
t0=$(date +%s)
event soak_started "duration=${duration} kill_period=${kill_period} clients=${num_clients} samplers=${samplers}"
for i in "${!clients[@]}"; do
  client_loop "${i}" &
  loop_pids+=($!)
done

# Samplers from the first published version on (before it, NOT_FOUND is the
# right answer and says nothing).
until grep -q "version_published" "${out}/logs/server.1.log"; do
  kill -0 "${server_pid}" 2>/dev/null || fail "server 1 died before v1"
  (($(date +%s) - t0 < duration)) || fail "no version in the whole run"
  sleep 1
done
event first_version ""
"${load_bin}" --server="${listen}" --tls_ca="${certs}/ca.pem" \
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key" \
  --token_file="${out}/sampler_token.txt" --threads="${samplers}" \
  --duration_seconds=$((duration + 3600)) --errors_file="${out}/sampler_errors.txt" \
  --state_dim=2 --side=4 --stats_seconds=60 >"${out}/sampler.log" 2>&1 &
load_pid=$!

# The kill schedule, and a watch for a server that exits on its own.
kills=0
unexpected_exits=0
next_kill=$((t0 + kill_period))
while (($(date +%s) < t0 + duration)); do
  sleep 2
  if ! kill -0 "${server_pid}" 2>/dev/null; then
    rc=0
    wait "${server_pid}" || rc=$?
    event server_exited "incarnation=${incarnation} rc=${rc} unexpected"
    unexpected_exits=$((unexpected_exits + 1))
    event kill "incarnation=${incarnation} (exited by itself)"
    start_server
    continue
  fi
  if (($(date +%s) >= next_kill && $(date +%s) + 60 < t0 + duration)); then
    event kill "incarnation=${incarnation} pid=${server_pid}"
    kill -KILL "${server_pid}"
    wait "${server_pid}" 2>/dev/null || true
    kills=$((kills + 1))
    start_server
    next_kill=$((next_kill + kill_period))
  fi
done
event duration_over "kills=${kills}"

# Drain: each client finishes the run it is in (up to 10 minutes), then the
# samplers stop and the server's state is checked while it still runs.
touch "${out}/stop.clients"
drain_deadline=$(($(date +%s) + 600))
touch "${out}/stop"
for pid in "${loop_pids[@]}"; do
  while kill -0 "${pid}" 2>/dev/null && (($(date +%s) < drain_deadline)); do
    sleep 2
  done
done
e2e_stop KILL "${loop_pids[@]}"
loop_pids=()
event clients_drained ""
e2e_stop TERM "${load_pid}"
load_pid=""
wait "${rss_pid}" 2>/dev/null || true
rss_pid=""
event samplers_stopped ""

admin=("${admin_bin}" --server="${listen}" --tls_ca="${certs}/ca.pem"
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key"
  --admin_token_file="${out}/admin_token.txt")
"${admin[@]}" status --json >"${out}/final_status.json" ||
  fail "epgfn_admin status --json failed"
"${admin[@]}" versions --json >"${out}/final_versions.json" ||
  fail "epgfn_admin versions --json failed"
# Every published version is served by the sampler binary.
num_versions=$(/usr/bin/python3 -c 'import json,sys
print(len(json.load(open(sys.argv[1])).get("published_versions", [])))' \
  "${out}/final_versions.json")
: >"${out}/served.txt"
for ((v = 1; v <= num_versions; v++)); do
  if "${sample_bin}" --server="${listen}" --tls_ca="${certs}/ca.pem" \
    --tls_cert="${certs}/client-1.pem" --tls_key="${certs}/client-1.key" \
    --sampler_token_file="${out}/sampler_token.txt" --num_samples=4 \
    --model_version="${v}" --output="${out}/served_sample.tsv" \
    >"${out}/served_sample.log" 2>&1 &&
    grep -q "model version ${v}:" "${out}/served_sample.log"; then
    echo "${v} served" >>"${out}/served.txt"
  else
    echo "${v} NOT_SERVED $(tail -1 "${out}/served_sample.log")" >>"${out}/served.txt"
  fi
done
event checks_collected ""
e2e_stop TERM "${server_pid}"
server_pid=""

echo "kills=${kills} unexpected_exits=${unexpected_exits} incarnations=${incarnation}" \
  >"${out}/driver_totals.txt"
/usr/bin/python3 "${repo}/tests/soak/soak_report.py" --out="${out}" \
  --grace="${grace}" --clients="${num_clients}"
