#!/usr/bin/env bash
# epgfn_health_probe against a real epgfn_server: SERVING over mutual TLS
# (with a client's certificate and with the server's own, as in the server's
# container), refusals without a certificate, with another CA and with the
# wrong server name, an unknown service, a port nobody listens on, a
# plaintext server, and bad flags. Exit codes: 0 serving, 1 not serving,
# 2 unreachable, 3 bad flags.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
probe="${runfiles}/client/epgfn_health_probe"
server_bin="${runfiles}/server/epgfn_server"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config="${runfiles}/deploy/configs/hypergrid_demo.textproto"
work="${TEST_TMPDIR:?}/health_probe"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"

server_pid=""
cleanup() {
  e2e_stop TERM "${server_pid}"
}
trap cleanup EXIT
fail() { e2e_fail "$@"; }

start_server() {  # log name, flags...
  local log="${work}/$1.log"
  shift
  "${server_bin}" --listen=127.0.0.1:0 --config="${config}" --threads=1 \
    "$@" >"${log}" 2>&1 &
  server_pid=$!
  address=$(e2e_wait_for_listening "${log}" "${server_pid}") ||
    fail "the server did not start"
}
stop_server() {
  kill "${server_pid}"
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}
expect() {  # expected exit code, expected stdout word, probe flags...
  local want="$1" word="$2" got=0
  shift 2
  "${probe}" --timeout_seconds=5 "$@" >"${work}/probe.out" \
    2>"${work}/probe.err" || got=$?
  [[ "${got}" == "${want}" ]] ||
    fail "probe $* exited ${got}, want ${want}: $(cat "${work}/probe.out" "${work}/probe.err")"
  if [[ -n "${word}" ]]; then
    grep -q "${word}" "${work}/probe.out" ||
      fail "probe $* printed '$(cat "${work}/probe.out")', want ${word}"
  fi
}

bash "${gen_certs}" "${work}/certs" client-0 >/dev/null
bash "${gen_certs}" "${work}/other" client-0 >/dev/null
certs="${work}/certs"

start_server mtls --state_dir="${work}/state-mtls" --sampler_auth=mtls \
  --tls_cert="${certs}/server.pem" --tls_key="${certs}/server.key" \
  --tls_client_ca="${certs}/ca.pem"
mtls="--tls_ca=${certs}/ca.pem --tls_cert=${certs}/client-0.pem --tls_key=${certs}/client-0.key"
# shellcheck disable=SC2086
expect 0 "^SERVING ${address}" --server="${address}" ${mtls}
# The server's own certificate as the client's, checked under a name, as the
# probe in the server's container uses it.
expect 0 SERVING --server="${address}" --tls_server_name=localhost \
  --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/server.pem" \
  --tls_key="${certs}/server.key"
# shellcheck disable=SC2086
expect 1 SERVICE_UNKNOWN --server="${address}" ${mtls} --service=no.such.Service
# No client certificate: the handshake fails.
expect 2 UNREACHABLE --server="${address}" --tls_ca="${certs}/ca.pem" \
  --timeout_seconds=2
# A server certificate from another CA is not trusted.
expect 2 UNREACHABLE --server="${address}" --tls_ca="${work}/other/ca.pem" \
  --tls_cert="${work}/other/client-0.pem" \
  --tls_key="${work}/other/client-0.key" --timeout_seconds=2
# The certificate does not name the host the probe was told to check.
# shellcheck disable=SC2086
expect 2 UNREACHABLE --server="${address}" ${mtls} \
  --tls_server_name=not-the-server.example --timeout_seconds=2
stop_server
# Nobody listens any more.
# shellcheck disable=SC2086
expect 2 UNREACHABLE --server="${address}" ${mtls} --timeout_seconds=1

start_server plain --state_dir="${work}/state-plain" --insecure --sampler_auth=open
expect 0 SERVING --server="${address}" --insecure
stop_server

# Bad flags are told apart from an unhealthy server.
expect 3 "" --server=127.0.0.1:1 --insecure --tls_ca="${certs}/ca.pem"
expect 3 "" --server=127.0.0.1:1 --tls_ca="${work}/missing.pem"
expect 3 "" --server=127.0.0.1:1 --insecure --timeout_seconds=0

echo "PASS"
