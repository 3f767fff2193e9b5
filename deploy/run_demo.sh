#!/usr/bin/env bash
# The end-to-end demo: one federation server and four clients on this
# machine, mutual TLS, a 4-client hypergrid federation (8x8), then sampling
# and an exact evaluation with heatmaps. A few minutes on two cores.
#
#   bash deploy/run_demo.sh
#   bash deploy/run_demo.sh --task=phylo [--alignment=PATH]
#   bash deploy/run_demo.sh --task=dag
#
# Tasks (config deploy/configs/<task>_demo.textproto):
#   hypergrid  (default) 8x8 grid, client i holds one factor of the reward
#   phylo      rooted trees of 6 primates (by name) from a real alignment
#              (default common/env/phylo/testdata/primates.nex), first cut
#              into one private file per client (four regions of the sites,
#              FASTA/NEXUS/PHYLIP); each client's JC69 reward names only its
#              own file, and the server's config and folder hold no data
#   dag        Bayesian network structures on 4 named variables: the rows of
#              common/env/dag/testdata/synthetic4.csv are first cut into one
#              private CSV per client (each with its own column order), and
#              each client is handed only its own path (bge:data=PATH); the
#              server's config names no data
#
# Environment (optional):
#   EPGFN_BAZEL_STARTUP  Bazel startup options, e.g. "--output_base=/tmp/ob"
#   EPGFN_BAZEL_FLAGS    extra build flags
#   DEMO_OUT             output directory (default out/demo, out/demo-<task>
#                        for the other tasks)
#   DEMO_THREADS         LibTorch threads per process (default 1)
#   DEMO_SAMPLES         objects to draw (default 10000)
#   DEMO_SERVER_FLAGS    extra epgfn_server flags, split on spaces, e.g.
#                        "--aggregation_stop_window=4
#                        --first_aggregation_warm_start=client"
set -euo pipefail

task="hypergrid"
alignment=""
for arg in "$@"; do
  case "${arg}" in
    --task=*) task="${arg#--task=}" ;;
    --alignment=*) alignment="$(realpath -e "${arg#--alignment=}")" ||
      { echo "run_demo.sh: no alignment file ${arg#--alignment=}" >&2; exit 2; } ;;
    *) echo "run_demo.sh: unknown argument ${arg} (see the header)" >&2; exit 2 ;;
  esac
done
# Client i's private reward is "<reward>[:|,]index=i,count=N"; the evaluator
# rebuilds them all, and the full-data posterior from the same reward.
case "${task}" in
  hypergrid) reward="client"; full_data_reward="" ;;
  # phylo: client i's reward is jc69:alignment=<its own file>,temperature=20
  # (set once the files are written below); the evaluator's full-data
  # reward reads the whole alignment.
  phylo) reward="jc69:temperature=20"; full_data_reward="" ;;
  dag) reward=""  # one file per client, written below
       full_data_reward="bge:data=common/env/dag/testdata/synthetic4.csv" ;;
  *) echo "run_demo.sh: --task must be hypergrid, phylo or dag" >&2; exit 2 ;;
esac
if [[ -n "${alignment}" && "${task}" != phylo ]]; then
  echo "run_demo.sh: --alignment needs --task=phylo" >&2; exit 2
fi
[[ "${reward}" == *:* ]] && share_sep="," || share_sep=":"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
if [[ "${task}" == hypergrid ]]; then
  out="${DEMO_OUT:-out/demo}"
else
  out="${DEMO_OUT:-out/demo-${task}}"
fi
threads="${DEMO_THREADS:-1}"
num_samples="${DEMO_SAMPLES:-10000}"
config="deploy/configs/${task}_demo.textproto"
clients=(client-0 client-1 client-2 client-3)
# shellcheck disable=SC2206
bazel_startup=(${EPGFN_BAZEL_STARTUP:-})
# shellcheck disable=SC2206
bazel_flags=(-c opt ${EPGFN_BAZEL_FLAGS:-})

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo; echo "==> $*"; }

demo_start=$(now)
step "Installing Debian packages (if missing)"
bash deploy/setup.sh

step "Building the server, client, sampler and evaluator (bazel ${bazel_flags[*]})"
build_start=$(now)
targets=(//server:epgfn_server //client:epgfn_client //client:epgfn_sample
         //tests/demo:evaluate //common/env/phylo:split_alignment)
bazel "${bazel_startup[@]}" build "${bazel_flags[@]}" "${targets[@]}"
bin="$(bazel "${bazel_startup[@]}" info "${bazel_flags[@]}" bazel-bin 2>/dev/null)"
build_s=$(elapsed "${build_start}" "$(now)")
server_bin="${bin}/server/epgfn_server"
client_bin="${bin}/client/epgfn_client"
sample_bin="${bin}/client/epgfn_sample"
evaluate_bin="${bin}/tests/demo/evaluate"

rm -rf "${out}"
mkdir -p "${out}/logs"
out="$(cd "${out}" && pwd)"  # absolute: the server runs in its own folder
logs="${out}/logs"
# Client i's own reward (every client gets only its own).
client_rewards=()
for i in "${!clients[@]}"; do
  client_rewards+=("${reward}${share_sep}index=${i},count=${#clients[@]}")
done
if [[ "${task}" == phylo ]]; then
  step "Writing one private alignment file per client (regions of the sites)"
  source_alignment="${alignment:-${repo}/common/env/phylo/testdata/primates.nex}"
  taxa=$(grep -A1 'key: "taxa"' "${config}" | sed -n 's/.*value: "\(.*\)".*/\1/p')
  # The reference (the whole alignment) is for the offline evaluator only.
  "${bin}/common/env/phylo/split_alignment" --input="${source_alignment}" \
    --output_dir="${out}/cut" --parts="${#clients[@]}" \
    --formats=fasta,nexus,phylip,fasta --taxa="${taxa}" \
    --full_output="${out}/reference/full.fasta" >"${logs}/split.log" 2>&1 ||
    { cat "${logs}/split.log" >&2
      echo "demo FAILED: cannot cut ${source_alignment}" >&2; exit 1; }
  mapfile -t parts <"${logs}/split.log"
  for i in "${!clients[@]}"; do
    own="${out}/data/${clients[$i]}/$(basename "${parts[$i]}")"
    mkdir -p "$(dirname "${own}")"
    mv "${parts[$i]}" "${own}"
    client_rewards[$i]="jc69:alignment=$(realpath "${own}"),temperature=20"
    echo "  ${clients[$i]}: ${own} ($(head -c 200 "${own}" | head -n 1 | cut -c1-40)...)"
  done
  rmdir "${out}/cut"
  full_data_reward="jc69:alignment=$(realpath "${out}/reference/full.fasta"),temperature=20"
fi

if [[ "${task}" == dag ]]; then
  step "Writing one private data file per client (the rows cut into ${#clients[@]})"
  # Client i keeps rows [15 i, 15 i + 15) of the 60, with its columns in an
  # order of its own: the clients match them to the variables by name.
  orders=("1,2,3,4" "4,3,2,1" "2,4,1,3" "3,1,4,2")
  for i in "${!clients[@]}"; do
    mkdir -p "${out}/data/${clients[$i]}"
    file="${out}/data/${clients[$i]}/rows.csv"
    awk -F, -v order="${orders[$i]}" -v first=$((15 * i + 2)) \
      -v last=$((15 * i + 16)) 'BEGIN { n = split(order, o, ",") }
      NR == 1 || (NR >= first && NR <= last) {
        line = $o[1]; for (k = 2; k <= n; k++) line = line "," $o[k]
        print line }' common/env/dag/testdata/synthetic4.csv >"${file}"
    client_rewards[$i]="bge:data=$(realpath "${file}")"
    echo "  ${clients[$i]}: ${file} ($(head -n 1 "${file}"), $(($(wc -l <"${file}") - 1)) rows)"
  done
fi

step "Generating a CA, the server certificate and one per client"
bash deploy/gen_certs.sh "${out}/certs" "${clients[@]}"
certs="${out}/certs"
# The Sampler needs a bearer token: the server reads "<caller>:<token>"
# lines, epgfn_sample a file holding just the token.
token="$(openssl rand -hex 32)"
(umask 077
 printf '# sampler callers\ndemo-sampler:%s\n' "${token}" >"${certs}/sampler_tokens.txt"
 printf '%s\n' "${token}" >"${certs}/sampler_token.txt")
unset token

server_pid=""
client_pids=()
cleanup() {
  for pid in "${client_pids[@]}" ${server_pid}; do
    kill "${pid}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

fail() {
  echo >&2
  echo "demo FAILED: $*" >&2
  exit 1
}
show_tail() {  # log file
  echo "---- last lines of $1" >&2
  tail -n 30 "$1" >&2 || true
}

step "Starting the federation server (mTLS, sampler token, 127.0.0.1)"
# The server runs in a folder of its own (no data there: the spec names the
# taxa only). Port 0: it binds a free port and prints "listening on <addr>".
# shellcheck source=deploy/federation_lib.sh
source "${repo}/deploy/federation_lib.sh"  # fed_start_*, fed_field
# DEMO_SERVER_FLAGS is split on spaces on purpose: one flag per word.
# shellcheck disable=SC2086
fed_start_server "${server_bin}" "${out}/server" "${logs}/server.log" \
  "$(realpath "${config}")" "${certs}/server.pem" "${certs}/server.key" \
  "${certs}/ca.pem" "${certs}/sampler_tokens.txt" "${threads}" \
  ${DEMO_SERVER_FLAGS:-}
server_pid="${FED_SERVER_PID}"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${repo}/tests/e2e/e2e_lib.sh"  # e2e_wait_for_listening
address="$(e2e_wait_for_listening "${logs}/server.log" "${server_pid}")" ||
  address=""
if [[ -z "${address}" ]]; then
  show_tail "${logs}/server.log"
  fail "the server did not start"
fi
echo "  server pid ${server_pid} listening on ${address}, log ${logs}/server.log"

step "Starting ${#clients[@]} clients (each trains on its own private reward)"
clients_start=$(now)
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  fed_start_client "${client_bin}" "${address}" "${id}" "${certs}/ca.pem" \
    "${certs}/${id}.pem" "${certs}/${id}.key" "${out}/${id}" \
    "${client_rewards[$i]}" "${threads}" "${logs}/${id}.log"
  client_pids+=("${FED_CLIENT_PID}")
  echo "  ${id}: pid ${FED_CLIENT_PID}, reward ${client_rewards[$i]}, log ${logs}/${id}.log"
done
failed=()
for i in "${!clients[@]}"; do
  if ! wait "${client_pids[$i]}"; then
    failed+=("${clients[$i]}")
  fi
done
client_pids=()
clients_s=$(elapsed "${clients_start}" "$(now)")
if ((${#failed[@]} > 0)); then
  for id in "${failed[@]}"; do show_tail "${logs}/${id}.log"; done
  show_tail "${logs}/server.log"
  fail "client(s) ${failed[*]} failed"
fi
for id in "${clients[@]}"; do grep "event=\(uploaded\|downloaded\) " "${logs}/${id}.log"; done

global_model="$(fed_global_model "${logs}/client-0.log")"
[[ -f "${global_model}" ]] || fail "client-0 reported no global model file"

step "Sampling ${num_samples} objects from the global model"
sample_start=$(now)
if ! "${sample_bin}" --server="${address}" --tls_ca="${certs}/ca.pem" \
    --tls_cert="${certs}/client-0.pem" --tls_key="${certs}/client-0.key" \
    --sampler_token_file="${certs}/sampler_token.txt" \
    --num_samples="${num_samples}" --seed=1 --output="${out}/samples.tsv" \
    >"${logs}/sample.log" 2>&1; then
  show_tail "${logs}/sample.log"
  show_tail "${logs}/server.log"
  fail "the sampler failed"
fi
sample_s=$(elapsed "${sample_start}" "$(now)")
cat "${logs}/sample.log"

step "Exact evaluation"
client_models=$(printf "${out}/%s/local.model," "${clients[@]}")
if ! "${evaluate_bin}" --config="${config}" --num_clients="${#clients[@]}" \
    --model="${global_model}" --samples="${out}/samples.tsv" \
    --client_models="${client_models%,}" --png_dir="${out}/png" \
    --client_rewards="$(IFS='|'; echo "${client_rewards[*]}")" \
    --full_data_reward="${full_data_reward}" \
    --threads="${threads}" >"${logs}/evaluate.log" 2>&1; then
  show_tail "${logs}/evaluate.log"
  fail "the evaluation failed"
fi
cat "${logs}/evaluate.log"

# The summary, from the clients' SUMMARY lines and the evaluator's RESULT.
field() { fed_field "$@"; }
max_of() { sort -g | tail -n 1; }
min_of() { sort -g | head -n 1; }
train_max=$(for id in "${clients[@]}"; do field "${logs}/${id}.log" train_s; done | max_of)
upload_max=$(for id in "${clients[@]}"; do field "${logs}/${id}.log" upload_s; done | max_of)
# The last client to upload waits exactly for the aggregation.
aggregation=$(for id in "${clients[@]}"; do field "${logs}/${id}.log" wait_s; done | min_of)

echo
echo "================ epgfn demo summary ================"
echo "federation: ${config} (${#clients[@]} clients, mTLS on ${address})"
printf "TV(global model, exact product of rewards)   = %s\n" "$(field "${logs}/evaluate.log" tv_learned)"
printf "TV(%s samples, exact product of rewards)  = %s\n" "${num_samples}" "$(field "${logs}/evaluate.log" tv_empirical)"
if [[ -n "${full_data_reward}" ]]; then
  printf "TV(global model, full-data posterior)        = %s\n" "$(field "${logs}/evaluate.log" tv_learned_full)"
  printf "TV(%s samples, full-data posterior)       = %s\n" "${num_samples}" "$(field "${logs}/evaluate.log" tv_empirical_full)"
fi
if [[ "${task}" == dag ]]; then
  # Edge marginals against the exact Tian-He DP (max / mean absolute error).
  printf "edge marginals, global model vs exact DP of the product    max %s mean %s\n" \
    "$(field "${logs}/evaluate.log" edge_max_learned)" "$(field "${logs}/evaluate.log" edge_mean_learned)"
  printf "edge marginals, %s samples vs exact DP of the product   max %s mean %s\n" "${num_samples}" \
    "$(field "${logs}/evaluate.log" edge_max_empirical)" "$(field "${logs}/evaluate.log" edge_mean_empirical)"
  printf "edge marginals, %s samples vs exact DP of the full data max %s mean %s\n" "${num_samples}" \
    "$(field "${logs}/evaluate.log" edge_max_empirical_full)" "$(field "${logs}/evaluate.log" edge_mean_empirical_full)"
fi
echo "uploads:"
for id in "${clients[@]}"; do
  bytes=$(field "${logs}/${id}.log" upload_bytes)
  secs=$(field "${logs}/${id}.log" upload_s)
  printf "  %-9s %9s bytes in %s s (%s MB/s); local training %s s; FCS to its own reward %s\n" "${id}" \
    "${bytes}" "${secs}" \
    "$(awk -v b="${bytes}" -v s="${secs}" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }')" \
    "$(field "${logs}/${id}.log" train_s)" "$(field "${logs}/${id}.log" fcs)"
done
echo "phases (wall-clock seconds):"
printf "  %-40s %s\n" "build (bazel ${bazel_flags[*]})" "${build_s}"
printf "  %-40s %s\n" "local training (slowest client)" "${train_max}"
printf "  %-40s %s\n" "upload (slowest client)" "${upload_max}"
printf "  %-40s %s\n" "aggregation (last upload -> published)" "${aggregation}"
printf "  %-40s %s\n" "clients, start to global model on disk" "${clients_s}"
printf "  %-40s %s\n" "sampling (${num_samples} objects)" "${sample_s}"
printf "  %-40s %s\n" "whole demo" "$(elapsed "${demo_start}" "$(now)")"
if [[ "${task}" == hypergrid ]]; then
  echo "heatmaps (gnuplot): ${out}/png/overview.png (and one PNG + TSV per panel in ${out}/png)"
else
  echo "plots (gnuplot, data in .tsv next to each): ${out}/png/top_objects.png$([[ "${task}" == phylo ]] && echo " and ${out}/png/clade_frequencies.png")"
fi
echo "logs: ${logs}"
