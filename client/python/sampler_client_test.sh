#!/usr/bin/env bash
# The Python sampler client against a real epgfn_server over TLS: one client
# trains briefly on a 4x4 hypergrid and uploads, the server publishes v1, then
# epgfn_sampler (with Debian's /usr/bin/python3) lists models, samples and
# checks the objects, and scrapes the server's /metrics. Sampling needs a
# bearer token (--sampler_auth=token).
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
gen_certs="${runfiles}/deploy/gen_certs.sh"
python_dir="${runfiles}/client/python"
python=/usr/bin/python3
work="${TEST_TMPDIR:?}/python_sampler"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"

fail() { e2e_fail "$@"; }

"${python}" -c "import grpc, google.protobuf" 2>/dev/null ||
  fail "${python} lacks grpc/protobuf (Debian: python3-grpcio python3-protobuf; deploy/setup.sh installs them)"

server_pid=""
cleanup() {
  e2e_stop TERM "${server_pid}"
}
trap cleanup EXIT

bash "${gen_certs}" "${work}/certs" client-0 >/dev/null
certs="${work}/certs"
cat >"${work}/federation.textproto" <<'SPEC'
name: "python-sampler-test"
environment {
  kind: "hypergrid"
  params { key: "dim" value: "2" }
  params { key: "side" value: "4" }
}
local_architecture { hidden_width: 16 hidden_layers: 1 }
global_architecture { hidden_width: 16 hidden_layers: 1 }
client_ids: "client-0"
local_training { loss: "cb" iterations: 30 batch_size: 16 seed: 1 }
aggregation { loss: "cb" iterations: 30 batch_size: 16 seed: 2 }
SPEC

e2e_write_sampler_token "${work}" python-test >/dev/null
token_file="${work}/sampler_token.txt"
auth_flags=(--sampler_auth=token --sampler_tokens_file="${work}/sampler_tokens.txt")

"${server_bin}" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --state_dir="${work}/server" --config="${work}/federation.textproto" \
  --tls_cert="${certs}/server.pem" --tls_key="${certs}/server.key" \
  --tls_client_ca="${certs}/ca.pem" --threads=1 "${auth_flags[@]}" \
  >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"
metrics=$(awk '/^metrics listening on /{ print $4; exit }' "${work}/server.log")
[[ -n "${metrics}" ]] || fail "the server announced no metrics address"

"${client_bin}" --server="${address}" --client_id=client-0 \
  --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/client-0.pem" \
  --tls_key="${certs}/client-0.key" --state_dir="${work}/client-0" \
  --reward=client:index=0,count=1 --threads=1 \
  --diagnostics_trajectories=64 --wait_seconds=300 \
  >"${work}/client-0.log" 2>&1 || fail "the federation client failed"

# The example, as a user would run it.
PYTHONPATH="${python_dir}" "${python}" -m epgfn_sampler.example \
  --server="${address}" --ca="${certs}/ca.pem" \
  --cert="${certs}/client-0.pem" --key="${certs}/client-0.key" \
  --token_file="${token_file}" \
  --num_samples=12 --seed=4 --log_probability_samples=4 \
  >"${work}/example.log" 2>&1 || fail "the example failed"
# Object lines: "x y<TAB>(x,y)<TAB>log p" on the 4x4 grid, log p < 0.
objects=$(awk -F'\t' 'NF == 3 && $1 ~ /^[0-3] [0-3]$/ &&
    $2 == "(" substr($1, 1, 1) "," substr($1, 3, 1) ")" &&
    $3 ~ /^-[0-9.e+-]+$/ { n++ } END { print n + 0 }' "${work}/example.log")
[[ "${objects}" -eq 12 ]] || fail "the example printed ${objects} objects, not 12"
grep -q "^# model version 1: 12 objects" "${work}/example.log" ||
  fail "the example printed no summary"

# Run from a copy: Python puts the script's real folder (the source tree,
# through the runfiles symlink) first on sys.path, which has no stubs.
cp "${python_dir}/sampler_client_check.py" "${work}/"
PYTHONPATH="${python_dir}" "${python}" \
  "${work}/sampler_client_check.py" "${address}" "${certs}/ca.pem" \
  "${certs}/client-0.pem" "${certs}/client-0.key" "${token_file}" \
  "${metrics}" >"${work}/check.log" 2>&1 || fail "the client checks failed"

kill -TERM "${server_pid}"
wait "${server_pid}" || fail "the server exited with status $?"
server_pid=""
# Event lines are key=value (server/README.md).
grep -q "event=version_published federation=python-sampler-test version=1 " \
  "${work}/server.log" || fail "no version_published event in the server log"

echo "---- example.log"
cat "${work}/example.log"
echo "---- check.log"
cat "${work}/check.log"
echo "PASS"
