#!/usr/bin/env bash
# Generates a private CA, a server certificate for localhost/127.0.0.1 and one
# client certificate per client id (CN = the id, which the server checks
# against each upload's client_id under mTLS).
#
#   deploy/gen_certs.sh OUTDIR client-id...
#
# Writes OUTDIR/ca.pem, server.pem, server.key, <id>.pem, <id>.key. Keys are
# created with mode 600 and never printed. Existing files are overwritten.
#
# Sourced (`source deploy/gen_certs.sh`), it only defines the pki_* functions
# below, which deploy/provision.sh shares: every OpenSSL invocation of the
# project lives here. The file stays self-contained so that tests can depend
# on the single label //deploy:gen_certs.sh.

# Certificates are valid for 825 days, the longest a TLS client such as a
# browser accepts for a leaf; renew by provisioning again.
PKI_DAYS="${PKI_DAYS:-825}"

# Client ids become certificate CNs and file names: keep them to a safe set.
pki_valid_id() {  # id
  [[ "$1" =~ ^[A-Za-z0-9._-]+$ && "$1" != "." && "$1" != ".." ]]
}

pki_require_openssl() {
  command -v openssl >/dev/null || {
    echo "openssl not found (install the Debian package 'openssl')" >&2
    return 1
  }
}

# A P-256 key, created unreadable to others before any byte is written.
pki_new_key() {  # path
  (umask 077 && openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) || {
    echo "cannot create key $1" >&2
    return 1
  }
  chmod 600 "$1"
}

# A self-signed CA: key and certificate.
pki_new_ca() {  # key_path, cert_path, common name
  pki_new_key "$1" || return 1
  openssl req -x509 -new -key "$1" -sha256 -days "${PKI_DAYS}" \
    -subj "/CN=$3" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$2" 2>/dev/null || {
    echo "cannot create the CA certificate $2" >&2
    return 1
  }
  chmod 644 "$2"
}

# Writes the extensions of a server certificate. SANs: comma-separated
# "DNS:name" / "IP:address" entries. clientAuth is included too so that a
# health probe running next to the server can present the server's own
# certificate to a server that requires client certificates.
pki_server_ext() {  # path, sans
  cat >"$1" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$2
EXT
}

pki_client_ext() {  # path
  cat >"$1" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT
}

# A new key and a certificate for it signed by the CA. The CSR and the serial
# file go to work_dir, which the caller deletes.
pki_issue() {  # key_path, cert_path, common name, ext_file, ca_pem, ca_key, work_dir
  local key="$1" cert="$2" cn="$3" ext="$4" ca_pem="$5" ca_key="$6" work="$7"
  local csr
  csr="$(mktemp "${work}/csr.XXXXXX")"
  pki_new_key "${key}" || return 1
  if ! openssl req -new -key "${key}" -subj "/CN=${cn}" -out "${csr}" \
      2>/dev/null ||
    ! openssl x509 -req -in "${csr}" -CA "${ca_pem}" -CAkey "${ca_key}" \
      -CAcreateserial -CAserial "${work}/ca.srl" -days "${PKI_DAYS}" \
      -sha256 -extfile "${ext}" -out "${cert}" 2>/dev/null; then
    echo "cannot issue the certificate ${cert} (CN=${cn})" >&2
    return 1
  fi
  chmod 644 "${cert}"
  rm -f "${csr}"
}

# A random token for a sampler user (256 bits, hex).
pki_new_token() {
  openssl rand -hex 32
}

gen_certs_main() {
  set -euo pipefail
  if [[ $# -lt 2 ]]; then
    echo "usage: $0 OUTDIR client-id..." >&2
    exit 2
  fi
  local out="$1"
  shift
  local id
  for id in "$@"; do
    if ! pki_valid_id "${id}"; then
      echo "invalid client id '${id}' (allowed: [A-Za-z0-9._-]+)" >&2
      exit 2
    fi
  done
  pki_require_openssl
  mkdir -p "${out}"
  local work
  work="$(mktemp -d "${out}/.gen_certs.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: work is local
  trap "rm -rf '${work}'" EXIT

  pki_new_ca "${out}/ca.key" "${out}/ca.pem" "epgfn federation CA"
  pki_server_ext "${work}/server.ext" "DNS:localhost,IP:127.0.0.1"
  pki_issue "${out}/server.key" "${out}/server.pem" localhost \
    "${work}/server.ext" "${out}/ca.pem" "${out}/ca.key" "${work}"
  pki_client_ext "${work}/client.ext"
  for id in "$@"; do
    pki_issue "${out}/${id}.key" "${out}/${id}.pem" "${id}" \
      "${work}/client.ext" "${out}/ca.pem" "${out}/ca.key" "${work}"
  done
  echo "certificates for server and $# client(s) written to ${out}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  gen_certs_main "$@"
fi
