#ifndef EPGFN_TESTS_BENCH_MCMC_REPORT_H_
#define EPGFN_TESTS_BENCH_MCMC_REPORT_H_

// tree_reference's MCMC runs: chunks of steps until ASDSF and (with exact
// clade frequencies) agreement are met or the budget is spent, each check a
// table row; and the tables of the most frequent clades.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_mcmc.h"

namespace epgfn {

struct McmcRunOptions {
  double budget_seconds = 120;  // of sampling, the checks excluded
  double agreement = 0.02;      // max |clade frequency - exact| that agrees
  int64_t check_every = 2000;   // steps per chain between checks
};

struct McmcCurve {
  double seconds_to_asdsf = -1;      // ASDSF <= 0.01
  double seconds_to_agreement = -1;  // max |f - exact| <= agreement
  int64_t steps_to_asdsf = -1;
  ConvergencePoint last;
  double last_error = -1;
  CladeFrequencies pooled;
};

// Runs `mcmc` in chunks until both thresholds are met (or the budget),
// timing the sampler only, printing a row per check (doubling the steps
// between rows) and a line of acceptance and throughput. `exact` may be
// null (no agreement column).
absl::StatusOr<McmcCurve> RunMcmc(TreeMcmc& mcmc, const CladeFrequencies* exact,
                                  const McmcRunOptions& options);

// The `count` most frequent clades of `f` as a table, with their frequency
// in `exact` (a second column named `other`) when it is not null.
void PrintTopClades(const CladeFrequencies& f, const CladeFrequencies* exact,
                    const std::vector<std::string>& names, int count,
                    const char* label = "MCMC", const char* other = "exact");

// "12.3 s", or "not reached" for a negative time.
std::string Time(double seconds);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_MCMC_REPORT_H_
