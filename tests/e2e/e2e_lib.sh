# shellcheck shell=bash
# Shared by the shell end-to-end tests (sourced, after `set -euo pipefail`):
# a fresh work folder whose *.log files are shown on failure, waiting for a
# server to announce its address, stopping background processes, and sampler
# tokens. Each test keeps its own checks.

E2E_WORK=""

# Makes DIR a fresh, empty work folder; e2e_fail shows the *.log files in it.
e2e_init_work() {
  E2E_WORK="$1"
  rm -rf "${E2E_WORK}"
  mkdir -p "${E2E_WORK}"
}

# Prints "FAIL: <message>" and the tail of every log of the work folder (the
# folder is deleted after the test, so this is what test.log keeps), then
# exits 1.
e2e_fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "${E2E_WORK}"/*.log; do
    [[ -f "${log}" ]] || continue
    echo "---- tail of ${log}" >&2
    tail -n 30 "${log}" >&2
  done
  exit 1
}

# Copies the work folder's logs to the test's undeclared outputs, if any.
e2e_save_logs() {
  if [[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]]; then
    cp "${E2E_WORK}"/*.log "${TEST_UNDECLARED_OUTPUTS_DIR}/" 2>/dev/null || true
  fi
}

# Sends SIGNAL (e.g. TERM, KILL) to each PID still running, then reaps them.
# Empty PIDs (a process not started yet) are skipped. For EXIT traps: never
# fails.
e2e_stop() {
  local signal="$1" pid
  shift
  for pid in "$@"; do
    [[ -n "${pid}" ]] || continue
    kill -s "${signal}" "${pid}" 2>/dev/null || true
  done
  for pid in "$@"; do
    [[ -n "${pid}" ]] || continue
    wait "${pid}" 2>/dev/null || true
  done
}

# Waits (up to 60 s) for the server PID to print "listening on <address>" on
# its LOG and prints the address; fails (status 1) if the server exits first
# or never says so.
e2e_wait_for_listening() {
  local log="$1" pid="$2" address=""
  for _ in $(seq 1 1200); do
    address=$(awk '/^listening on /{ print $3; exit }' "${log}")
    if [[ -n "${address}" ]]; then
      echo "${address}"
      return 0
    fi
    kill -0 "${pid}" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Writes a fresh random sampler token for CALLER into DIR, readable by the
# owner only: DIR/sampler_tokens.txt in the server's "<caller>:<token>" form
# (--sampler_tokens_file) and DIR/sampler_token.txt with just the token, as
# the samplers read it. Prints the token.
e2e_write_sampler_token() {
  local dir="$1" caller="$2" token
  # Explicit returns: callers run this in $(...), where set -e does not hold.
  token="$(openssl rand -hex 32)" && [[ -n "${token}" ]] || return 1
  (
    umask 077
    printf '# sampler callers\n%s:%s\n' "${caller}" "${token}" \
      >"${dir}/sampler_tokens.txt" &&
      printf '%s\n' "${token}" >"${dir}/sampler_token.txt"
  ) || return 1
  echo "${token}"
}

# An operator bearer token for GetStatus and the admin RPCs: DIR/admin_tokens.txt
# (the server's --admin_tokens_file, naming CALLER) and DIR/admin_token.txt
# (the caller's --admin_token_file). Prints the token.
e2e_write_admin_token() {
  local dir="$1" caller="$2" token
  token="$(openssl rand -hex 32)" && [[ -n "${token}" ]] || return 1
  (
    umask 077
    printf '%s:%s\n' "${caller}" "${token}" >"${dir}/admin_tokens.txt" &&
      printf '%s\n' "${token}" >"${dir}/admin_token.txt"
  ) || return 1
  echo "${token}"
}

# The usual EXIT trap of a federation test: it declares server_pid and
# client_pids (the test sets them as it starts processes), and on exit sends
# SIGNAL to those still running, reaps them and saves the logs.
e2e_stop_federation_on_exit() {
  server_pid=""
  client_pids=()
  # shellcheck disable=SC2064  # the signal is fixed now, the pids at exit
  trap "e2e_stop $1 \"\${client_pids[@]}\" \"\${server_pid}\"; e2e_save_logs" EXIT
}

# Waits for client ID's process PID and fails unless it exited 0 and printed
# its SUMMARY line in the work folder's ID.log; with MODEL_GLOB (e.g.
# global_v*.model), also unless a matching file is in its ID/ state folder.
e2e_expect_client_done() {
  local id="$1" pid="$2" model_glob="${3:-}"
  wait "${pid}" || e2e_fail "${id} exited with status $?"
  if [[ -n "${model_glob}" ]]; then
    compgen -G "${E2E_WORK}/${id}/${model_glob}" >/dev/null ||
      e2e_fail "${id} has no ${model_glob} on disk"
  fi
  grep -q "^SUMMARY client=${id} " "${E2E_WORK}/${id}.log" ||
    e2e_fail "${id} printed no summary"
}
