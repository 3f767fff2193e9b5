# shellcheck shell=bash
# Shared by deploy/run_demo.sh and tests/bench/{process,sachs,phylo_ds1}_
# federation.sh (sourced, after `set -euo pipefail`): starting a federation
# server and its client daemons over mutual TLS on this machine, and reading
# the SUMMARY and RESULT lines they print. Call fed_start_* in the calling
# shell, never in $(...): the processes must stay its children, for `wait`.
#
# With FED_TIME_DIR set (and GNU time installed: deploy/setup.sh), every
# process started here runs under /usr/bin/time, which writes "<peak RSS
# KiB> <seconds>" to FED_TIME_DIR/NAME.time when it exits (NAME: server,
# the client id, or fed_exec's first argument); fed_peak_mib reads it.

# Replaces the calling (sub)shell with COMMAND, under GNU time as NAME when
# FED_TIME_DIR is set. Call it in a subshell: ( fed_exec NAME cmd ... ) &
fed_exec() {  # name, command...
  local name="$1"
  shift
  if [[ -n "${FED_TIME_DIR:-}" && -x /usr/bin/time ]]; then
    exec /usr/bin/time -f "%M %e" -o "${FED_TIME_DIR}/${name}.time" "$@"
  fi
  exec "$@"
}

# NAME's peak resident set in MiB from its FED_TIME_DIR file, or n/a.
fed_peak_mib() {  # name
  local file="${FED_TIME_DIR:-}/$1.time"
  if [[ -n "${FED_TIME_DIR:-}" && -s "${file}" ]]; then
    awk 'END { printf "%.0f", $1 / 1024 }' "${file}"
  else
    echo "n/a"
  fi
}

# Starts epgfn_server in the folder DIR (its state in DIR/state; no data
# there), listening on a free port of 127.0.0.1, output to LOG, with sampler
# tokens from TOKENS and THREADS LibTorch threads; further arguments are
# passed on as flags. Sets FED_SERVER_PID.
fed_start_server() {  # bin, dir, log, config, cert, key, client_ca, tokens, threads, flags...
  local bin="$1" dir="$2" log="$3" config="$4" cert="$5" key="$6" ca="$7"
  local tokens="$8" threads="$9"
  shift 9
  mkdir -p "${dir}"
  (cd "${dir}" && fed_exec server "${bin}" --listen=127.0.0.1:0 --state_dir=state \
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
  (fed_exec "${id}" "${bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${ca}" --tls_cert="${cert}" --tls_key="${key}" \
    --state_dir="${state_dir}" --reward="${reward}" --threads="${threads}" \
    "$@") >"${log}" 2>&1 &
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

# Stops the server started by fed_start_server (SIGTERM, then waits): under
# GNU time the signal goes to the server itself, so that time still writes
# its figures. Clears FED_SERVER_PID.
fed_stop_server() {
  [[ -n "${FED_SERVER_PID:-}" ]] || return 0
  local child
  child=$(pgrep -P "${FED_SERVER_PID}" | head -n 1 || true)
  kill -TERM "${child:-${FED_SERVER_PID}}" 2>/dev/null || true
  wait "${FED_SERVER_PID}" || true
  FED_SERVER_PID=""
}
