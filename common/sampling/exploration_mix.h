#ifndef EPGFN_COMMON_SAMPLING_EXPLORATION_MIX_H_
#define EPGFN_COMMON_SAMPLING_EXPLORATION_MIX_H_

#include <ATen/core/Tensor.h>

namespace epgfn {

// probabilities <- (1 - epsilon) * probabilities + epsilon * allowed /
// #allowed, in place, row by row: the epsilon-uniform exploration of the
// behaviour policy. `probabilities` is [R, K] float32 and `mask` [R, K] bool
// (the allowed actions). On a contiguous CPU tensor it runs as one loop
// with the float arithmetic of the five tensor ops it replaces (same values
// bit for bit, exploration_mix_test); elsewhere as those ops.
void MixUniformExploration(at::Tensor& probabilities, const at::Tensor& mask,
                           double epsilon);

// The tensor-op form, on any device (the reference of the test).
void MixUniformExplorationByOps(at::Tensor& probabilities,
                                const at::Tensor& mask, double epsilon);

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_EXPLORATION_MIX_H_
