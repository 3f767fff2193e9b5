#!/usr/bin/env bash
# The whole federation on DS1 (27 taxa x 1949 sites, Debian's
# beast2-mcmc-examples testHKY336.xml.gz, read as shipped): the sites cut
# into four per-client files, a server and four client processes over mutual
# TLS on this machine. Prints per-phase wall-clock and peak memory of every
# process, the FCS of each local model (against its own reward) and of the
# global model (against the full-data reward), the best full-data
# log-likelihood among 10,000 trees sampled from each, and writes a training
# curve (best/mean log-likelihood of on-policy trees, in-process training on
# the full-data reward with the same settings) as TSV.
#
#   bash tests/bench/phylo_ds1_federation.sh [OUT_DIR]
#
# Environment: DS1_LOCAL_ITERATIONS (default 400), DS1_AGGREGATION_ITERATIONS
# (400), DS1_TEMPERATURE (100), DS1_CURVE_ITERATIONS (400),
# DS1_COMPILATION_MODE (opt), DS1_MCMC_SECONDS (1200: the global model's clade
# frequencies against an MCMC reference on the full-data target, run until
# its ASDSF <= 0.01 or this budget, by tests/bench:phylo_mcmc_agreement; 0:
# skip), DS1_KERNEL (the JC69 kernel of every reward: tensor, the default,
# or loops, 2.5x cheaper per tree in training at 27 taxa; BENCHMARKS.md).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${repo}"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${repo}/tests/e2e/e2e_lib.sh"  # e2e_wait_for_listening
# shellcheck source=deploy/federation_lib.sh
source "${repo}/deploy/federation_lib.sh"  # fed_start_*, fed_peak_mib, fed_field
out="$(realpath -m "${1:-out/phylo_ds1}")"
ds1=/usr/share/doc/beast2-mcmc/examples/benchmark/1/testHKY336.xml.gz
[[ -f "${ds1}" ]] || { echo "no ${ds1}: run deploy/setup.sh" >&2; exit 2; }
local_iterations="${DS1_LOCAL_ITERATIONS:-400}"
aggregation_iterations="${DS1_AGGREGATION_ITERATIONS:-400}"
temperature="${DS1_TEMPERATURE:-100}"
curve_iterations="${DS1_CURVE_ITERATIONS:-400}"
mcmc_seconds="${DS1_MCMC_SECONDS:-1200}"
kernel="${DS1_KERNEL:-tensor}"
clients=(client-0 client-1 client-2 client-3)

targets=(//server:epgfn_server //client:epgfn_client
         //common/env/phylo:split_alignment //tests/bench:phylo_model_quality
         //tests/bench:phylo_mcmc_agreement)
# DS1_COMPILATION_MODE=fastbuild reuses the test build's binaries (slower
# code: the figures are then pessimistic, and the table must say so).
mode="${DS1_COMPILATION_MODE:-opt}"
bazel build -c "${mode}" --jobs=1 "${targets[@]}" >/dev/null 2>&1 ||
  bazel build -c "${mode}" --jobs=1 "${targets[@]}"
bin="$(bazel info -c "${mode}" bazel-bin 2>/dev/null)"
rm -rf "${out}"
mkdir -p "${out}/logs" "${out}/server"
logs="${out}/logs"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# 1. Private files: four contiguous site regions, one folder per client.
t0=$(now)
"${bin}/common/env/phylo/split_alignment" --input="${ds1}" \
  --output_dir="${out}/cut" --parts=4 --formats=fasta,nexus,phylip,fasta \
  --full_output="${out}/reference/full.fasta" >"${logs}/split.log"
mapfile -t parts <"${logs}/split.log"
files=()
for i in "${!clients[@]}"; do
  mkdir -p "${out}/data/${clients[$i]}"
  files+=("${out}/data/${clients[$i]}/$(basename "${parts[$i]}")")
  mv "${parts[$i]}" "${files[$i]}"
done
split_s=$(elapsed "${t0}" "$(now)")
taxa=$(awk '/^>/{ printf "%s%s", sep, substr($0, 2); sep=";" }' "${out}/reference/full.fasta")

cat >"${out}/server/spec.textproto" <<SPEC
name: "ds1-private"
environment { kind: "phylo" params { key: "taxa" value: "${taxa}" } }
local_architecture { hidden_width: 128 hidden_layers: 2 }
global_architecture { hidden_width: 128 hidden_layers: 2 }
client_ids: "client-0"
client_ids: "client-1"
client_ids: "client-2"
client_ids: "client-3"
quorum: 0
upload_deadline_seconds: 0
local_training { loss: "cb" iterations: ${local_iterations} batch_size: 64 epsilon: 0.05 seed: 1 }
aggregation { loss: "cb" iterations: ${aggregation_iterations} batch_size: 64 seed: 2 }
SPEC

bash deploy/gen_certs.sh "${out}/certs" "${clients[@]}" >/dev/null
certs="${out}/certs"
# The server's sampler wants bearer tokens; nothing samples over RPC here.
(umask 077 && printf 'bench:%s\n' "$(openssl rand -hex 32)" \
  >"${certs}/sampler_tokens.txt")
# Every process under GNU time (peak RSS and seconds; n/a without it).
export FED_TIME_DIR="${logs}"
client_pids=()
cleanup() {
  for pid in "${client_pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  fed_stop_server
}
trap cleanup EXIT

t_start=$(now)
fed_start_server "${bin}/server/epgfn_server" "${out}/server" \
  "${logs}/server.log" spec.textproto "${certs}/server.pem" \
  "${certs}/server.key" "${certs}/ca.pem" "${certs}/sampler_tokens.txt" 1
address="$(e2e_wait_for_listening "${logs}/server.log" "${FED_SERVER_PID}")" ||
  { tail "${logs}/server.log"; exit 1; }

for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  fed_start_client "${bin}/client/epgfn_client" "${address}" "${id}" \
    "${certs}/ca.pem" "${certs}/${id}.pem" "${certs}/${id}.key" \
    "${out}/${id}" \
    "jc69:alignment=${files[$i]},temperature=${temperature},kernel=${kernel}" \
    1 "${logs}/${id}.log" --diagnostics_trajectories=1024 --wait_seconds=7200
  client_pids+=("${FED_CLIENT_PID}")
done
for pid in "${client_pids[@]}"; do wait "${pid}"; done
client_pids=()
federation_s=$(elapsed "${t_start}" "$(now)")
fed_stop_server

echo "# DS1 federation: 4 clients x $(wc -l <"${files[0]}" | awk '{print $1}') lines; local ${local_iterations} / aggregation ${aggregation_iterations} CB iterations, batch 64, 2x128 MLPs, temperature ${temperature}, ${kernel} kernel"
echo "# split ${split_s} s; federation wall-clock ${federation_s} s; $(uptime)"
echo "| process | train s | upload s | wait (aggregation) s | download s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for id in "${clients[@]}"; do
  echo "| ${id} | $(fed_field "${logs}/${id}.log" train_s) | $(fed_field "${logs}/${id}.log" upload_s) | $(fed_field "${logs}/${id}.log" wait_s) | $(fed_field "${logs}/${id}.log" download_s) | $(fed_peak_mib "${id}") |"
done
aggregation_line=$(grep "event=version_published" "${logs}/server.log" | tail -n 1 || true)
echo "| server | | | | | $(fed_peak_mib server) |"
echo "# server: ${aggregation_line##*event=}"

model=$(fed_global_model "${logs}/client-0.log")
quality=(--config="${out}/server/spec.textproto" --threads=1
         --likelihood="jc69:alignment=${out}/reference/full.fasta")
echo "| model | FCS | best log L among 10,000 | mean log L | distinct trees |"
echo "|---|---|---|---|---|"
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  "${bin}/tests/bench/phylo_model_quality" "${quality[@]}" \
    --model="${out}/${id}/local.model" --label="${id}-local" \
    --reward="jc69:alignment=${files[$i]},temperature=${temperature},kernel=${kernel}" \
    --num_clients=4 >"${logs}/quality-${id}.log" 2>&1
done
"${bin}/tests/bench/phylo_model_quality" "${quality[@]}" --model="${model}" \
  --label=global --num_clients=1 \
  --reward="jc69:alignment=${out}/reference/full.fasta,temperature=${temperature},kernel=${kernel}" \
  >"${logs}/quality-global.log" 2>&1
for log in "${logs}"/quality-*.log; do
  awk '/^RESULT /{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s |\n", v["label"], v["fcs"],
      v["best_log_likelihood"], v["mean_log_likelihood"], v["distinct"] }' "${log}"
done
"${bin}/tests/bench/phylo_model_quality" "${quality[@]}" \
  --reward="jc69:alignment=${out}/reference/full.fasta,temperature=${temperature},kernel=${kernel}" \
  --curve_tsv="${out}/curve.tsv" --curve_iterations="${curve_iterations}" \
  --curve_every=$((curve_iterations / 8)) >"${logs}/curve.log" 2>&1
echo "# curve (in-process, full-data reward, same settings): ${out}/curve.tsv"
cat "${out}/curve.tsv"
if [[ "${mcmc_seconds}" != 0 ]]; then
  echo "# the global model against the MCMC reference (full-data target)"
  "${bin}/tests/bench/phylo_mcmc_agreement" \
    --config="${out}/server/spec.textproto" --model="${model}" \
    --alignment="${out}/reference/full.fasta" \
    --reward="jc69:temperature=${temperature},kernel=${kernel}" \
    --mcmc_seconds="${mcmc_seconds}" | tee "${logs}/mcmc_agreement.log"
fi
