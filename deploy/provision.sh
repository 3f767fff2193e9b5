#!/usr/bin/env bash
# Creates a federation's kit: a private CA, the server's certificate, one
# certificate per client, sampler tokens and the federation config, in one
# folder per party, ready to be copied to that party.
#
#   deploy/provision.sh --federation=NAME --clients=a,b,c --out=DIR \
#     [--server-dns=fed.example.org,...] [--server-ip=10.0.0.5,...] \
#     [--sampler-users=user,...] [--config=TEMPLATE.textproto]
#
# DIR/ (created; must not exist or be empty)
#   ca/              ca.pem, ca.key: the CA. Keep it offline; it is never
#                    copied into a party folder (only ca.pem is).
#   server/          ca.pem, server.pem, server.key, federation.textproto,
#                    sampler_tokens.txt, epgfn-server.env
#   client-<id>/     ca.pem, client.pem, client.key (CN = <id>),
#                    epgfn-client.env
#   sampler-<user>/  ca.pem, sampler.pem, sampler.key (CN = sampler-<user>),
#                    sampler_token
#
# Folders are 0700, keys and tokens 0600; nothing secret is printed. The
# server certificate lists every --server-dns and --server-ip as a SAN (at
# least one is required; the first DNS name, else the first IP, is its CN).
set -euo pipefail

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/gen_certs.sh
source "${deploy_dir}/gen_certs.sh"

usage() {
  sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "provision: $*" >&2
  exit 1
}

federation=""
clients_csv=""
out=""
dns_csv=""
ip_csv=""
samplers_csv="user"
config="${deploy_dir}/configs/hypergrid_demo.textproto"
for arg in "$@"; do
  case "${arg}" in
    --federation=*) federation="${arg#*=}" ;;
    --clients=*) clients_csv="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --server-dns=*) dns_csv="${arg#*=}" ;;
    --server-ip=*) ip_csv="${arg#*=}" ;;
    --sampler-users=*) samplers_csv="${arg#*=}" ;;
    --config=*) config="${arg#*=}" ;;
    -h | --help) usage ;;
    *) echo "provision: unknown argument '${arg}'" >&2; usage ;;
  esac
done

[[ -n "${federation}" && -n "${clients_csv}" && -n "${out}" ]] ||
  { echo "provision: --federation, --clients and --out are required" >&2; usage; }
[[ "${federation}" =~ ^[A-Za-z0-9._-]+$ ]] ||
  die "invalid federation name '${federation}' (allowed: [A-Za-z0-9._-]+)"
[[ -n "${dns_csv}${ip_csv}" ]] ||
  die "give the server's names with --server-dns and/or --server-ip"
[[ -f "${config}" ]] || die "config template ${config} not found"

split_csv() {  # csv -> one item per line, empty items dropped
  tr ',' '\n' <<<"$1" | sed '/^$/d'
}
mapfile -t clients < <(split_csv "${clients_csv}")
mapfile -t dns_names < <(split_csv "${dns_csv}")
mapfile -t ips < <(split_csv "${ip_csv}")
mapfile -t samplers < <(split_csv "${samplers_csv}")

((${#clients[@]} > 0)) || die "--clients lists no client"
declare -A seen=()
for id in "${clients[@]}"; do
  pki_valid_id "${id}" ||
    die "invalid client id '${id}' (allowed: [A-Za-z0-9._-]+)"
  [[ -z "${seen[${id}]:-}" ]] || die "client id '${id}' is listed twice"
  seen[${id}]=1
done
for user in "${samplers[@]}"; do
  pki_valid_id "${user}" ||
    die "invalid sampler user '${user}' (allowed: [A-Za-z0-9._-]+)"
  # Sampler certificates must never pass for a client's (the server maps the
  # CN of a client certificate to the uploading client id).
  [[ -z "${seen[sampler-${user}]:-}" ]] ||
    die "sampler user '${user}' clashes with client id 'sampler-${user}'"
done
sans=()
for name in "${dns_names[@]}"; do
  [[ "${name}" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
    die "invalid DNS name '${name}'"
  sans+=("DNS:${name}")
done
for ip in "${ips[@]}"; do
  [[ "${ip}" =~ ^[0-9.]+$ || "${ip}" =~ ^[0-9A-Fa-f:]+$ ]] ||
    die "invalid IP address '${ip}'"
  sans+=("IP:${ip}")
done
server_cn="${dns_names[0]:-${ips[0]}}"

if [[ -e "${out}" ]] && [[ -n "$(ls -A "${out}" 2>/dev/null)" ]]; then
  die "${out} exists and is not empty; refusing to overwrite a kit"
fi
pki_require_openssl || exit 1
umask 077
mkdir -p "${out}"
chmod 700 "${out}"
work="$(mktemp -d "${out}/.provision.XXXXXX")"
complete=""
cleanup() {
  rm -rf "${work}"
  # A half-written kit is worse than none: it could be copied out by mistake.
  if [[ -z "${complete}" ]]; then
    echo "provision: failed; removing the partial kit in ${out}" >&2
    rm -rf "${out:?}"/ca "${out:?}"/server "${out:?}"/client-* \
      "${out:?}"/sampler-*
  fi
}
trap cleanup EXIT

party_dir() {  # name -> creates OUT/name (0700) with the CA certificate
  mkdir -m 700 "${out}/$1"
  cp "${out}/ca/ca.pem" "${out}/$1/ca.pem"
  chmod 644 "${out}/$1/ca.pem"
}

# 1. The CA.
mkdir -m 700 "${out}/ca"
pki_new_ca "${out}/ca/ca.key" "${out}/ca/ca.pem" "epgfn ${federation} CA"

# 2. The server.
party_dir server
pki_server_ext "${work}/server.ext" "$(IFS=,; echo "${sans[*]}")"
pki_issue "${out}/server/server.key" "${out}/server/server.pem" \
  "${server_cn}" "${work}/server.ext" "${out}/ca/ca.pem" "${out}/ca/ca.key" \
  "${work}"

# The federation config: the template with this federation's name and
# members (every top-level `name:` and `client_ids:` line is replaced).
{
  echo "# Provisioned by deploy/provision.sh for federation '${federation}'"
  echo "# from $(basename "${config}")."
  awk '!/^name:/ && !/^client_ids:/' "${config}"
  echo "name: \"${federation}\""
  for id in "${clients[@]}"; do echo "client_ids: \"${id}\""; done
} >"${out}/server/federation.textproto"
chmod 644 "${out}/server/federation.textproto"

# 3. The clients.
pki_client_ext "${work}/client.ext"
for id in "${clients[@]}"; do
  dir="${out}/client-${id}"
  party_dir "client-${id}"
  pki_issue "${dir}/client.key" "${dir}/client.pem" "${id}" \
    "${work}/client.ext" "${out}/ca/ca.pem" "${out}/ca/ca.key" "${work}"
done

# 4. The sampler users: a token each (the server keeps name:token lines) and
# a client certificate for servers that require one on every connection.
tokens="${out}/server/sampler_tokens.txt"
{
  echo "# Sampler tokens of federation '${federation}': <caller-name>:<token>."
  echo "# Generated by deploy/provision.sh; keep this file mode 0600."
} >"${tokens}"
for user in "${samplers[@]}"; do
  dir="${out}/sampler-${user}"
  party_dir "sampler-${user}"
  pki_issue "${dir}/sampler.key" "${dir}/sampler.pem" "sampler-${user}" \
    "${work}/client.ext" "${out}/ca/ca.pem" "${out}/ca/ca.key" "${work}"
  token="$(pki_new_token)"
  [[ "${token}" =~ ^[0-9a-f]{64}$ ]] || die "openssl rand gave no token"
  printf '%s\n' "${token}" >"${dir}/sampler_token"
  printf '%s:%s\n' "${user}" "${token}" >>"${tokens}"
  unset token
done
chmod 600 "${tokens}" "${out}"/sampler-*/sampler_token

# 5. Flag files for the systemd units (deploy/systemd/), with the paths the
# units install the kit under.
server_port=50051
cat >"${out}/server/epgfn-server.env" <<ENV
# Environment of deploy/systemd/epgfn-server.service. The kit is expected in
# /etc/epgfn/server (this folder); state goes to /var/lib/epgfn-server.
EPGFN_LISTEN=0.0.0.0:${server_port}
# Extra flags, e.g. --threads=4 --metrics_listen=127.0.0.1:9464
EPGFN_SERVER_FLAGS=
ENV
for id in "${clients[@]}"; do
  cat >"${out}/client-${id}/epgfn-client.env" <<ENV
# Environment of deploy/systemd/epgfn-client@${id}.service. The kit is
# expected in /etc/epgfn/client-${id} (this folder); state goes to
# /var/lib/epgfn-client-${id}.
EPGFN_SERVER=${server_cn}:${server_port}
# This institution's private reward (never sent to the server). Set it.
EPGFN_REWARD=
# Extra flags, e.g. --threads=4 --device=cuda
EPGFN_CLIENT_FLAGS=
ENV
done
chmod 644 "${out}"/server/*.env "${out}"/client-*/*.env

complete=1
echo "provisioned federation '${federation}' in ${out}:"
echo "  ca/            the CA; keep it offline (never copy it to a party)"
echo "  server/        for the server operator (SANs: ${sans[*]})"
for id in "${clients[@]}"; do
  echo "  client-${id}/  for institution '${id}'"
done
for user in "${samplers[@]}"; do
  echo "  sampler-${user}/  for sampler user '${user}'"
done
