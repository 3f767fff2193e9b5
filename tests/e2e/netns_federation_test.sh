#!/usr/bin/env bash
# Several hosts on one machine: the server and three clients each in their
# own Linux network namespace with their own address, joined by a bridge in a
# fifth namespace (veth pairs), all created here and removed on exit. Over
# mutual TLS with a server certificate whose SAN is the server's namespace
# address (no name override), every client reaches the server's health
# service; then client-2's link is cut while it trains, before its upload,
# and the federation still completes under its quorum rule (quorum 2, upload
# deadline 12 s): the published version holds exactly client-0 and client-1,
# both get it, and client-2 has no global model.
#
# Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns`): without it
# the test says so and passes without running.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
probe_bin="${runfiles}/client/epgfn_health_probe"
provision="${runfiles}/deploy/provision.sh"
config="${runfiles}/tests/e2e/netns_federation.textproto"
work="${TEST_TMPDIR:?}/netns"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"

skip() {
  echo "SKIPPED: $* (the multi-host test needs root: CAP_NET_ADMIN and" \
    "CAP_SYS_ADMIN for ip netns; run as root, unsandboxed)"
  exit 0
}
command -v ip >/dev/null || skip "the ip command (iproute2) is missing"

# Names unique to this run, so that concurrent or leftover runs never clash
# (interface names must stay within 15 characters).
tag="$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))"
prefix="epgfn${tag}"
bridge_ns="${prefix}-br"
server_ns="${prefix}-srv"
clients=(client-0 client-1 client-2)
subnet="10.231.$((16#${tag:0:2} % 200)).0"
net="${subnet%.0}"
server_ip="${net}.1"
namespaces=()
pids=()

cleanup() {
  local ns
  e2e_stop TERM "${pids[@]}"
  # Deleting a namespace deletes the veth ends inside it (and so the pairs).
  for ns in "${namespaces[@]}"; do ip netns delete "${ns}" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() { e2e_fail "$@"; }

if ! ip netns add "${bridge_ns}" 2>"${work}/netns.err"; then
  skip "ip netns add failed: $(cat "${work}/netns.err")"
fi
namespaces+=("${bridge_ns}")
ip netns exec "${bridge_ns}" true 2>"${work}/netns.err" ||
  skip "ip netns exec failed: $(cat "${work}/netns.err")"
ip -n "${bridge_ns}" link add br0 type bridge 2>"${work}/netns.err" ||
  skip "cannot create a bridge: $(cat "${work}/netns.err")"
ip -n "${bridge_ns}" link set br0 up

host() {  # namespace, address, short name (<= 4 characters)
  local ns="$1" address="$2" short="$3"
  ip netns add "${ns}"
  namespaces+=("${ns}")
  # Created in this namespace with unique names, then moved into place.
  ip link add "h${tag}${short}" type veth peer name "b${tag}${short}"
  ip link set "h${tag}${short}" netns "${ns}"
  ip link set "b${tag}${short}" netns "${bridge_ns}"
  ip -n "${ns}" link set "h${tag}${short}" name eth0
  ip -n "${ns}" addr add "${address}/24" dev eth0
  ip -n "${ns}" link set lo up
  ip -n "${ns}" link set eth0 up
  ip -n "${bridge_ns}" link set "b${tag}${short}" master br0
  ip -n "${bridge_ns}" link set "b${tag}${short}" up
}
host "${server_ns}" "${server_ip}" s
for i in "${!clients[@]}"; do
  host "${prefix}-c${i}" "${net}.$((10 + i))" "c${i}"
done
echo "namespaces: ${namespaces[*]}; server ${server_ip}, clients ${net}.10-12"

# A kit whose server certificate names only the server's namespace address.
bash "${provision}" --federation=e2e-netns-quorum \
  --clients="$(IFS=,; echo "${clients[*]}")" --server-ip="${server_ip}" \
  --config="${config}" --out="${work}/kit" >/dev/null
kit="${work}/kit"
openssl x509 -in "${kit}/server/server.pem" -noout -ext subjectAltName |
  grep -q "IP Address:${server_ip}\$" || fail "the server SAN is not ${server_ip}"

ip netns exec "${server_ns}" "${server_bin}" \
  --listen="${server_ip}:50051" --state_dir="${work}/server" \
  --config="${kit}/server/federation.textproto" \
  --tls_cert="${kit}/server/server.pem" --tls_key="${kit}/server/server.key" \
  --tls_client_ca="${kit}/server/ca.pem" --threads=1 \
  --sampler_tokens_file="${kit}/server/sampler_tokens.txt" \
  >"${work}/server.log" 2>&1 &
pids+=($!)
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start in its namespace"
[[ "${address}" == "${server_ip}:50051" ]] ||
  fail "the server listens on ${address}, not ${server_ip}:50051"

probe() {  # client index, extra flags...
  local i="$1"
  shift
  ip netns exec "${prefix}-c${i}" "${probe_bin}" \
    --server="${server_ip}:50051" --tls_ca="${kit}/client-${clients[$i]}/ca.pem" \
    --tls_cert="${kit}/client-${clients[$i]}/client.pem" \
    --tls_key="${kit}/client-${clients[$i]}/client.key" "$@"
}
# Across the bridge, over mTLS, from every client's namespace; and the
# namespaces are real: the server is not on this namespace's loopback.
for i in "${!clients[@]}"; do
  probe "${i}" --timeout_seconds=10 >"${work}/probe-${i}.log" 2>&1 ||
    fail "client-${i}'s namespace cannot reach the server: $(cat "${work}/probe-${i}.log")"
done
if ip netns exec "${prefix}-c0" "${probe_bin}" --server=127.0.0.1:50051 \
    --insecure --timeout_seconds=1 >/dev/null 2>&1; then
  fail "the server is reachable on client-0's loopback: no isolation"
fi

start_client() {  # index, niceness, extra flags...
  local i="$1" id="${clients[$1]}" niceness="$2"
  shift 2
  nice -n "${niceness}" ip netns exec "${prefix}-c${i}" "${client_bin}" \
    --server="${server_ip}:50051" --client_id="${id}" \
    --tls_ca="${kit}/client-${id}/ca.pem" \
    --tls_cert="${kit}/client-${id}/client.pem" \
    --tls_key="${kit}/client-${id}/client.key" --state_dir="${work}/${id}" \
    --reward="client:index=${i},count=${#clients[@]}" --threads=1 \
    --diagnostics_trajectories=256 "$@" >"${work}/${id}.log" 2>&1 &
  pids+=($!)
}
# client-2 trains far longer than the others, so that it is surely still
# training (not uploading) when its link goes down; niced so that it leaves
# the CPU to the others.
start_client 2 19 --iterations=100000 --rpc_attempts=2 \
  --connect_timeout_seconds=2 --wait_seconds=60
cut_pid=${pids[-1]}
for _ in $(seq 1 300); do
  grep -q "event=spec_received " "${work}/client-2.log" && break
  kill -0 "${cut_pid}" 2>/dev/null || fail "client-2 exited early"
  sleep 0.1
done
grep -q "event=spec_received " "${work}/client-2.log" ||
  fail "client-2 did not get the federation's spec"
ip -n "${bridge_ns}" link set "b${tag}c2" down
ip -n "${prefix}-c2" link set eth0 down
echo "client-2 has the spec and trains; its link is now down"
if probe 2 --timeout_seconds=2 >"${work}/probe-cut.log" 2>&1; then
  fail "client-2 still reaches the server after its link was cut"
fi

start_client 0 0 --wait_seconds=120
start_client 1 0 --wait_seconds=120
for i in 0 1; do
  wait "${pids[$((i + 2))]}" || fail "client-${i} exited with status $?"
  compgen -G "${work}/client-${i}/global_v*.model" >/dev/null ||
    fail "client-${i} has no global model"
done
echo "client-0 and client-1 hold the global model"

published=$(grep "event=version_published .*version=1 " "${work}/server.log" || true)
[[ -n "${published}" ]] || fail "the server published no version 1"
[[ "${published}" == *" clients=client-0,client-1 "* ]] ||
  fail "version 1 does not hold exactly client-0 and client-1: ${published}"
! grep -q "event=version_published .*version=2 " "${work}/server.log" ||
  fail "a second version was published"
[[ $(grep -c "event=upload_accepted " "${work}/server.log") -eq 2 ]] ||
  fail "the server did not accept exactly two uploads"
! grep -q "event=upload_accepted .*client=client-2 " "${work}/server.log" ||
  fail "the server accepted an upload from client-2"
! compgen -G "${work}/client-2/global_v*.model" >/dev/null ||
  fail "client-2 got a global model"

e2e_save_logs
echo "${published#*] }"
echo "PASS"
