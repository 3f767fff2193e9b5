#!/usr/bin/env bash
# deploy/provision.sh into a temporary folder: the kit's files, permissions,
# SANs, chain of trust, token format, the filled-in federation config, that
# no party folder holds the CA key, that nothing secret reaches stdout/stderr,
# and that bad input is refused without leaving a partial kit.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
provision="${runfiles}/deploy/provision.sh"
work="${TEST_TMPDIR:?}/provision"
rm -rf "${work}"
mkdir -p "${work}"
kit="${work}/kit"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
expect_mode() {  # mode, path...
  local mode="$1" path
  shift
  for path in "$@"; do
    [[ -e "${path}" ]] || fail "${path} is missing"
    [[ "$(stat -c %a "${path}")" == "${mode}" ]] ||
      fail "${path} has mode $(stat -c %a "${path}"), want ${mode}"
  done
}

bash "${provision}" --federation=test-fed --clients=hospital-a,lab.b,c3 \
  --server-dns=fed.example.org,localhost --server-ip=10.20.0.1,127.0.0.1 \
  --sampler-users=alice,bob --out="${kit}" \
  >"${work}/stdout" 2>"${work}/stderr" ||
  { cat "${work}/stderr" >&2; fail "provision.sh failed"; }

# Files and permissions.
expect_mode 700 "${kit}" "${kit}/ca" "${kit}/server" "${kit}/client-hospital-a" \
  "${kit}/client-lab.b" "${kit}/client-c3" "${kit}/sampler-alice" \
  "${kit}/sampler-bob"
expect_mode 600 "${kit}/ca/ca.key" "${kit}/server/server.key" \
  "${kit}/server/sampler_tokens.txt" "${kit}"/client-*/client.key \
  "${kit}"/sampler-*/sampler.key "${kit}"/sampler-*/sampler_token
expect_mode 644 "${kit}/ca/ca.pem" "${kit}/server/server.pem" \
  "${kit}/server/federation.textproto" "${kit}"/*/ca.pem \
  "${kit}"/client-*/client.pem "${kit}"/sampler-*/sampler.pem
# shellcheck disable=SC2012  # the names are ours and plain
[[ "$(ls "${kit}" | tr '\n' ' ')" == \
  "ca client-c3 client-hospital-a client-lab.b sampler-alice sampler-bob server " ]] ||
  fail "unexpected top-level entries: $(ls -A "${kit}")"
# The CA key never leaves ca/; every party has the same ca.pem.
[[ "$(find "${kit}" -name ca.key)" == "${kit}/ca/ca.key" ]] ||
  fail "the CA key was copied into a party folder"
for pem in "${kit}"/*/ca.pem; do
  cmp -s "${pem}" "${kit}/ca/ca.pem" || fail "${pem} differs from the CA"
done
# Each key belongs to the certificate next to it.
for dir in server client-hospital-a sampler-alice; do
  key=$(ls "${kit}/${dir}"/*.key)
  cert="${key%.key}.pem"
  [[ "$(openssl pkey -in "${key}" -pubout)" == \
     "$(openssl x509 -in "${cert}" -noout -pubkey)" ]] ||
    fail "${key} does not match ${cert}"
done

# SANs and names.
sans=$(openssl x509 -in "${kit}/server/server.pem" -noout -ext subjectAltName)
for san in "DNS:fed.example.org" "DNS:localhost" "IP Address:10.20.0.1" \
    "IP Address:127.0.0.1"; do
  grep -q "${san}" <<<"${sans}" || fail "server SANs lack ${san}: ${sans}"
done
openssl x509 -in "${kit}/server/server.pem" -noout -subject |
  grep -q "CN *= *fed.example.org" || fail "the server CN is not fed.example.org"
for id in hospital-a lab.b c3; do
  openssl x509 -in "${kit}/client-${id}/client.pem" -noout -subject |
    grep -Eq "CN *= *${id}\$" || fail "client-${id}'s certificate CN is not ${id}"
done
openssl x509 -in "${kit}/sampler-alice/sampler.pem" -noout -subject |
  grep -Eq "CN *= *sampler-alice\$" || fail "the sampler CN is not sampler-alice"

# Chain of trust and purposes.
openssl verify -CAfile "${kit}/ca/ca.pem" -purpose sslserver \
  "${kit}/server/server.pem" >/dev/null || fail "server certificate does not verify"
for cert in "${kit}"/client-*/client.pem "${kit}"/sampler-*/sampler.pem; do
  openssl verify -CAfile "${kit}/ca/ca.pem" -purpose sslclient "${cert}" \
    >/dev/null || fail "${cert} does not verify as a client certificate"
  if openssl verify -CAfile "${kit}/ca/ca.pem" -purpose sslserver "${cert}" \
      >/dev/null 2>&1; then
    fail "${cert} is usable as a server certificate"
  fi
done
# A certificate from another kit's CA does not verify against this one.
bash "${provision}" --federation=other --clients=x --server-ip=127.0.0.1 \
  --out="${work}/other" >/dev/null 2>&1 || fail "second provision failed"
if openssl verify -CAfile "${kit}/ca/ca.pem" \
    "${work}/other/client-x/client.pem" >/dev/null 2>&1; then
  fail "a foreign certificate verified against this kit's CA"
fi

# Tokens: one line per sampler user, matching the user's own token file.
for user in alice bob; do
  token=$(cat "${kit}/sampler-${user}/sampler_token")
  [[ "${token}" =~ ^[0-9a-f]{64}$ ]] || fail "${user}'s token is malformed"
  grep -qx "${user}:${token}" "${kit}/server/sampler_tokens.txt" ||
    fail "the server's token file lacks ${user}"
done
[[ "$(cat "${kit}/sampler-alice/sampler_token")" != \
   "$(cat "${kit}/sampler-bob/sampler_token")" ]] || fail "two users share a token"
[[ $(grep -vc '^#' "${kit}/server/sampler_tokens.txt") -eq 2 ]] ||
  fail "the token file has entries other than alice and bob"

# The federation config: this federation's name and exactly its clients.
config="${kit}/server/federation.textproto"
[[ "$(grep '^name:' "${config}")" == 'name: "test-fed"' ]] ||
  fail "config name: $(grep '^name:' "${config}")"
[[ "$(grep '^client_ids:' "${config}" | tr '\n' ' ')" == \
  'client_ids: "hospital-a" client_ids: "lab.b" client_ids: "c3" ' ]] ||
  fail "config client_ids: $(grep '^client_ids:' "${config}")"
grep -q '^environment {' "${config}" || fail "the template body was lost"
grep -q '^EPGFN_SERVER=fed.example.org:50051$' \
  "${kit}/client-hospital-a/epgfn-client.env" ||
  fail "the client env file does not point at the server"

# Nothing secret was printed: no PEM key block, no key body, no token.
output="${work}/stdout ${work}/stderr"
# shellcheck disable=SC2086
if grep -q "PRIVATE KEY" ${output}; then fail "a key was printed"; fi
while IFS= read -r key; do
  body=$(sed -n 2p "${key}")
  # shellcheck disable=SC2086
  if grep -qF "${body}" ${output}; then fail "${key} was printed"; fi
done < <(find "${kit}" -name '*.key')
for token_file in "${kit}"/sampler-*/sampler_token; do
  # shellcheck disable=SC2086
  if grep -qF "$(cat "${token_file}")" ${output}; then
    fail "a token was printed"
  fi
done
grep -q "provisioned federation 'test-fed'" "${work}/stdout" ||
  fail "no summary on stdout"

# Refusals: an existing kit is not overwritten; bad ids and missing SANs are
# refused and leave nothing behind.
before=$(cat "${kit}/ca/ca.pem")
if bash "${provision}" --federation=test-fed --clients=a --server-ip=10.0.0.1 \
    --out="${kit}" >/dev/null 2>"${work}/refused"; then
  fail "an existing kit was overwritten"
fi
grep -q "not empty" "${work}/refused" || fail "unclear refusal: $(cat "${work}/refused")"
[[ "$(cat "${kit}/ca/ca.pem")" == "${before}" ]] || fail "the CA was replaced"
check_refused() {  # expected message, args...
  local message="$1"
  shift
  rm -rf "${work}/bad"
  if bash "${provision}" "$@" --out="${work}/bad" >/dev/null \
      2>"${work}/bad.err"; then
    fail "accepted: $*"
  fi
  grep -q "${message}" "${work}/bad.err" ||
    fail "for '$*': expected '${message}', got: $(cat "${work}/bad.err")"
  [[ -z "$(ls -A "${work}/bad" 2>/dev/null)" ]] ||
    fail "a partial kit was left for: $*"
}
check_refused "invalid client id" --federation=f --clients=a,../x \
  --server-ip=10.0.0.1
check_refused "listed twice" --federation=f --clients=a,a --server-ip=10.0.0.1
check_refused "server-dns" --federation=f --clients=a
check_refused "invalid IP" --federation=f --clients=a --server-ip='1.2.3.4;rm'
check_refused "clashes" --federation=f --clients=sampler-user \
  --server-ip=10.0.0.1
check_refused "required" --clients=a --server-ip=10.0.0.1

echo "PASS"
