#!/usr/bin/env bash
# End to end over real processes and mutual TLS: a server, three clients on a
# 4x4 hypergrid, then the sampler. Checks that every client exits 0 with the
# global model on disk, that the sampler returns the requested number of valid
# objects, that a client without a certificate cannot connect, and that the
# sampler needs its bearer token (--sampler_auth=token).
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
sample_bin="${runfiles}/client/epgfn_sample"
admin_bin="${runfiles}/client/epgfn_admin"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config="${runfiles}/tests/e2e/hypergrid_small.textproto"
work="${TEST_TMPDIR:?}/e2e"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
clients=(client-0 client-1 client-2)

fail() { e2e_fail "$@"; }

e2e_stop_federation_on_exit TERM

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"
# The sampler's bearer token: the server reads "<caller>:<token>" lines, the
# sampler a file with just the token.
token="$(e2e_write_sampler_token "${work}" e2e-sampler)"
# The operator's admin token for GetStatus (epgfn_admin), same file forms.
e2e_write_admin_token "${work}" e2e-operator >/dev/null

# Port 0: the server binds a free port and prints "listening on <address>".
"${server_bin}" --listen=127.0.0.1:0 --state_dir="${work}/server" \
  --config="${config}" --tls_cert="${certs}/server.pem" \
  --tls_key="${certs}/server.key" --tls_client_ca="${certs}/ca.pem" \
  --sampler_auth=token --sampler_tokens_file="${work}/sampler_tokens.txt" \
  --admin_tokens_file="${work}/admin_tokens.txt" \
  --threads=1 --progress_seconds=0.001 >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"

# A client without a certificate is refused at the TLS handshake.
if "${client_bin}" --server="${address}" --client_id=client-0 \
    --tls_ca="${certs}/ca.pem" --state_dir="${work}/nocert" \
    --reward=client:index=0,count=3 --rpc_attempts=2 \
    --connect_timeout_seconds=2 >"${work}/nocert.log" 2>&1; then
  fail "a client without a certificate was let in"
fi
grep -Eq "UNAVAILABLE|UNAUTHENTICATED" "${work}/nocert.log" ||
  fail "the certificate-less client failed for another reason"
! compgen -G "${work}/nocert/global_v*.model" >/dev/null ||
  fail "the certificate-less client got a global model"

for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  "${client_bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/${id}.pem" \
    --tls_key="${certs}/${id}.key" --state_dir="${work}/${id}" \
    --reward="client:index=${i},count=${#clients[@]}" --threads=1 \
    --diagnostics_trajectories=256 --wait_seconds=600 \
    --progress_seconds=0.001 >"${work}/${id}.log" 2>&1 &
  client_pids+=($!)
done
for i in "${!clients[@]}"; do
  e2e_expect_client_done "${clients[$i]}" "${client_pids[$i]}" "global_v*.model"
done
client_pids=()
echo "all ${#clients[@]} clients finished with a global model"
# Progress lines (--progress_seconds): iteration/total, loss, ETA; the
# aggregation's also the exact TV to the local product.
number='-?[0-9.]+(e[-+][0-9]+)?'
grep -Eq "progress local training: iteration [0-9]+/100 \([0-9]+%\), loss ${number}, elapsed [0-9.]+ s, eta ([0-9.]+ s|\?)" \
  "${work}/client-0.log" || fail "client-0 printed no progress line"
grep -Eq "progress local training: iteration 100/100 \(100%\), .*eta 0.0 s" \
  "${work}/client-0.log" || fail "client-0 printed no final progress line"
grep -Eq "progress aggregation: iteration [0-9]+/150 \([0-9]+%\), loss ${number}, tv [0-9.]+, elapsed [0-9.]+ s, eta" \
  "${work}/server.log" || fail "the server printed no aggregation progress line"

# A restarted client reuses its trained model (no retraining), sees that the
# server already holds its upload, and fetches the global model again.
"${client_bin}" --server="${address}" --client_id=client-0 \
  --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/client-0.pem" \
  --tls_key="${certs}/client-0.key" --state_dir="${work}/client-0" \
  --reward="client:index=0,count=${#clients[@]}" --threads=1 \
  --wait_seconds=60 >"${work}/restart.log" 2>&1 ||
  fail "the restarted client failed"
grep -q "event=local_model_reused .*round=1" "${work}/restart.log" ||
  fail "the restarted client retrained instead of reusing its model"
grep -q "event=upload_skipped .*round=1" "${work}/restart.log" ||
  fail "the restarted client uploaded its model again"
grep -q "event=training_progress" "${work}/restart.log" &&
  fail "the restarted client reported training progress"

num_samples=300
# Without the token, and with a wrong one of the right length, the sampler
# is refused.
openssl rand -hex 32 >"${work}/wrong_token.txt"
for token_flag in "" "--sampler_token_file=${work}/wrong_token.txt"; do
  if "${sample_bin}" --server="${address}" --tls_ca="${certs}/ca.pem" \
      --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key" \
      ${token_flag} --num_samples=3 >"${work}/sample_refused.log" 2>&1; then
    fail "the sampler was served without a valid token (${token_flag:-none})"
  fi
  grep -q "UNAUTHENTICATED" "${work}/sample_refused.log" ||
    fail "the sampler without a valid token failed for another reason"
done
"${sample_bin}" --server="${address}" --tls_ca="${certs}/ca.pem" \
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key" \
  --sampler_token_file="${work}/sampler_token.txt" \
  --num_samples="${num_samples}" --seed=5 --output="${work}/samples.tsv" \
  >"${work}/sample.log" 2>&1 || fail "the sampler failed"
grep -q "sampler call refused (missing_token)" "${work}/server.log" ||
  fail "the server did not log the refused sampler call"
if grep -qF "${token}" "${work}/server.log"; then
  fail "the server logged the sampler token"
fi
lines=$(wc -l <"${work}/samples.tsv")
[[ "${lines}" -eq "${num_samples}" ]] ||
  fail "asked for ${num_samples} samples, got ${lines}"
# Every object is a point of {0..3}^2.
if awk -F'\t' '{ n = split($1, s, " "); if (n != 2) exit 1;
                 for (i = 1; i <= 2; i++) if (s[i] !~ /^[0-3]$/) exit 1 }' \
    "${work}/samples.tsv"; then
  :
else
  fail "the sampler returned objects outside the 4x4 grid"
fi
grep -q "objects" "${work}/sample.log" || fail "the sampler printed no summary"

# The operator's view (epgfn_admin) of the same server, over mutual TLS.
admin=("${admin_bin}" --server="${address}" --tls_ca="${certs}/ca.pem"
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key"
  --admin_token_file="${work}/admin_token.txt")
"${admin[@]}" status >"${work}/admin_status.txt" 2>&1 ||
  fail "epgfn_admin status failed: $(cat "${work}/admin_status.txt")"
grep -q "^federation: " "${work}/admin_status.txt" &&
  grep -q "^current version: *v1" "${work}/admin_status.txt" &&
  grep -Eq "^CLIENT +ROUND +ALPHA +BETA +LOG_Z +FCS +EXCLUDED" \
    "${work}/admin_status.txt" ||
  fail "epgfn_admin status lacks its fields: $(cat "${work}/admin_status.txt")"
for id in "${clients[@]}"; do
  grep -Eq "^${id} +1 +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +[0-9.]+ +no" \
    "${work}/admin_status.txt" || fail "epgfn_admin status lacks ${id}"
done
"${admin[@]}" versions >"${work}/admin_versions.txt" 2>&1 ||
  fail "epgfn_admin versions failed"
grep -Eq "^v1 +[0-9-]+ [0-9:]+ UTC +3 +client-0,client-1,client-2" \
  "${work}/admin_versions.txt" ||
  fail "epgfn_admin versions: $(cat "${work}/admin_versions.txt")"
"${admin[@]}" versions --json >"${work}/admin_versions.json" ||
  fail "epgfn_admin versions --json failed"
/usr/bin/python3 - "${work}/admin_versions.json" <<'PY' ||
import json, sys
status = json.load(open(sys.argv[1]))
versions = status["published_versions"]
assert [int(v["version"]) for v in versions] == [1], versions
assert sorted(versions[0]["client_ids"]) == ["client-0", "client-1", "client-2"]
assert status["aggregation"]["state"], status
PY
  fail "epgfn_admin versions --json is not the status as JSON"
# watch from version 0 reports v1 at once and stops after one.
timeout 30 "${admin[@]}" watch --after_version=0 --watch_count=1 \
  >"${work}/admin_watch.txt" 2>&1 || fail "epgfn_admin watch failed"
grep -q "^v1 " "${work}/admin_watch.txt" ||
  fail "epgfn_admin watch: $(cat "${work}/admin_watch.txt")"
if "${admin[@]}" frobnicate >/dev/null 2>&1; then
  fail "epgfn_admin accepted an unknown command"
fi

e2e_save_logs
echo "---- client-0.log"
cat "${work}/client-0.log"
echo "---- sample.log"
cat "${work}/sample.log"
echo "PASS"
