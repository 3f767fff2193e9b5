#!/usr/bin/env bash
# epgfn_client --check_config with the real binaries: offline against a
# --spec_file (good setup, bad reward, bad data file, not a member, bad TLS
# files), then online against a real epgfn_server, which must see no upload.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
client_bin="${runfiles}/client/epgfn_client"
server_bin="${runfiles}/server/epgfn_server"
gen_certs="${runfiles}/deploy/gen_certs.sh"
configs="${runfiles}/deploy/configs"
work="${TEST_TMPDIR:?}/check_config"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
fail() { e2e_fail "$@"; }
server_pid=""
trap 'e2e_stop TERM "${server_pid}"' EXIT

bash "${gen_certs}" "${work}/certs" client-0 >/dev/null
certs="${work}/certs"
tls=(--tls_ca="${certs}/ca.pem" --tls_cert="${certs}/client-0.pem"
  --tls_key="${certs}/client-0.key")

# check <expected exit> <text expected in the output> <flags...>
check() {
  local want="$1" text="$2" code=0
  shift 2
  "${client_bin}" --check_config --client_id=client-0 \
    --state_dir="${work}/state" "$@" >"${work}/out.log" 2>&1 || code=$?
  [[ "${code}" == "${want}" ]] ||
    fail "exit ${code}, expected ${want} for $*: $(cat "${work}/out.log")"
  grep -qF -- "${text}" "${work}/out.log" ||
    fail "'${text}' not in the output for $*: $(cat "${work}/out.log")"
}

# Offline, a good setup: what would run, and nothing written.
check 0 "configuration OK" "${tls[@]}" \
  --spec_file="${configs}/hypergrid_demo.textproto" \
  --reward=client:index=0,count=4
grep -q "^federation '.*', spec digest [0-9a-f]\{64\}$" "${work}/out.log" ||
  fail "no spec digest: $(cat "${work}/out.log")"
grep -q "^reward: .*finite on all 64 objects" "${work}/out.log" ||
  fail "the reward was not scored: $(cat "${work}/out.log")"
grep -q "key .*client-0.key matches" "${work}/out.log" ||
  fail "the TLS files were not checked"
[[ ! -e "${work}/state" ]] || fail "--check_config created the state dir"

# A BGe reward reading a data file that is not there names the file.
check 1 "${work}/no-such.csv" "${tls[@]}" \
  --spec_file="${configs}/dag_demo.textproto" \
  --reward="bge:data=${work}/no-such.csv"
check 1 "unknown" "${tls[@]}" \
  --spec_file="${configs}/hypergrid_demo.textproto" --reward=nonsense:x=1
check 1 "not a member" "${tls[@]}" --client_id=client-9 \
  --spec_file="${configs}/hypergrid_demo.textproto" --reward=client
printf 'name: "x"\nbogus_field: 1\n' >"${work}/bad.textproto"
check 1 "bad.textproto" "${tls[@]}" --spec_file="${work}/bad.textproto" \
  --reward=client
check 1 "does not match" --tls_ca="${certs}/ca.pem" \
  --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/server.key" \
  --spec_file="${configs}/hypergrid_demo.textproto" --reward=client

# Online: the spec comes from a real server.
"${server_bin}" --listen=127.0.0.1:0 --state_dir="${work}/server" \
  --config="${configs}/hypergrid_demo.textproto" --insecure \
  --sampler_auth=open --threads=1 >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"
check 0 "spec: fetched from ${address}" --insecure --server="${address}" \
  --reward=client:index=1,count=4
grep -q "configuration OK" "${work}/out.log" || fail "online check not OK"
! grep -q "event=upload_accepted" "${work}/server.log" ||
  fail "--check_config uploaded something"
echo PASS
