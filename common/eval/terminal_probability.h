#ifndef EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_
#define EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_

#include <torch/types.h>

#include <cstdint>

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
// The B * M paths are rolled out and scored in passes of
// BackwardTrajectoriesPerPass(policy, environment) rows.
//
// Returns [B] float64 on the CPU. Requires num_backward_samples >= 1.
torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random);

// The same in passes of `trajectories_per_pass` (>= 1) rows. Passes consume
// the random stream pass by pass, so a different pass size gives different
// (equally valid) samples unless one pass covers all B * M paths.
torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random, int64_t trajectories_per_pass);

// How many backward paths one pass holds: as many as fit
// kBackwardPassBudgetBytes at an estimated width per visited state (raw
// state copies, encoding, two hidden layers, forward and backward logits,
// masks and log-softmaxes) over max_trajectory_length() + 1 states, clamped
// to [1, kMaxTrajectoriesPerPass]. Small environments get the maximum.
inline constexpr int64_t kBackwardPassBudgetBytes = int64_t{1} << 30;
inline constexpr int64_t kMaxTrajectoriesPerPass = int64_t{1} << 15;
int64_t BackwardTrajectoriesPerPass(const PolicyNet& policy,
                                    const Environment& environment);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_TERMINAL_PROBABILITY_H_
