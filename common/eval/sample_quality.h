#ifndef EPGFN_COMMON_EVAL_SAMPLE_QUALITY_H_
#define EPGFN_COMMON_EVAL_SAMPLE_QUALITY_H_

#include <cstdint>

#include <torch/types.h>

#include "common/eval/exact_distribution.h"

namespace epgfn {

// Mean of the k largest log-rewards ([N], any float dtype), or of all of them
// when N < k. Pass rewards of distinct objects: duplicates would let one
// object fill the top k. Requires N >= 1 and k >= 1.
double TopKMeanLogReward(const torch::Tensor& log_rewards_of_distinct_samples,
                         int64_t k);

// The distinct rows of an int64 [N, D] tensor, in unspecified order.
torch::Tensor UniqueRows(const torch::Tensor& states);

// How many distinct rows of `mode_states` ([K, D]) occur among the rows of
// `samples` ([N, D]); both int64 on any device.
int64_t CountModesFound(const torch::Tensor& samples,
                        const torch::Tensor& mode_states);

// The terminal states of `target` whose probability is at least
// `relative_threshold` times the largest one ([K, raw_state_dim] int64, CPU,
// in enumeration order). A threshold of 1 keeps exactly the argmax set.
torch::Tensor ModeStates(const TerminalDistribution& target,
                         double relative_threshold);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_SAMPLE_QUALITY_H_
