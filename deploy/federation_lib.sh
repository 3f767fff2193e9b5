# shellcheck shell=bash
# Shared by deploy/run_demo.sh and tests/bench/process_federation.sh
# (sourced, after `set -euo pipefail`): starting a federation server and its
# client daemons over mutual TLS on this machine, and reading the SUMMARY and
# RESULT lines they print. Call fed_start_* in the calling shell, never in
# $(...): the processes must stay its children, for `wait`.

# Starts epgfn_server in the folder DIR (its state in DIR/state; no data
# there), listening on a free port of 127.0.0.1, output to LOG, with sampler
# tokens from TOKENS and THREADS LibTorch threads; further arguments are
# passed on as flags. Sets FED_SERVER_PID.
fed_start_server() {  # bin, dir, log, config, cert, key, client_ca, tokens, threads, flags...
  local bin="$1" dir="$2" log="$3" config="$4" cert="$5" key="$6" ca="$7"
  local tokens="$8" threads="$9"
  shift 9
  mkdir -p "${dir}"
  (cd "${dir}" && exec "${bin}" --listen=127.0.0.1:0 --state_dir=state \
    --config="${config}" --tls_cert="${cert}" --tls_key="${key}" \
    --tls_client_ca="${ca}" --sampler_auth=token \
    --sampler_tokens_file="${tokens}" --threads="${threads}" "$@") \
    >"${log}" 2>&1 &
  # shellcheck disable=SC2034  # read by the caller
  FED_SERVER_PID=$!
}

# Starts epgfn_client as ID against ADDRESS with its certificate CERT/KEY
# (signed by CA), state in STATE_DIR, the private REWARD and THREADS LibTorch
# threads, output to LOG; further arguments are passed on as flags. Sets
# FED_CLIENT_PID.
fed_start_client() {  # bin, address, id, ca, cert, key, state_dir, reward, threads, log, flags...
  local bin="$1" address="$2" id="$3" ca="$4" cert="$5" key="$6"
  local state_dir="$7" reward="$8" threads="$9" log="${10}"
  shift 10
  "${bin}" --server="${address}" --client_id="${id}" --tls_ca="${ca}" \
    --tls_cert="${cert}" --tls_key="${key}" --state_dir="${state_dir}" \
    --reward="${reward}" --threads="${threads}" "$@" >"${log}" 2>&1 &
  # shellcheck disable=SC2034  # read by the caller
  FED_CLIENT_PID=$!
}

# The value of KEY in the SUMMARY (client) and RESULT (evaluator) lines of
# LOG, one line per match.
fed_field() {  # log, key
  awk -v key="$2" '/^(SUMMARY|RESULT) /{ for (i = 2; i <= NF; i++) {
    split($i, kv, "="); if (kv[1] == key) print substr($i, length(key) + 2) } }' "$1"
}

# The global model file that client LOG reported in its SUMMARY line.
fed_global_model() {  # client log
  fed_field "$1" model | head -n 1
}
