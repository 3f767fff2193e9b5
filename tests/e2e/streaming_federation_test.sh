#!/usr/bin/env bash
# Streaming updates over real processes and mutual TLS: a server and two
# clients on a 4x4 hypergrid publish v1; client-0 is then restarted twice with
# new data (--update_reward), each time training a streaming update of its
# last round and uploading it as the next round. The server must publish v2
# and v3 that include client-0's rounds 2 and 3 (and client-1's round 1,
# reused), as GetStatus (epgfn_admin versions --json) and ListModels report,
# and serve samples from each of v1, v2 and v3.
# Then the server is restarted from a backup of its state dir taken at v1
# (it holds client-0's round 1 while client-0 is at round 3): client-0's next
# update (round 4, base 3) must be refused with FAILED_PRECONDITION and
# change nothing on the server; --rollback_to_round=1 then re-uploads round
# 1's model as round 5, which the server accepts and publishes in its v2.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
sample_bin="${runfiles}/client/epgfn_sample"
admin_bin="${runfiles}/client/epgfn_admin"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config="${runfiles}/tests/e2e/streaming_small.textproto"
work="${TEST_TMPDIR:?}/streaming"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
clients=(client-0 client-1)

fail() { e2e_fail "$@"; }

e2e_stop_federation_on_exit KILL

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"
e2e_write_sampler_token "${work}" e2e-sampler >/dev/null
e2e_write_admin_token "${work}" e2e-operator >/dev/null

# start_server <state dir> <log>: sets server_pid and address.
start_server() {
  "${server_bin}" --listen=127.0.0.1:0 --state_dir="$1" \
    --config="${config}" --tls_cert="${certs}/server.pem" \
    --tls_key="${certs}/server.key" --tls_client_ca="${certs}/ca.pem" \
    --sampler_auth=token --sampler_tokens_file="${work}/sampler_tokens.txt" \
    --admin_tokens_file="${work}/admin_tokens.txt" \
    --threads=1 >"$2" 2>&1 &
  server_pid=$!
  address=$(e2e_wait_for_listening "$2" "${server_pid}") ||
    fail "the server on $1 did not start"
}
start_server "${work}/server" "${work}/server.log"

# run_client <index> <log name> [extra flags...]: one run of the daemon.
run_client() {
  local i="$1" log="$2"
  shift 2
  local id="${clients[$i]}"
  "${client_bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/${id}.pem" \
    --tls_key="${certs}/${id}.key" --state_dir="${work}/${id}" \
    --reward="client:index=${i},count=2" --threads=1 \
    --diagnostics_trajectories=128 --wait_seconds=300 \
    --progress_seconds=0 "$@" >"${work}/${log}.log" 2>&1
}

# v1: both clients' first rounds.
for i in "${!clients[@]}"; do
  run_client "${i}" "${clients[$i]}" &
  client_pids+=($!)
done
for i in "${!clients[@]}"; do
  wait "${client_pids[$i]}" || fail "${clients[$i]} exited with status $?"
done
client_pids=()
grep -q "^SUMMARY client=client-0 round=1 .* version=1 " "${work}/client-0.log" ||
  fail "client-0 did not finish round 1 with v1"
# The backup an operator might restore later (the server is idle: v1 is
# published and both clients have downloaded it).
cp -a "${work}/server" "${work}/server-backup-v1"

# Two streaming updates of client-0, each a restart with new data.
update_1="client:index=1,count=2"
update_2="client:index=0,count=2"
run_client 0 update-1 --update_reward="${update_1}" ||
  fail "the first update failed"
grep -q "^SUMMARY client=client-0 round=2 reused=0 .* version=2 " \
  "${work}/update-1.log" || fail "update 1 did not end with round 2 in v2"
grep -q "event=uploaded .*round=2 base_round=1 " "${work}/update-1.log" ||
  fail "update 1 was not uploaded as round 2 based on round 1"
run_client 0 update-2 --update_reward="${update_2}" ||
  fail "the second update failed"
grep -q "^SUMMARY client=client-0 round=3 reused=0 .* version=3 " \
  "${work}/update-2.log" || fail "update 2 did not end with round 3 in v3"

# Restarted again with the same update: reused, not re-uploaded.
run_client 0 update-2-again --update_reward="${update_2}" ||
  fail "the repeated update failed"
grep -q "^SUMMARY client=client-0 round=3 reused=1 .* version=3 " \
  "${work}/update-2-again.log" || fail "the repeated update was not reused"
grep -q "event=upload_skipped" "${work}/update-2-again.log" ||
  fail "the repeated update was uploaded again"

# Every round is kept on client-0's disk, and its record lists its data.
for round in 1 2 3; do
  [[ -f "${work}/client-0/local_round_${round}.model" &&
    -f "${work}/client-0/local_round_${round}.record" ]] ||
    fail "client-0 does not keep round ${round}"
done
# (Configs are kept in canonical form: keys sorted.)
grep -q 'data: "client:count=2,index=0"' "${work}/client-0/local_round_3.record" ||
  fail "round 3's record does not list its new data"

# The operator's view: which round of each client each version includes.
admin=("${admin_bin}" --server="${address}" --tls_ca="${certs}/ca.pem"
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key"
  --admin_token_file="${work}/admin_token.txt")
"${admin[@]}" versions --json >"${work}/admin_versions.json" ||
  fail "epgfn_admin versions --json failed"
/usr/bin/python3 - "${work}/admin_versions.json" <<'PY' ||
import json, sys
status = json.load(open(sys.argv[1]))
versions = sorted(status["published_versions"], key=lambda v: int(v["version"]))
rounds = [dict(zip(v["client_ids"], map(int, v["client_rounds"])))
          for v in versions]
expected = [{"client-0": 1, "client-1": 1}, {"client-0": 2, "client-1": 1},
            {"client-0": 3, "client-1": 1}]
assert [int(v["version"]) for v in versions] == [1, 2, 3], versions
assert rounds == expected, rounds
PY
  fail "the versions do not include the right rounds: $(cat "${work}/admin_versions.json")"
# Each later aggregation was warm-started from the version before it.
grep -Eq "event=aggregation_started .*warm_start_version=2" "${work}/server.log" ||
  fail "v3 was not warm-started from v2"

# The sampler serves every version; the newest is the default.
sample=("${sample_bin}" --server="${address}" --tls_ca="${certs}/ca.pem"
  --tls_cert="${certs}/client-1.pem" --tls_key="${certs}/client-1.key"
  --sampler_token_file="${work}/sampler_token.txt" --num_samples=20 --seed=4)
for version in 1 2 3 0; do
  "${sample[@]}" --model_version="${version}" \
    --output="${work}/samples_v${version}.tsv" \
    >"${work}/sample_v${version}.log" 2>&1 ||
    fail "sampling version ${version} failed"
  [[ $(wc -l <"${work}/samples_v${version}.tsv") -eq 20 ]] ||
    fail "version ${version}: wrong number of samples"
  ((version == 0)) || grep -q "model version ${version}:" \
    "${work}/sample_v${version}.log" || fail "version ${version} not served"
done
grep -q "model version 3:" "${work}/sample_v0.log" ||
  fail "the default version is not v3: $(cat "${work}/sample_v0.log")"

kill -TERM "${server_pid}"
wait "${server_pid}" || fail "the server did not exit 0 on SIGTERM"
server_pid=""

# The server restored from the v1 backup: it holds client-0's round 1 only.
rm -f "${work}/server-backup-v1/LOCK"
start_server "${work}/server-backup-v1" "${work}/server-restored.log"
admin[1]="--server=${address}"

# check_restored <json file> <versions> <client-0 round> <refusals>: the
# restored server's status: its versions, the round it holds for client-0
# and how many uploads it refused for a wrong base round.
check_restored() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
path, versions, round_0, refusals = sys.argv[1:]
status = json.load(open(path))
held = sorted(int(v["version"]) for v in status["published_versions"])
assert held == [int(v) for v in versions.split(",")], held
accepted = {c["client_id"]: int(c.get("accepted_round", 0))
            for c in status["clients"]}
assert accepted["client-0"] == int(round_0), accepted
refused = int(status.get("refused_uploads", {}).get("base_round_mismatch", 0))
assert refused == int(refusals), status.get("refused_uploads")
PY
}
"${admin[@]}" status --json >"${work}/restored_before.json" ||
  fail "epgfn_admin status on the restored server failed"
check_restored "${work}/restored_before.json" 1 1 0 ||
  fail "the restored server is not at v1: $(cat "${work}/restored_before.json")"

# (a) An update of round 3, which this server never accepted: refused.
if run_client 0 update-wrong-base --update_reward="client:index=1,count=2"; then
  fail "an update of round 3 was accepted by a server holding round 1"
fi
grep -q "FAILED_PRECONDITION: .*streaming update of round 3 but the client's accepted round is 1" \
  "${work}/update-wrong-base.log" ||
  fail "the client did not report the base mismatch: $(tail -3 "${work}/update-wrong-base.log")"
grep -q "event=upload_refused .*client=client-0 round=4 base_round=3 code=FAILED_PRECONDITION" \
  "${work}/server-restored.log" || fail "the server did not log the refusal"
"${admin[@]}" status --json >"${work}/restored_after.json" ||
  fail "epgfn_admin status after the refusal failed"
check_restored "${work}/restored_after.json" 1 1 1 ||
  fail "the refused update changed the server: $(cat "${work}/restored_after.json")"

# (b) Back to round 1's model: a new round 5 (not an update), accepted and
# published in v2.
run_client 0 rollback --rollback_to_round=1 || fail "the rollback failed"
grep -q "^SUMMARY client=client-0 round=5 .* version=2 " \
  "${work}/rollback.log" || fail "the rollback did not end with round 5 in v2"
grep -q "event=uploaded .*round=5 base_round=0 " "${work}/rollback.log" ||
  fail "the rollback was not uploaded as round 5, base 0"
grep -q "rolled_back_to_round: 1" "${work}/client-0/local_round_5.record" ||
  fail "round 5's record does not say it is round 1's model"
"${admin[@]}" versions --json >"${work}/restored_versions.json" ||
  fail "epgfn_admin versions on the restored server failed"
/usr/bin/python3 - "${work}/restored_versions.json" <<'PY' ||
import json, sys
status = json.load(open(sys.argv[1]))
versions = sorted(status["published_versions"], key=lambda v: int(v["version"]))
rounds = [dict(zip(v["client_ids"], map(int, v["client_rounds"])))
          for v in versions]
assert [int(v["version"]) for v in versions] == [1, 2], versions
assert rounds == [{"client-0": 1, "client-1": 1},
                  {"client-0": 5, "client-1": 1}], rounds
PY
  fail "v2 does not include the rollback: $(cat "${work}/restored_versions.json")"

kill -TERM "${server_pid}"
wait "${server_pid}" || fail "the restored server did not exit 0 on SIGTERM"
server_pid=""
e2e_save_logs
echo "PASS"
