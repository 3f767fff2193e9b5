#!/usr/bin/env bash
# Private data over real processes and mutual TLS: a server and three
# clients on 6 primate taxa, where the server's working directory and config
# hold no data file and each client reads a different file of its own (a
# region of primates.nex's sites, in FASTA, NEXUS and PHYLIP). The global
# model must be within TV 0.05 of the exact full-data posterior, computed
# offline by tests/demo:evaluate from the whole alignment.
#
#   phylo_private_data_test.sh complete       every file holds all 6 taxa
#   phylo_private_data_test.sh missing_taxon  client-2's file lacks Gorilla
#                                             (missing data for that region;
#                                             the reference has those cells
#                                             unknown)
# Then a client whose file names a taxon twice is refused before training.
set -euo pipefail

variant="${1:?usage: phylo_private_data_test.sh complete|missing_taxon}"
runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
server_bin="${runfiles}/server/epgfn_server"
client_bin="${runfiles}/client/epgfn_client"
split_bin="${runfiles}/common/env/phylo/split_alignment"
evaluate_bin="${runfiles}/tests/demo/evaluate"
gen_certs="${runfiles}/deploy/gen_certs.sh"
primates="${runfiles}/common/env/phylo/testdata/primates.nex"
work="${TEST_TMPDIR:?}/phylo-${variant}"
# shellcheck source=tests/e2e/e2e_lib.sh
source "${runfiles}/tests/e2e/e2e_lib.sh"
e2e_init_work "${work}"
clients=(client-0 client-1 client-2)
taxa="Homo_sapiens;Pan;Gorilla;Pongo;Hylobates;Macaca_fuscata"
temperature=20

fail() { e2e_fail "$@"; }

e2e_stop_federation_on_exit TERM

case "${variant}" in
  complete) drop="" ;;
  missing_taxon) drop="--drop=2:Gorilla" ;;
  *) fail "unknown variant ${variant}" ;;
esac

# The data: three regions of the sites, one file per client, written into
# that client's own folder; the reference (all sites, dropped cells unknown)
# goes where only the offline evaluator reads it.
"${split_bin}" --input="${primates}" --output_dir="${work}/cut" --parts=3 \
  --formats=fasta,nexus,phylip --taxa="${taxa}" ${drop} \
  --full_output="${work}/reference/full.fasta" >"${work}/split.log" \
  2>"${work}/split_errors.log" ||
  fail "split_alignment failed"
mapfile -t parts <"${work}/split.log"
[[ "${#parts[@]}" -eq 3 ]] || fail "expected 3 part files, got ${#parts[@]}"
files=()
for i in "${!clients[@]}"; do
  mkdir -p "${work}/${clients[$i]}/data"
  files+=("${work}/${clients[$i]}/data/$(basename "${parts[$i]}")")
  mv "${parts[$i]}" "${files[$i]}"
done
rmdir "${work}/cut"

bash "${gen_certs}" "${work}/certs" "${clients[@]}" >/dev/null
certs="${work}/certs"

# The server runs in a folder of its own holding only its config.
mkdir -p "${work}/server"
cp "${runfiles}/tests/e2e/phylo_private.textproto" "${work}/server/spec.textproto"
if grep -v '^#' "${work}/server/spec.textproto" |
    grep -Eiq "alignment|sites|\.nex|\.fasta|\.phy"; then
  fail "the federation spec names data"
fi
(cd "${work}/server" && exec "${server_bin}" --listen=127.0.0.1:0 \
  --state_dir=state --config=spec.textproto \
  --tls_cert="${certs}/server.pem" --tls_key="${certs}/server.key" \
  --tls_client_ca="${certs}/ca.pem" --sampler_auth=mtls --threads=1) \
  >"${work}/server.log" 2>&1 &
server_pid=$!
address=$(e2e_wait_for_listening "${work}/server.log" "${server_pid}") ||
  fail "the server did not start"

rewards=()
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  rewards+=("jc69:alignment=${files[$i]},temperature=${temperature}")
  "${client_bin}" --server="${address}" --client_id="${id}" \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/${id}.pem" \
    --tls_key="${certs}/${id}.key" --state_dir="${work}/${id}/state" \
    --reward="${rewards[$i]}" --threads=1 --diagnostics_trajectories=256 \
    --wait_seconds=600 >"${work}/${id}.log" 2>&1 &
  client_pids+=($!)
done
for i in "${!clients[@]}"; do
  id="${clients[$i]}"
  wait "${client_pids[$i]}" || fail "${id} exited with status $?"
done
client_pids=()
model=$(compgen -G "${work}/client-0/state/global_v*.model" | head -n 1) ||
  fail "client-0 has no global model"

# Nothing data-bearing ever reached the server's folder.
if find "${work}/server" -type f | xargs grep -l "AAGCTTCACCGGCGC" 2>/dev/null |
    grep -q .; then
  fail "a sequence turned up in the server's folder"
fi
if find "${work}/server" -type f \( -name '*.nex' -o -name '*.fasta' \
    -o -name '*.phy' \) | grep -q .; then
  fail "a data file is in the server's folder"
fi

if [[ "${variant}" == missing_taxon ]]; then
  grep -q "taxon 'Gorilla' is not in ${files[2]}" "${work}/client-2.log" ||
    fail "client-2 did not log its missing taxon"
  grep -q "taxon 'Gorilla' is not in" "${work}/client-0.log" &&
    fail "client-0 logged a missing taxon it has"
fi

"${evaluate_bin}" --config="${work}/server/spec.textproto" \
  --num_clients="${#clients[@]}" \
  --client_rewards="$(IFS='|'; echo "${rewards[*]}")" \
  --full_data_reward="jc69:alignment=${work}/reference/full.fasta,temperature=${temperature}" \
  --model="${model}" --threads=1 >"${work}/evaluate.log" 2>&1 ||
  fail "the evaluator failed"
product_tv=$(sed -n 's/^full-data posterior .*TV to the product target \([0-9.e-]*\)$/\1/p' \
  "${work}/evaluate.log")
[[ -n "${product_tv}" ]] || fail "no product-vs-full-data TV in the evaluation"
awk -v tv="${product_tv}" 'BEGIN { exit !(tv < 1e-4) }' ||
  fail "the clients' private rewards do not multiply to the full-data posterior (TV ${product_tv})"
tv=$(awk '/^RESULT /{ for (i = 2; i <= NF; i++) { split($i, kv, "=");
  if (kv[1] == "tv_learned_full") print kv[2] } }' "${work}/evaluate.log")
[[ -n "${tv}" ]] || fail "no TV in the evaluation"
echo "${variant}: TV(global model, exact full-data posterior) = ${tv}"
awk -v tv="${tv}" 'BEGIN { exit !(tv <= 0.05) }' ||
  fail "TV ${tv} to the full-data posterior exceeds 0.05"

# A bad file is refused before any training, naming the file, line, taxon.
printf '>Pan\nACGT\n>Gorilla\nACGT\n>Pan\nACGA\n' >"${work}/client-0/data/bad.fasta"
if "${client_bin}" --server="${address}" --client_id=client-0 \
    --tls_ca="${certs}/ca.pem" --tls_cert="${certs}/client-0.pem" \
    --tls_key="${certs}/client-0.key" --state_dir="${work}/bad-state" \
    --reward="jc69:alignment=${work}/client-0/data/bad.fasta" --threads=1 \
    --wait_seconds=30 >"${work}/bad.log" 2>&1; then
  fail "a client with a duplicated taxon in its file was accepted"
fi
grep -q "bad.fasta: line 5: taxon 'Pan' appears twice" "${work}/bad.log" ||
  fail "the refusal does not name the file, line and taxon"
grep -q "event=training_progress" "${work}/bad.log" &&
  fail "the client with a bad file trained"
echo "PASS"
