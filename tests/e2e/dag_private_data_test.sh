#!/usr/bin/env bash
# Private data stays with its owner, over real processes and mutual TLS: a
# server and four clients learn Bayesian network structures on 4 named
# variables, each client reading a data file of its own (the 60 rows of
# common/env/dag/testdata/synthetic4.csv cut into four, each file with its
# own column order; one a TSV with an extra column). The server's working
# directory and config hold no data and name no file.
#
# Checks:
#   - a client whose file lacks a variable, or has a non-numeric cell, exits
#     non-zero with a message naming the file, row and column, before any
#     training;
#   - every client finishes with the global model;
#   - the server's working and state directories hold no data file;
#   - the global model is within TV 0.05 of the exact product of the four
#     clients' BGe posteriors (prior^(1/4) x BGe(own rows), multiplied: for
#     BGe that is the federation's target, not the full-data posterior,
#     because BGe integrates the parameters out; the TV to the full-data
#     posterior is printed for information);
#   - the evaluator's exact edge marginals by the Tian-He DP (read off the
#     rewards, no enumeration) equal the enumerated ones to 1e-9 for both
#     the product and the full-data posterior, and the global model's edge
#     error against the DP is at most the TV bound (|P(e) - Q(e)| <= TV).
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
evaluate_bin="${runfiles}/tests/demo/evaluate"
gen_certs="${runfiles}/deploy/gen_certs.sh"
config_source="${runfiles}/tests/e2e/dag_private_data.textproto"
all_rows="${runfiles}/common/env/dag/testdata/synthetic4.csv"
work="${TEST_TMPDIR:?}/dag_private"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
clients=(client-0 client-1 client-2 client-3)
max_tv=0.05

fail() { e2e_fail "$@"; }

e2e_stop_federation_on_exit TERM

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"

# Each client's own file, in its own folder: rows [15 i, 15 i + 15), with
# the columns in another order per client; client-3 writes TSV with an extra
# text column.
orders=("1,2,3,4" "4,3,2,1" "2,4,1,3" "3,1,4,2")
data_files=()
for i in "${!clients[@]}"; do
  mkdir -p "${work}/${clients[$i]}-data"
  if ((i == 3)); then
    file="${work}/${clients[$i]}-data/rows.tsv"
    awk -F, -v order="${orders[$i]}" -v first=$((15 * i + 2)) \
      -v last=$((15 * i + 16)) 'BEGIN { n = split(order, o, ","); OFS = "\t" }
      NR == 1 || (NR >= first && NR <= last) {
        line = (NR == 1 ? "lab_note" : "ok")
        for (k = 1; k <= n; k++) line = line OFS $o[k]
        print line }' "${all_rows}" >"${file}"
  else
    file="${work}/${clients[$i]}-data/rows.csv"
    awk -F, -v order="${orders[$i]}" -v first=$((15 * i + 2)) \
      -v last=$((15 * i + 16)) 'BEGIN { n = split(order, o, ","); OFS = "," }
      NR == 1 || (NR >= first && NR <= last) {
        line = $o[1]
        for (k = 2; k <= n; k++) line = line OFS $o[k]
        print line }' "${all_rows}" >"${file}"
  fi
  [[ $(wc -l <"${file}") -eq 16 ]] || fail "could not write ${file}"
  data_files+=("${file}")
done

# The server runs in a folder of its own with a copy of the config: the
# folder holds nothing else, and the config names no file.
server_dir="${work}/server-cwd"
mkdir -p "${server_dir}"
cp "${config_source}" "${server_dir}/federation.textproto"
grep -v '^#' "${server_dir}/federation.textproto" | grep -Eqi "bge|data=|\.csv|\.tsv" &&
  fail "the federation config names data"
(cd "${server_dir}" &&
  exec "${server_bin}" --listen=127.0.0.1:0 --state_dir=state \
    --config=federation.textproto --tls_cert="${certs}/server.pem" \
    --tls_key="${certs}/server.key" --tls_client_ca="${certs}/ca.pem" \
    --sampler_auth=mtls --threads=1) >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"

run_client() {  # index, reward, state dir, log
  local id="${clients[$1]}"
  "${client_bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/${id}.pem" \
    --tls_key="${certs}/${id}.key" --state_dir="$3" --reward="$2" \
    --threads=1 --diagnostics_trajectories=256 --wait_seconds=600 \
    --rpc_attempts=2 >"$4" 2>&1
}

# Bad files are refused before any training, naming the file, row, column.
bad_dir="${work}/bad-data"
mkdir -p "${bad_dir}"
printf 'alpha,beta,gamma\n1,2,3\n4,5,6\n' >"${bad_dir}/missing.csv"
printf 'delta\tbeta\talpha\tgamma\n1\t2\t3\t4\n5\tsix\t7\t8\n' \
  >"${bad_dir}/text.tsv"
check_refused() {  # file, expected fragments...
  local file="$1" log
  log="${work}/refused-$(basename "$1").log"
  shift
  if run_client 0 "bge:data=${file}" "${bad_dir}/state-$(basename "${file}")" \
      "${log}"; then
    fail "a client with the bad file ${file} exited 0"
  fi
  local fragment
  for fragment in "${file}" "$@"; do
    grep -qF -- "${fragment}" "${log}" ||
      fail "the refusal of ${file} does not say '${fragment}'"
  done
  grep -q "event=training_progress" "${log}" &&
    fail "the client with ${file} started training"
  ! compgen -G "${bad_dir}/state-$(basename "${file}")/*.model" >/dev/null ||
    fail "the client with ${file} wrote a model"
}
check_refused "${bad_dir}/missing.csv" "line 1" "no column 'delta'"
check_refused "${bad_dir}/text.tsv" "line 3" "data row 2" "(beta)" "'six'"
echo "bad data files refused before training"

for i in "${!clients[@]}"; do
  run_client "${i}" "bge:data=${data_files[$i]}" "${work}/${clients[$i]}" \
    "${work}/${clients[$i]}.log" &
  client_pids+=($!)
done
for i in "${!clients[@]}"; do
  e2e_expect_client_done "${clients[$i]}" "${client_pids[$i]}"
done
client_pids=()
grep -q "dag_data_columns_ignored.*lab_note" "${work}/client-3.log" ||
  fail "client-3 did not log its ignored column"

# Nothing data-bearing reached the server's side.
if find "${server_dir}" -type f \( -name '*.csv' -o -name '*.tsv' \) |
    grep -q .; then
  fail "a data file appeared in the server's directory"
fi
first_value=$(awk -F, 'NR == 2 { print $1 }' "${all_rows}")
if grep -rqF -- "${first_value}" "${server_dir}"; then
  fail "a data value (${first_value}) appears under the server's directory"
fi

global_model=$(awk '/^SUMMARY client=client-0 /{ for (i = 1; i <= NF; i++)
  if ($i ~ /^model=/) print substr($i, 7) }' "${work}/client-0.log")
[[ -f "${global_model}" ]] || fail "client-0 reported no global model file"
client_rewards=$(printf "bge:data=%s|" "${data_files[@]}")
client_models=$(printf "${work}/%s/local.model," "${clients[@]}")
"${evaluate_bin}" --config="${config_source}" --num_clients=${#clients[@]} \
  --model="${global_model}" --client_rewards="${client_rewards%|}" \
  --client_models="${client_models%,}" \
  --full_data_reward="bge:data=${all_rows}" \
  >"${work}/evaluate.log" 2>&1 || fail "the evaluation failed"
cat "${work}/evaluate.log"
tv=$(awk '/^RESULT /{ for (i = 2; i <= NF; i++) if ($i ~ /^tv_learned=/)
  print substr($i, 12) }' "${work}/evaluate.log")
[[ -n "${tv}" ]] || fail "the evaluator printed no TV"
awk -v tv="${tv}" -v max="${max_tv}" 'BEGIN { exit !(tv <= max) }' ||
  fail "TV(global model, exact product) = ${tv} > ${max_tv}"
grep -Eq "(alpha|beta|gamma|delta)->" "${work}/evaluate.log" ||
  fail "objects are not printed with variable names"
echo "TV(global model, exact product of the 4 clients' posteriors) = ${tv} <= ${max_tv}"
result_field() {  # key
  awk -v key="$1" '/^RESULT /{ for (i = 2; i <= NF; i++) {
    split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "${work}/evaluate.log"
}
grep -q "^exact edge marginals by the Tian-He DP" "${work}/evaluate.log" ||
  fail "the evaluator printed no DP edge marginals"
grep -q "^edge marginals, global model (exact) vs exact DP of the full-data posterior" \
  "${work}/evaluate.log" || fail "no edge error against the full-data DP"
dp_diff=$(result_field dp_vs_enumeration)
awk -v x="${dp_diff}" 'BEGIN { exit !(x >= 0 && x <= 1e-9) }' ||
  fail "DP edge marginals differ from the enumeration by ${dp_diff} > 1e-9"
edge_max=$(result_field edge_max_learned)
awk -v x="${edge_max}" -v tv="${tv}" 'BEGIN { exit !(x >= 0 && x <= tv + 1e-6) }' ||
  fail "edge error ${edge_max} of the global model exceeds its TV ${tv}"
echo "DP edge marginals = enumeration to ${dp_diff}; global model edge error max ${edge_max} <= TV"
echo "PASS"
