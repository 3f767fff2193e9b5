#ifndef EPGFN_COMMON_AGGREGATE_AGGREGATE_FLOW_CONSISTENCY_H_
#define EPGFN_COMMON_AGGREGATE_AGGREGATE_FLOW_CONSISTENCY_H_

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/env/environment.h"
#include "common/eval/flow_consistency.h"
#include "common/policy/policy_net.h"
#include "common/sampling/random.h"

namespace epgfn {

// log R_hat(x) = sum_i w_i log p_T^i(x) for each row of `terminal_states`
// ([B, raw_state_dim] int64): the aggregation's own target, the weighted
// product of the local models' terminal distributions, up to its
// normaliser. Each log p_T^i is estimated by backward importance sampling
// (EstimateLogTerminalProbability) with `num_backward_samples` paths per
// state under local i's own p_B. Returns [B] float64 on the CPU.
torch::Tensor EstimateLogLocalProduct(
    std::vector<WeightedPolicy>& local_policies, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random);

// The FCS an aggregator can report without any reward: SampledFlowConsistency
// of `global` (pool drawn from it, its log p_T estimated) against log R_hat
// above instead of a reward. It measures how well aggregation reached the
// product of what the clients learned, not how well they learned their data
// (their own FCS says that). Costs options.num_samples forward trajectories
// and (number of locals + 1) x distinct pool states x num_backward_samples
// backward ones. InvalidArgument as SampledFlowConsistency, and without
// local policies.
absl::StatusOr<double> FlowConsistencyToLocalProduct(
    PolicyNet& global, const Environment& environment,
    std::vector<WeightedPolicy>& local_policies, const FcsOptions& options,
    RandomSource& random);

// FcsOptions with num_samples 0: "no FCS" in the options that carry one.
FcsOptions NoFcs();

// The ranges of the FCS options an aggregation carries: pool sizes
// (fcs.num_samples at the end, `progress_samples` at each progress report)
// >= 0, 0 meaning off; subset_size, num_subsets and num_backward_samples
// >= 1. InvalidArgument naming the values otherwise. The coordinator checks
// at start what the aggregator checks again at each Create.
absl::Status ValidateFcsToLocalProduct(const FcsOptions& fcs,
                                       int64_t progress_samples);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AGGREGATE_FLOW_CONSISTENCY_H_
