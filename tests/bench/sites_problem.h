#ifndef EPGFN_TESTS_BENCH_SITES_PROBLEM_H_
#define EPGFN_TESTS_BENCH_SITES_PROBLEM_H_

// The sites-scaling benchmark's instance: S columns of an alignment drawn
// with replacement (a seeded bootstrap) for its first taxa, written as
// FASTA, with the JC69 reward over all S sites tempered in proportion to S
// and its exact posterior over the (2n-3)!! rooted topologies.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/phylo/alignment.h"
#include "common/eval/exact_distribution.h"

namespace epgfn {

struct SitesProblemOptions {
  int taxa = 6;
  // temperature = reference_temperature x S / reference_sites.
  double reference_temperature = 20.0;
  double reference_sites = 898.0;
  int compress = 0;
  uint64_t seed = 0;
  std::string work_dir;  // where sites_<S>.fasta goes
};

struct SitesProblem {
  std::unique_ptr<Environment> environment;
  // The reward parameters every client shares (alignment, temperature,
  // compress); a client adds its index and the count.
  std::string params;
  std::unique_ptr<LogReward> full;
  TerminalDistribution target;
};

absl::StatusOr<SitesProblem> MakeSitesProblem(
    const Alignment& alignment, int64_t sites,
    const SitesProblemOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_SITES_PROBLEM_H_
