#!/usr/bin/env bash
# Fault injection over real processes and mutual TLS. A server and three
# clients on a 4x4 hypergrid; the server is
#   1. SIGKILLed in the upload phase (right after its first accepted upload),
#   2. SIGTERMed during aggregation (must checkpoint and exit 0),
#   3. SIGKILLed during the resumed aggregation,
#   4. SIGKILLed after publishing,
# and restarted each time on the same state directory and port. Checks that
# every accepted upload and every published version survives byte for byte,
# that each interrupted aggregation resumes from its checkpoint (server log),
# that the clients reconnect and finish with a version aggregating all three,
# and that the published version is still served after the last restart.
# Phases are detected from the server's log lines, never from sleeps alone.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
sample_bin="${runfiles}/client/epgfn_sample"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config="${runfiles}/tests/e2e/crash_recovery.textproto"
work="${TEST_TMPDIR:?}/crash"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
state="${work}/server"
clients=(client-0 client-1 client-2)

fail() { e2e_fail "$@"; }

e2e_stop_federation_on_exit KILL

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"

# Waits (up to $2 seconds) until the extended regex $1 matches a line of the
# log $3 while the server is alive.
wait_for_log() {
  local pattern="$1" seconds="$2" log="$3"
  local tries=$((seconds * 20))
  for _ in $(seq 1 "${tries}"); do
    grep -Eq "${pattern}" "${log}" && return 0
    kill -0 "${server_pid}" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# The highest N of "aggregation checkpoint written: iteration N/" in log $1.
last_checkpoint() {
  sed -nE 's/.*aggregation checkpoint written: iteration ([0-9]+)\/.*/\1/p' \
    "$1" | tail -n 1
}

listen="127.0.0.1:0"
start_server() {
  local log="$1"
  "${server_bin}" --listen="${listen}" --state_dir="${state}" \
    --config="${config}" --tls_cert="${certs}/server.pem" \
    --tls_key="${certs}/server.key" --tls_client_ca="${certs}/ca.pem" \
    --threads=1 --sampler_auth=mtls --aggregation_checkpoint_every=100 \
    --aggregation_checkpoint_seconds=0 >"${log}" 2>&1 &
  server_pid=$!
  local address
  address=$(e2e_wait_for_listening "${log}" "${server_pid}") ||
    fail "the server did not start (${log})"
  # Every restart listens on the port the first start picked, so that the
  # clients reconnect to the address they were given.
  listen="${address}"
}

kill_server() {
  kill -9 "${server_pid}"
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}

# sha256sum lines of every upload/version file (no *.tmp leftovers).
snapshot() {
  (cd "${state}" && find uploads global -type f ! -name '*.tmp' 2>/dev/null |
    sort | xargs -r sha256sum)
}

# Every file of snapshot $1 is still there with the same bytes.
check_survived() {
  local before="$1" what="$2"
  [[ -s "${before}" ]] || fail "nothing to compare for ${what}"
  (cd "${state}" && sha256sum --quiet -c "${before}") ||
    fail "${what}: accepted uploads or published versions changed or vanished"
}

start_server "${work}/server-1.log"
address="${listen}"

# Client 0 trains briefly; the others train longer, so that the first kill
# lands while they are still training or uploading.
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  iterations=$((i == 0 ? 30 : 300))
  "${client_bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/${id}.pem" \
    --tls_key="${certs}/${id}.key" --state_dir="${work}/${id}" \
    --reward="client:index=${i},count=${#clients[@]}" --threads=1 \
    --iterations="${iterations}" --diagnostics_trajectories=128 \
    --rpc_attempts=12 --wait_seconds=240 >"${work}/${id}.log" 2>&1 &
  client_pids+=($!)
done

# 1. SIGKILL in the upload phase.
wait_for_log "event=upload_accepted" 120 "${work}/server-1.log" ||
  fail "no upload reached the first server"
kill_server
accepted=$(grep -c "event=upload_accepted" "${work}/server-1.log")
echo "phase 1: server SIGKILLed after ${accepted} accepted upload(s)"
snapshot >"${work}/uploads-1.sha256"
# An upload is complete once its record (.meta, written after the model) is
# on disk; the kill may land after that but before the log line.
stored=$(grep -c 'uploads/.*\.meta$' "${work}/uploads-1.sha256" || true)
((stored >= accepted)) ||
  fail "${accepted} uploads were accepted but only ${stored} are on disk"

start_server "${work}/server-2.log"
check_survived "${work}/uploads-1.sha256" "restart after the upload-phase kill"
[[ $(grep -c "recovered upload of" "${work}/server-2.log") -eq "${stored}" ]] ||
  fail "the restarted server did not recover every stored upload"

# 2. SIGTERM during aggregation: a checkpoint, then exit 0.
wait_for_log "aggregation checkpoint written: iteration (2|3|4|5|6|7|8|9)[0-9]{2}/" \
  180 "${work}/server-2.log" || fail "the aggregation did not get going"
grep -q "aggregation resumed" "${work}/server-2.log" &&
  fail "a fresh aggregation claims to have resumed"
kill -TERM "${server_pid}"
status=0
wait "${server_pid}" || status=$?
server_pid=""
[[ "${status}" -eq 0 ]] || fail "SIGTERM during aggregation: exit status ${status}"
grep -q "(shutdown)" "${work}/server-2.log" ||
  fail "SIGTERM did not checkpoint the aggregation"
terminated_at=$(last_checkpoint "${work}/server-2.log")
echo "phase 2: SIGTERM checkpointed the aggregation at iteration ${terminated_at}"
[[ -f "${state}/aggregation/checkpoint.pb" ]] || fail "no checkpoint on disk"
snapshot >"${work}/uploads-2.sha256"

start_server "${work}/server-3.log"
check_survived "${work}/uploads-2.sha256" "restart after SIGTERM"
wait_for_log "aggregation resumed from checkpoint at iteration ${terminated_at}/" \
  60 "${work}/server-3.log" ||
  fail "the aggregation did not resume from iteration ${terminated_at}"

# 3. SIGKILL during the resumed aggregation, once it has checkpointed again.
wait_for_log "aggregation checkpoint written: iteration ([0-9]+)/.*interval" \
  120 "${work}/server-3.log" || fail "the resumed aggregation wrote no checkpoint"
kill_server
killed_at=$(last_checkpoint "${work}/server-3.log")
grep -q "event=version_published" "${work}/server-3.log" &&
  fail "the aggregation finished before the kill; make it longer"
echo "phase 3: server SIGKILLed after the checkpoint at iteration ${killed_at}"
((killed_at > terminated_at)) || fail "no progress between the interruptions"

start_server "${work}/server-4.log"
check_survived "${work}/uploads-2.sha256" "restart after the aggregation kill"
wait_for_log "aggregation resumed from checkpoint at iteration [0-9]+/" 60 \
  "${work}/server-4.log" || fail "the aggregation did not resume after SIGKILL"
resumed_at=$(sed -nE 's/.*resumed from checkpoint at iteration ([0-9]+)\/.*/\1/p' \
  "${work}/server-4.log" | head -n 1)
# A checkpoint may complete between reading the log and the kill landing.
((resumed_at >= killed_at)) ||
  fail "resumed at ${resumed_at}, before the last checkpoint ${killed_at}"
echo "phase 4: resumed at iteration ${resumed_at}"
wait_for_log "event=version_published .*version=1 clients=client-0,client-1,client-2 " \
  180 "${work}/server-4.log" || fail "no version with all clients was published"

# The clients reconnected and carry on: each exits 0 with the global model.
for i in "${!clients[@]}"; do
  e2e_expect_client_done "${clients[$i]}" "${client_pids[$i]}" global_v1.model
done
client_pids=()
[[ ! -e "${state}/aggregation/checkpoint.pb" ]] ||
  fail "the checkpoint outlived the publication"
for id in "${clients[@]}"; do
  grep -q "client_ids: \"${id}\"" "${state}/global/v1.meta" ||
    fail "v1's record does not list ${id}"
done

# 4. SIGKILL after publication: the version survives and is still served.
snapshot >"${work}/published.sha256"
kill_server
start_server "${work}/server-5.log"
check_survived "${work}/published.sha256" "restart after publication"
grep -q "recovered 1 global versions; latest v1" "${work}/server-5.log" ||
  fail "the published version was not recovered"
"${sample_bin}" --server="${listen}" --tls_ca="${certs}/ca.pem" \
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key" \
  --num_samples=50 --model_version=1 --seed=3 \
  --output="${work}/samples.tsv" >"${work}/sample.log" 2>&1 ||
  fail "sampling the recovered version failed"
[[ $(wc -l <"${work}/samples.tsv") -eq 50 ]] || fail "wrong number of samples"
grep -q "event=aggregation_started" "${work}/server-5.log" &&
  fail "the restarted server aggregated again although v1 covers every upload"
kill -TERM "${server_pid}"
wait "${server_pid}" || fail "the last server did not exit 0 on SIGTERM"
server_pid=""
echo "PASS"
