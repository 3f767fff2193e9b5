#!/usr/bin/env bash
# Generates a private CA, a server certificate for localhost/127.0.0.1 and one
# client certificate per client id (CN = the id, which the server checks
# against each upload's client_id under mTLS).
#
#   deploy/gen_certs.sh OUTDIR client-id...
#
# Writes OUTDIR/ca.pem, server.pem, server.key, <id>.pem, <id>.key. Keys are
# created with mode 600 and never printed. Existing files are overwritten.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 OUTDIR client-id..." >&2
  exit 2
fi
out="$1"
shift
for id in "$@"; do
  if [[ ! "${id}" =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "invalid client id '${id}' (allowed: [A-Za-z0-9._-]+)" >&2
    exit 2
  fi
done

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
mkdir -p "${out}"
umask 077
work="$(mktemp -d "${out}/.gen_certs.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
days=825

new_key() {  # path
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# Certificate authority.
new_key "${out}/ca.key"
openssl req -x509 -new -key "${out}/ca.key" -sha256 -days "${days}" \
  -subj "/CN=epgfn federation CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "${out}/ca.pem" 2>/dev/null

sign() {  # name, subject, extensions file
  openssl req -new -key "${out}/$1.key" -subj "$2" -out "${work}/$1.csr" \
    2>/dev/null
  openssl x509 -req -in "${work}/$1.csr" -CA "${out}/ca.pem" \
    -CAkey "${out}/ca.key" -CAcreateserial -CAserial "${work}/ca.srl" \
    -days "${days}" -sha256 -extfile "$3" -out "${out}/$1.pem" 2>/dev/null
}

# Server.
cat >"${work}/server.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
new_key "${out}/server.key"
sign server "/CN=localhost" "${work}/server.ext"

# Clients.
cat >"${work}/client.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT
for id in "$@"; do
  new_key "${out}/${id}.key"
  sign "${id}" "/CN=${id}" "${work}/client.ext"
done

chmod 644 "${out}"/*.pem
echo "certificates for server and $# client(s) written to ${out}"
