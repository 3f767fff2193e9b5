#ifndef EPGFN_TESTS_BENCH_MCMC_REPORT_H_
#define EPGFN_TESTS_BENCH_MCMC_REPORT_H_

// The tree benches' MCMC runs (tree_reference, phylo_mcmc_agreement): chunks
// of steps until ASDSF and (with a second set of clade frequencies, exact or
// a model's) agreement are met or the budget is spent, each check a table
// row; and the tables of the most frequent clades.

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
  // The header of the column of max abs clade differences to `exact`.
  std::string difference_column = "max abs diff to exact";
  // Stop at ASDSF <= 0.01 alone: `exact` is then what is being checked (a
  // model), not the reference the chains must reach.
  bool stop_at_asdsf = false;
  // A row at every check, rather than doubling the steps between rows.
  bool row_every_check = false;
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

// The `count` clades of `reference` or `other` with the largest frequency in
// either, side by side with the difference other - reference.
void PrintCladeComparison(const CladeFrequencies& reference,
                          const CladeFrequencies& other,
                          const std::vector<std::string>& names, int count,
                          const char* reference_label, const char* other_label);

// "12.3 s", or "not reached" for a negative time.
std::string Time(double seconds);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_MCMC_REPORT_H_
