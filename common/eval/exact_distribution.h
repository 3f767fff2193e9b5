#ifndef EPGFN_COMMON_EVAL_EXACT_DISTRIBUTION_H_
#define EPGFN_COMMON_EVAL_EXACT_DISTRIBUTION_H_

#include <cstdint>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"

namespace epgfn {

// A distribution over an enumerated list of terminal states.
struct TerminalDistribution {
  torch::Tensor states;         // [M, raw_state_dim] int64, CPU
  torch::Tensor probabilities;  // [M] float64, CPU, sums to 1
};

// The normalised target R(x) / Z over every terminal state, computed in
// float64 by enumeration. FailedPrecondition when the instance is too large.
absl::StatusOr<TerminalDistribution> ExactTargetDistribution(
    const Environment& environment, const LogReward& log_reward);

// The exact terminal distribution of p_F, by propagating probability mass
// through the state DAG level by level (one batched policy evaluation per
// level). Returned on `terminal_states` (usually the enumerated ones);
// Internal when more than `leak_tolerance` mass ends outside that list.
absl::StatusOr<torch::Tensor> ExactLearnedProbabilities(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, double leak_tolerance = 1e-6);

// Total variation distance 0.5 * sum |p - q| (= L1 / 2).
double TotalVariation(const torch::Tensor& p, const torch::Tensor& q);

// Counts each distinct row of `samples` and returns the empirical
// distribution on `terminal_states`; rows outside that list are ignored.
torch::Tensor EmpiricalDistribution(const torch::Tensor& samples,
                                    const torch::Tensor& terminal_states);

// Convenience: TV between p_F's exact terminal distribution and the target.
absl::StatusOr<double> ExactTotalVariation(PolicyNet& policy,
                                           const Environment& environment,
                                           const TerminalDistribution& target);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_EXACT_DISTRIBUTION_H_
