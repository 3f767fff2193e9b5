#ifndef EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_
#define EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_

#include <cstdint>

#include <torch/types.h>

#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/random.h"

namespace epgfn {

// Estimates log p_T(x), the probability that p_F ends its trajectory at x,
// for each row of `terminal_states` ([B, raw_state_dim] int64), without
// enumerating the state graph:
//
//   p_T(x) = E_{t ~ p_B(.|x)} [p_F(t) / p_B(t | x)]
//          ~ (1/M) sum_m p_F(t_m) / p_B(t_m | x),
//
// with M = `num_backward_samples` trajectories drawn backwards from each x
// under the policy's p_B (uniform or learned). The estimate of p_T is
// unbiased for any p_B whose support covers every path into x; its log is
// biased low by Jensen's inequality, vanishingly so as M grows. When the
// graph is a tree (p_B = 1), M = 1 is exact.
//
// Returns [B] float64 on the CPU. Requires num_backward_samples >= 1.
torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_
