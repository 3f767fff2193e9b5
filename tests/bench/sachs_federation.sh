#!/usr/bin/env bash
# The whole federation on the Sachs et al. (2005) protein-signalling data:
# a server and four client processes over mutual TLS, 11 named variables.
# The 7,466 rows are cut into four per-client TSV files (client i keeps the
# rows whose index is i mod 4, so that every client sees every experimental
# condition), written under the work folder at run time; each client
# standardises its own rows (bge:standardize=1,data=<its file>) and the
# server's config names the variables only.
#
# Prints the wall-clock of each phase, each process's peak RSS (GNU time),
# the FCS each process reported (each client's local model against its own
# reward, the global model against the product of the local models), and
# the edges of the DAGs sampled from the global model ranked by their
# sampled marginal probability, with the curators' ground-truth edges marked.
#
#   bazel run -c opt //tests/bench:sachs_federation -- \
#     [--sachs_dir=/work/shared/data/sachs] [--local_iterations=1500] \
#     [--aggregation_iterations=1500] [--samples=10000] [--max_parents=k] \
#     [--work_dir=/tmp/epgfn_sachs_federation] [--threads=1] [--temperature=1]
#
# Skips (exit 0, with a message) when the data folder is absent. The data
# are read from there and never copied into the repository.
set -euo pipefail

sachs_dir="${EPGFN_SACHS_DIR:-/work/shared/data/sachs}"
local_iterations=1500
aggregation_iterations=1500
num_samples=10000
max_parents=""
work="/tmp/epgfn_sachs_federation"
threads=1
hidden_width=128
# Each client's reward is tempered by this (log R / T): with ~1,866 rows per
# client log R spans thousands of nats, and untempered training diverged
# (non-finite logits at iteration ~710 on 2026-12-02).
temperature=1
for arg in "$@"; do
  case "${arg}" in
    --sachs_dir=*) sachs_dir="${arg#*=}" ;;
    --local_iterations=*) local_iterations="${arg#*=}" ;;
    --aggregation_iterations=*) aggregation_iterations="${arg#*=}" ;;
    --samples=*) num_samples="${arg#*=}" ;;
    --max_parents=*) max_parents="${arg#*=}" ;;
    --work_dir=*) work="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    --hidden_width=*) hidden_width="${arg#*=}" ;;
    --temperature=*) temperature="${arg#*=}" ;;
    *) echo "sachs_federation: unknown argument ${arg} (see the header)" >&2
       exit 2 ;;
  esac
done
data="${sachs_dir}/sachs.2005.continuous.txt"
truth="${sachs_dir}/sachs.2005.ground.truth.graph.txt"
if [[ ! -f "${data}" ]]; then
  echo "SKIP: the Sachs data is not at ${data} (pass --sachs_dir=DIR or set" \
    "EPGFN_SACHS_DIR); nothing measured"
  exit 0
fi

# Binaries from the runfiles of `bazel run`.
runfiles="$(realpath "${RUNFILES_DIR:-$0.runfiles}")/epgfn"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
sample_bin="${runfiles}/client/epgfn_sample"
gen_certs="${runfiles}/deploy/gen_certs.sh"
e2e_lib="${runfiles}/tests/e2e/e2e_lib.sh"
federation_lib="${runfiles}/deploy/federation_lib.sh"
for f in "${server_bin}" "${client_bin}" "${sample_bin}" "${gen_certs}" \
  "${e2e_lib}" "${federation_lib}"; do
  [[ -e "${f}" ]] || { echo "sachs_federation: missing ${f}" >&2; exit 1; }
done
# shellcheck source=tests/e2e/e2e_lib.sh
source "${e2e_lib}"  # e2e_wait_for_listening
# shellcheck source=deploy/federation_lib.sh
source "${federation_lib}"  # fed_start_*, fed_exec, fed_peak_mib, fed_field

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
rm -rf "${work}"
mkdir -p "${work}/logs"
logs="${work}/logs"
clients=(client-0 client-1 client-2 client-3)
variables=$(head -n 1 "${data}" | tr -d '\r' | tr '\t' ';')

# One private file per client, written here at run time.
for i in "${!clients[@]}"; do
  mkdir -p "${work}/${clients[$i]}-data"
  awk -v i="${i}" -v n="${#clients[@]}" 'NR == 1 || (NR - 2) % n == i' \
    "${data}" >"${work}/${clients[$i]}-data/rows.tsv"
done

environment_params="  params { key: \"variables\" value: \"${variables}\" }"
if [[ -n "${max_parents}" ]]; then
  environment_params+=$'\n'"  params { key: \"max_parents\" value: \"${max_parents}\" }"
fi
mkdir -p "${work}/server"
cat >"${work}/server/federation.textproto" <<EOF
# Written by tests/bench/sachs_federation.sh: variables only, no data.
name: "sachs-benchmark"
environment {
  kind: "dag"
${environment_params}
}
local_architecture { hidden_width: ${hidden_width} hidden_layers: 2 }
global_architecture { hidden_width: ${hidden_width} hidden_layers: 2 }
client_ids: "client-0"
client_ids: "client-1"
client_ids: "client-2"
client_ids: "client-3"
quorum: 0
upload_deadline_seconds: 0
local_training {
  loss: "cb"
  iterations: ${local_iterations}
  batch_size: 64
  epsilon: 0.05
  seed: 1
}
aggregation {
  loss: "cb"
  iterations: ${aggregation_iterations}
  batch_size: 64
  seed: 2
}
EOF

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"
token="$(openssl rand -hex 32)"
(umask 077
 printf 'bench:%s\n' "${token}" >"${certs}/sampler_tokens.txt"
 printf '%s\n' "${token}" >"${certs}/sampler_token.txt")

# Every process under GNU time (peak RSS and seconds; n/a without it).
export FED_TIME_DIR="${logs}"
client_pids=()
cleanup() {
  for pid in "${client_pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  fed_stop_server
  wait 2>/dev/null || true
}
trap cleanup EXIT

start=$(now)
fed_start_server "${server_bin}" "${work}/server" "${logs}/server.log" \
  federation.textproto "${certs}/server.pem" "${certs}/server.key" \
  "${certs}/ca.pem" "${certs}/sampler_tokens.txt" "${threads}"
address="$(e2e_wait_for_listening "${logs}/server.log" "${FED_SERVER_PID}")" ||
  { tail "${logs}/server.log"; exit 1; }

clients_start=$(now)
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  fed_start_client "${client_bin}" "${address}" "${id}" "${certs}/ca.pem" \
    "${certs}/${id}.pem" "${certs}/${id}.key" "${work}/${id}" \
    "bge:standardize=1,temperature=${temperature},data=${work}/${id}-data/rows.tsv" \
    "${threads}" "${logs}/${id}.log" --wait_seconds=7200
  client_pids+=("${FED_CLIENT_PID}")
done
for i in "${!clients[@]}"; do
  wait "${client_pids[$i]}" || { tail -n 20 "${logs}/${clients[$i]}.log"; exit 1; }
done
client_pids=()
clients_s=$(elapsed "${clients_start}" "$(now)")

sample_start=$(now)
(fed_exec sample "${sample_bin}" --server="${address}" \
  --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/client-0.pem" \
  --tls_key="${certs}/client-0.key" \
  --sampler_token_file="${certs}/sampler_token.txt" \
  --num_samples="${num_samples}" --seed=1 --output="${work}/samples.tsv") \
  >"${logs}/sample.log" 2>&1 || { tail "${logs}/sample.log"; exit 1; }
sample_s=$(elapsed "${sample_start}" "$(now)")
fed_stop_server

echo "Sachs federation: ${#clients[@]} clients x ~$(($(wc -l <"${data}") / 4)) rows, variables ${variables}"
echo "environment max_parents: ${max_parents:-none}; local ${local_iterations} and aggregation ${aggregation_iterations} iterations, batch 64, MLP 2x${hidden_width}, ${threads} thread(s) per process, reward temperature ${temperature}"
echo
echo "| process | phase wall-clock s | peak RSS MiB |"
echo "|---|---|---|"
for id in "${clients[@]}"; do
  echo "| ${id} | train $(fed_field "${logs}/${id}.log" train_s), upload $(fed_field "${logs}/${id}.log" upload_s), wait for global $(fed_field "${logs}/${id}.log" wait_s) | $(fed_peak_mib "${id}") |"
done
aggregation=$(for id in "${clients[@]}"; do fed_field "${logs}/${id}.log" wait_s; done | sort -g | head -n 1)
echo "| server | aggregation (last upload -> published) ${aggregation} | $(fed_peak_mib server) |"
echo "| sampler | ${num_samples} samples ${sample_s} | $(fed_peak_mib sample) |"
echo "| all | clients start -> global model on disk ${clients_s}; whole run $(elapsed "${start}" "$(now)") | |"
echo

# The value of KEY in the last "event=NAME ... KEY=value" line of a log.
event_field() {  # log, event name, key
  awk -v name="event=$2" -v key="$3" '
    index($0, name " ") { for (i = 1; i <= NF; i++) {
      split($i, kv, "="); if (kv[1] == key) value = substr($i, length(key) + 2) } }
    END { print (value == "" ? "n/a" : value) }' "$1"
}
echo "FCS (0 best, 1 worst; 256 subsets of 8 distinct objects from on-policy samples, common/eval/flow_consistency.h):"
echo
echo "| model | against | FCS |"
echo "|---|---|---|"
for id in "${clients[@]}"; do
  echo "| ${id} local model | its own reward (client, 1024 samples) | $(event_field "${logs}/${id}.log" diagnostics fcs) |"
done
echo "| global model | product of the local models' p_T, estimated (server, 512 samples) | $(event_field "${logs}/server.log" version_published fcs_to_local_product) |"
echo

# Edge marginals of the sampled DAGs: the first d^2 state integers are the
# adjacency matrix, row-major (i -> j at i * d + j).
echo "Edges by sampled marginal probability (${num_samples} DAGs from the global model; * = ground truth):"
awk -F'\t' -v names="${variables}" -v truth="${truth}" '
  BEGIN {
    d = split(names, name, ";")
    while ((getline line < truth) > 0) {
      if (line ~ /-->/) {
        sub(/^[0-9]+\. */, "", line); split(line, e, / *--> */)
        is_true[e[1] "->" e[2]] = 1; true_edges++
      }
    }
  }
  {
    split($1, s, " "); n++
    edges = 0
    for (k = 1; k <= d * d; k++) if (s[k] == 1) { count[k]++; edges++ }
    total_edges += edges
  }
  END {
    for (k = 1; k <= d * d; k++) if (count[k] > 0) {
      i = int((k - 1) / d) + 1; j = (k - 1) % d + 1
      label = name[i] "->" name[j]
      printf "%.4f\t%s%s\n", count[k] / n, label, (label in is_true ? " *" : "")
    }
    printf "mean edges per sampled DAG: %.2f (ground truth: %d edges)\n", total_edges / n, true_edges > "/dev/stderr"
    for (k = 1; k <= d * d; k++) {
      i = int((k - 1) / d) + 1; j = (k - 1) % d + 1
      label = name[i] "->" name[j]; back = name[j] "->" name[i]
      p = count[k] / n
      if (p > 0.5) { found++; if (label in is_true) hit++; else if (back in is_true) reversed++ }
    }
    printf "edges with marginal > 0.5: %d, of which %d ground truth, %d reversed ground truth\n", found, hit, reversed > "/dev/stderr"
  }' "${work}/samples.tsv" 2>"${work}/edge_summary.txt" | sort -gr | head -n 25 |
  awk -F'\t' '{ printf "  %2d. %s  %s\n", NR, $1, $2 }'
cat "${work}/edge_summary.txt"
echo "distinct DAGs among the samples: $(cut -f1 "${work}/samples.tsv" | sort -u | wc -l)"
echo "work folder: ${work} (logs in ${logs})"
