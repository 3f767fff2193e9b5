#ifndef EPGFN_TESTS_BENCH_SITES_ACCURACY_H_
#define EPGFN_TESTS_BENCH_SITES_ACCURACY_H_

// The sites-scaling benchmark's time-to-accuracy mode (issue 14): the
// centralized GFlowNet and the federation each train until the exact TV of
// their model to the full-data target, averaged over the last
// AccuracyRule::window evaluations (one every eval_every iterations), is at
// most AccuracyRule::target_tv. Times are the training thread's CPU
// seconds without the exact evaluations (reported apart).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "tests/bench/accuracy_schedule.h"
#include "tests/bench/sites_problem.h"

namespace epgfn {

struct AccuracyOptions {
  AccuracyRule rule;
  int64_t eval_every = 10;
  int64_t centralized_cap = 4000;
  // Federated rounds: the clients train local_start iterations, then the
  // aggregation up to aggregation_cap (per round) or until a plateau; on a
  // plateau the clients resume to local_growth times their iterations
  // (rounded up to a multiple of eval_every, at most local_cap) and the
  // aggregation continues from the current global model.
  int64_t local_start = 300;
  int64_t local_cap = 4800;
  double local_growth = 1.5;
  int64_t aggregation_cap = 2000;
  int64_t batch_size = 64;
  uint64_t seed = 0;
};

struct CentralizedToAccuracy {
  int64_t iterations = 0;
  double seconds = 0;             // training CPU s
  double evaluation_seconds = 0;  // exact TV evaluations, not in `seconds`
  // The smoothed TV (mean of the last window) at the stop, the best one if
  // not reached; and the last evaluation's own TV.
  double total_variation = 1;
  double last_tv = 1;
  bool reached = false;
};

struct FederatedToAccuracy {
  int64_t local_iterations = 0;  // per client, cumulative over rounds
  int rounds = 0;
  int64_t aggregation_iterations = 0;  // over all rounds
  // Sum over rounds of the slowest client's CPU s in that round (clients
  // train in parallel, each on its own machine).
  double slowest_client = 0;
  double aggregation = 0;
  double evaluation_seconds = 0;
  // As CentralizedToAccuracy's: smoothed (over the last round's window) and
  // last.
  double total_variation = 1;
  double last_tv = 1;
  // Exact TV of the normalised product of the local models to the target
  // (the aggregation's bound), after the last round's local training.
  double local_product_tv = 1;
  bool reached = false;
  double total() const { return slowest_client + aggregation; }
};

absl::StatusOr<CentralizedToAccuracy> TrainCentralizedToAccuracy(
    const Environment& environment, const LogReward& reward,
    const TerminalDistribution& target, const AccuracyOptions& options);

// `rewards`: one per client, whose product is the target's reward.
absl::StatusOr<FederatedToAccuracy> TrainFederatedToAccuracy(
    const Environment& environment,
    const std::vector<std::unique_ptr<LogReward>>& rewards,
    const TerminalDistribution& target, const AccuracyOptions& options);

// One site count's outcome, and the markdown table of all of them.
struct SitesAccuracyRow {
  int64_t sites = 0;
  double target_tv = 0;
  CentralizedToAccuracy centralized;
  FederatedToAccuracy federated;
};
// Both methods to the same exact TV on `problem` (`sites` columns), the
// federation over `clients` contiguous blocks of its sites.
absl::StatusOr<SitesAccuracyRow> RunSitesToAccuracy(
    const SitesProblem& problem, int64_t sites, int clients,
    const AccuracyOptions& options);
void PrintAccuracyTable(const std::vector<SitesAccuracyRow>& rows);

// time_to_accuracy_vs_sites.png (and .tsv) under `png_dir`.
absl::Status WriteAccuracyFigure(const std::vector<SitesAccuracyRow>& rows,
                                 const std::string& png_dir);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_SITES_ACCURACY_H_
