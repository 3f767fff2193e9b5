#ifndef EPGFN_TESTS_BENCH_GFN_CLADE_TRACKING_H_
#define EPGFN_TESTS_BENCH_GFN_CLADE_TRACKING_H_

// tree_reference's GFlowNets: trained on a phylo target and judged by their
// clade frequencies, exact (enumerated states) or sampled.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/phylo/phylo_target.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/phylo/splits.h"
#include "common/sampling/random.h"
#include "common/train/trainer.h"

namespace epgfn {

// A CB trainer (MLP 128x2, batch 64, epsilon 0.05) of a fresh policy, put in
// `policy`, on `reward`; seeded by `seed` and `seed` + 1.
absl::StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const PhyloTarget& target,
                                                     int64_t iterations,
                                                     uint64_t seed,
                                                     PolicyNet* policy,
                                                     RewardTarget* reward);

// The clade frequencies of `samples` trees drawn from `policy`.
absl::StatusOr<CladeFrequencies> SampledClades(const PhyloTarget& target,
                                               PolicyNet policy,
                                               int64_t samples,
                                               RandomSource& random);

struct GfnTrackOptions {
  uint64_t seed = 0;
  int64_t iterations = 2000;
  int64_t check_every = 250;  // iterations between checks
  int64_t samples = 4096;     // whose clade frequencies are compared
  double agreement = 0.02;    // max |clade frequency - exact| that agrees
};

// The GFlowNet's side of tree_reference's section 1, as its checks go on.
struct GfnTrack {
  double seconds = 0;  // training only
  double seconds_to_agreement = -1;
  double sampled_seconds_to_agreement = -1;  // training + sampling
  double final_error = -1;                   // exact p_T's clades vs exact
  double final_sampled = -1;                 // sampled clades vs exact
  double vs_mcmc = -1;                       // sampled clades vs the MCMC's
  std::string fcs;  // against the target's reward, at the end
};

// Trains a GFlowNet on the enumerable `target`, printing a table row per
// check: its exact and sampled clade frequencies against `exact_clades` and
// the MCMC's `mcmc_clades`.
absl::StatusOr<GfnTrack> TrackGfn(const PhyloTarget& target,
                                  const TerminalDistribution& exact,
                                  const CladeFrequencies& exact_clades,
                                  const CladeFrequencies& mcmc_clades,
                                  const GfnTrackOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_GFN_CLADE_TRACKING_H_
