#ifndef EPGFN_COMMON_EVAL_FLOW_CONSISTENCY_H_
#define EPGFN_COMMON_EVAL_FLOW_CONSISTENCY_H_

#include <torch/types.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/random.h"

namespace epgfn {

// Flow Consistency in Subgraphs (FCS; Silva et al., 2024, "Analyzing
// GFlowNets: Stability, Expressiveness, and Assessment"). On a pool of N
// distinct terminal states with log p_T and log R ([N] each), draws
// `num_subsets` subsets S of `subset_size` states (distinct within a subset)
// and returns the mean over them of
//
//   0.5 * sum_{x in S} | p_T(x) / sum_S p_T - R(x) / sum_S R |,
//
// the total variation between p_T and R / Z restricted to S. Unlike a global
// distance it needs neither Z nor the full terminal set, only ratios inside
// small subsets, so it is usable where nothing can be enumerated. It is 0
// exactly when p_T is proportional to R on the pool.
//
// Requires 1 <= subset_size <= N and num_subsets >= 1.
double FlowConsistencyInSubgraphs(const torch::Tensor& log_terminal_probability,
                                  const torch::Tensor& log_reward,
                                  int64_t subset_size, int64_t num_subsets,
                                  RandomSource& random);

struct FcsOptions {
  // Trajectories drawn from p_F to collect the pool; repeats are merged.
  int64_t num_samples = 1024;
  int64_t subset_size = 8;
  int64_t num_subsets = 256;
  // Backward samples per state for EstimateLogTerminalProbability.
  int64_t num_backward_samples = 64;
};

// Backward paths per object in the FCS the daemons report (the client after
// local training, the server after each aggregation): 16 rather than 64
// keeps it at a few percent of a typical training's cost.
inline constexpr int64_t kDaemonFcsBackwardSamples = 16;

// FCS on a pool drawn from the policy itself: samples trajectories on-policy,
// keeps the distinct terminal states, estimates their log p_T by backward
// importance sampling and reads their log R. InvalidArgument when an option
// is out of range or the pool has fewer than subset_size distinct states.
absl::StatusOr<double> SampledFlowConsistency(PolicyNet& policy,
                                              const Environment& environment,
                                              const LogReward& log_reward,
                                              const FcsOptions& options,
                                              RandomSource& random);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_FLOW_CONSISTENCY_H_
