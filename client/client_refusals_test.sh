#!/usr/bin/env bash
# epgfn_client refusals before any training, against a real epgfn_server
# over mutual TLS (issue #15):
#   - a certificate of another member (--client_id=client-0 with client-1's
#     certificate) and a CA-signed certificate of no member are refused at
#     GetSpec (PERMISSION_DENIED), and the client exits non-zero untrained;
#   - a server certificate from another CA and a server name the certificate
#     does not list fail at once, naming the cause, instead of six retries;
#   - a second client on a state directory in use is refused, naming the PID
#     of the first.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
client_bin="${runfiles}/client/epgfn_client"
server_bin="${runfiles}/server/epgfn_server"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config="${runfiles}/deploy/configs/hypergrid_demo.textproto"
work="${TEST_TMPDIR:?}/client_refusals"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"

server_pid=""
waiting_pid=""
cleanup() {
  e2e_stop KILL "${waiting_pid}"
  e2e_stop TERM "${server_pid}"
}
trap cleanup EXIT
fail() { e2e_fail "$@"; }

bash "${gen_certs}" "${work}/certs" client-0 client-1 sampler-alice >/dev/null
bash "${gen_certs}" "${work}/other" client-0 >/dev/null
certs="${work}/certs"

"${server_bin}" --listen=127.0.0.1:0 --config="${config}" --threads=1 \
  --state_dir="${work}/server" --sampler_auth=mtls \
  --tls_cert="${certs}/server.pem" --tls_key="${certs}/server.key" \
  --tls_client_ca="${certs}/ca.pem" >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"

# Runs the client (name, then flags after the common ones); it must exit
# non-zero within LIMIT seconds with WANT in its output, untrained.
expect_refused() {  # name, limit seconds, want, flags...
  local name="$1" limit="$2" want="$3" code=0 start=${SECONDS}
  shift 3
  timeout 60 "${client_bin}" --server="${address}" --threads=1 \
    --reward=client:index=0,count=4 --state_dir="${work}/${name}" \
    "$@" >"${work}/${name}.log" 2>&1 || code=$?
  local took=$((SECONDS - start))
  ((code != 0)) || fail "${name}: the client exited 0"
  ((code != 124)) || fail "${name}: the client did not exit within 60 s"
  ((took <= limit)) || fail "${name}: took ${took} s, more than ${limit} s"
  grep -qF -- "${want}" "${work}/${name}.log" ||
    fail "${name}: '${want}' not in its output (${work}/${name}.log)"
  ! grep -q "event=training_progress\|event=local_model_trained" \
    "${work}/${name}.log" || fail "${name}: the client trained"
  echo "ok: ${name} (exit ${code} after ${took} s)"
}

mtls_as() {  # certificate name
  echo "--tls_ca=${certs}/ca.pem --tls_cert=${certs}/$1.pem --tls_key=${certs}/$1.key"
}

# shellcheck disable=SC2046
expect_refused other-members-cert 20 \
  "the client certificate names 'client-1' but the call is made as client 'client-0'" \
  --client_id=client-0 $(mtls_as client-1)
grep -q "PERMISSION_DENIED" "${work}/other-members-cert.log" ||
  fail "other-members-cert: not PERMISSION_DENIED"
# shellcheck disable=SC2046
expect_refused non-member 20 \
  "the client certificate names 'sampler-alice', which is not a member" \
  --client_id=sampler-alice $(mtls_as sampler-alice)
# shellcheck disable=SC2046
expect_refused wrong-ca 20 "not signed by the CA of --tls_ca" \
  --client_id=client-0 --tls_ca="${work}/other/ca.pem" \
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key"
# shellcheck disable=SC2046
expect_refused wrong-name 20 "does not name the host" \
  --client_id=client-0 $(mtls_as client-0) \
  --tls_server_name=not-the-server.example
! grep -q "after 6 attempts" "${work}/wrong-ca.log" "${work}/wrong-name.log" ||
  fail "a permanent TLS failure was retried"

# A client that waits for a server nobody runs holds its state directory;
# a second one there is refused with the first one's PID.
"${client_bin}" --server=127.0.0.1:1 --insecure --client_id=client-0 \
  --reward=client:index=0,count=4 --state_dir="${work}/shared" \
  --rpc_attempts=100 --connect_timeout_seconds=1 >"${work}/waiting.log" 2>&1 &
waiting_pid=$!
for _ in $(seq 1 200); do
  [[ -s "${work}/shared/LOCK" ]] && break
  sleep 0.05
done
[[ "$(tr -d '\n' <"${work}/shared/LOCK")" == "${waiting_pid}" ]] ||
  fail "the first client did not lock its state directory"
code=0
"${client_bin}" --server=127.0.0.1:1 --insecure --client_id=client-0 \
  --reward=client:index=0,count=4 --state_dir="${work}/shared" \
  --rpc_attempts=1 >"${work}/second.log" 2>&1 || code=$?
((code != 0)) || fail "the second client on one state directory exited 0"
grep -qF "is in use by another process (pid ${waiting_pid}," \
  "${work}/second.log" || fail "the refusal does not name pid ${waiting_pid}"
echo "ok: second client on a state directory in use"

echo "PASS"
