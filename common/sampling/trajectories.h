#ifndef EPGFN_COMMON_SAMPLING_TRAJECTORIES_H_
#define EPGFN_COMMON_SAMPLING_TRAJECTORIES_H_

#include <torch/types.h>

#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/flat_steps.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectory_batch.h"

namespace epgfn {

// How the behaviour policy departs from p_F while sampling training data.
struct ExplorationOptions {
  // With probability epsilon an action is drawn uniformly among the allowed.
  double epsilon = 0.0;
  // Logits are divided by temperature before the softmax.
  double temperature = 1.0;
};

// Rolls out `batch` trajectories from s0 together (one policy forward pass
// per step over the rows still running), without gradients.
Trajectories SampleTrajectories(PolicyNet& policy,
                                const Environment& environment, int64_t batch,
                                const ExplorationOptions& exploration,
                                RandomSource& random);

// Rolls back from each terminal state to s0 under p_B (uniform or learned)
// and returns the trajectories in forward order, ending with exit.
Trajectories SampleBackwardTrajectories(PolicyNet& policy,
                                        const Environment& environment,
                                        const torch::Tensor& terminal_states,
                                        RandomSource& random);

// Per-step log-probabilities of trajectories under a policy; zero at padding.
struct TrajectoryLogProbs {
  torch::Tensor log_pf;    // [T, B]: log p_F(s_{t+1} | s_t), exit included
  torch::Tensor log_pb;    // [T, B]: log p_B(s_t | s_{t+1}); zero for exit
  torch::Tensor log_flow;  // [T, B] log F(s_t), when the policy has the head

  torch::Tensor SumLogPf() const { return log_pf.sum(0); }
  torch::Tensor SumLogPb() const { return log_pb.sum(0); }
};

// One batched forward pass over every visited state. Gradients flow when the
// caller has autograd enabled.
TrajectoryLogProbs ComputeTrajectoryLogProbs(PolicyNet& policy,
                                             const Environment& environment,
                                             const Trajectories& trajectories);

// What ComputeTrajectoryLogProbs computes after its forward pass, for a
// caller that has the policy's outputs already (the upload probe evaluates
// each distinct state once): `output` and `forward_mask` hold one row per
// entry of `steps.visited`, the policy's outputs and ForwardMask there.
TrajectoryLogProbs LogProbsFromOutputs(const Environment& environment,
                                       const FlatSteps& steps,
                                       const PolicyNetImpl::Output& output,
                                       const torch::Tensor& forward_mask);

// On-policy samples with their log-probabilities under the sampling policy.
struct SampledTrajectories {
  Trajectories trajectories;
  TrajectoryLogProbs log_probs;
};

// SampleTrajectories and ComputeTrajectoryLogProbs of its result in one,
// for on-policy training: the same trajectories and random stream as
// SampleTrajectories, and the same log-probabilities (of p_F and p_B
// themselves, not of the exploring behaviour policy), taken from the
// rollout's own policy passes instead of a second forward over every
// visited state. With grad mode on they carry gradients, whose backward is
// one batched pass over all visited states; the policy's parameters must not
// change before it runs. Trajectories from elsewhere (replay, other models)
// use ComputeTrajectoryLogProbs.
SampledTrajectories SampleTrajectoriesWithLogProbs(
    PolicyNet& policy, const Environment& environment, int64_t batch,
    const ExplorationOptions& exploration, RandomSource& random);

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_TRAJECTORIES_H_
