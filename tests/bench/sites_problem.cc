#include "tests/bench/sites_problem.h"

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/env/environment_registry.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// The IUPAC letter of a nucleotide mask (see alignment.h).
char MaskLetter(int64_t mask) {
  for (char c : std::string("ACGTRYSWKMBDHVN")) {
    if (NucleotideMask(c) == mask) return c;
  }
  return 'N';
}

// FASTA text of `sites` columns of the first `taxa` taxa drawn with
// replacement from `alignment`.
std::string BootstrapFasta(const Alignment& alignment, int taxa, int64_t sites,
                           uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> column(0, alignment.num_sites() - 1);
  std::vector<int64_t> columns(sites);
  for (int64_t& c : columns) c = column(random);
  auto states = alignment.states.accessor<int64_t, 2>();
  std::string fasta;
  for (int t = 0; t < taxa; ++t) {
    absl::StrAppend(&fasta, ">", alignment.taxa[t], "\n");
    std::string row(sites, 'N');
    for (int64_t s = 0; s < sites; ++s)
      row[s] = MaskLetter(states[t][columns[s]]);
    absl::StrAppend(&fasta, row, "\n");
  }
  return fasta;
}

}  // namespace

absl::StatusOr<SitesProblem> MakeSitesProblem(
    const Alignment& alignment, int64_t sites,
    const SitesProblemOptions& options) {
  const int taxa = options.taxa;
  const uint64_t seed = options.seed;
  SitesProblem problem;
  const std::string path =
      absl::StrCat(options.work_dir, "/sites_", sites, ".fasta");
  RETURN_IF_ERROR(WriteFileAtomically(
      path, BootstrapFasta(alignment, taxa, sites, seed * 7919 + sites)));
  std::vector<std::string> names(alignment.taxa.begin(),
                                 alignment.taxa.begin() + taxa);
  ASSIGN_OR_RETURN(problem.environment,
                   MakeEnvironment(*EnvironmentConfig::Parse(absl::StrCat(
                       "phylo:taxa=", absl::StrJoin(names, ";")))));
  const double temperature =
      options.reference_temperature * sites / options.reference_sites;
  problem.params = absl::StrFormat("alignment=%s,temperature=%.6g,compress=%d",
                                   path, temperature, options.compress);
  ASSIGN_OR_RETURN(
      problem.full,
      MakeSplitLogReward(*problem.environment,
                         *RewardConfig::Parse("jc69:" + problem.params)));
  ASSIGN_OR_RETURN(problem.target, ExactTargetDistribution(*problem.environment,
                                                           *problem.full));
  return problem;
}

}  // namespace epgfn
