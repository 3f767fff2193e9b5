#ifndef EPGFN_COMMON_POLICY_MASKED_SOFTMAX_H_
#define EPGFN_COMMON_POLICY_MASKED_SOFTMAX_H_

#include <torch/types.h>

namespace epgfn {

// The policy's action distribution over few actions per row, as the rollout
// and the loss use it, in one pass per row.
//
// Both are MaskedLogSoftmax (policy_net.h) followed by what its callers did
// with it: exp() for the rollout's sampler, gather() of the taken action for
// the loss. As LibTorch ops that was 3-4 ops per call on [rows, a few]
// tensors, and ATen's log_softmax alone costs ~140 ns a row at 3 actions
// (its vector kernel is built for rows of 8 floats or more): ~28 us per
// rollout step at batch 256. On contiguous CPU float32 rows of fewer than 8
// actions they run as one loop over the rows instead: the same formula
// (masked entries are kMaskedLogit, then x - max - log(sum exp(x - max)),
// probabilities exp(x - max) / sum), with std::exp/std::log in place of
// ATen's vectorised exp/log, so values agree with the ops to float rounding
// (~1e-7 relative), not bit for bit. Wider rows, other devices, dtypes and
// layouts take the ops.

// exp(MaskedLogSoftmax(logits, mask)): [rows, actions] probabilities.
torch::Tensor MaskedSoftmax(const torch::Tensor& logits,
                            const torch::Tensor& mask);

// MaskedLogSoftmax(logits, mask).gather(1, actions.unsqueeze(1)).squeeze(1):
// each row's log-probability of its action, [rows], differentiable with
// respect to `logits` (the gradient autograd gives that composition: g * (1
// - p) at the action, -g * p at the other allowed entries, 0 at masked ones).
torch::Tensor MaskedLogSoftmaxAt(const torch::Tensor& logits,
                                 const torch::Tensor& mask,
                                 const torch::Tensor& actions);

}  // namespace epgfn

#endif  // EPGFN_COMMON_POLICY_MASKED_SOFTMAX_H_
