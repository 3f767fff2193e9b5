#ifndef EPGFN_COMMON_SAMPLING_FLAT_STEPS_H_
#define EPGFN_COMMON_SAMPLING_FLAT_STEPS_H_

#include <torch/types.h>

#include <cstdint>

#include "common/env/environment.h"
#include "common/sampling/trajectory_batch.h"

namespace epgfn {

// A batch's steps laid out flat, index t * B + b: the layout in which a
// policy is evaluated once over every visited state and its per-row results
// are put back per trajectory. One policy (ComputeTrajectoryLogProbs, the
// rollout's own passes) and N stacked local models (aggregation) read their
// log-probabilities through the same bookkeeping.
struct FlatSteps {
  int64_t num_steps = 0;  // T
  int64_t batch = 0;      // B
  torch::Tensor states;   // [T * B, raw_state_dim]: s_t of every flat step
  torch::Tensor actions;  // [T * B]
  // Ascending flat indices of the steps taken; the policy's rows are
  // states[visited], in this order.
  torch::Tensor visited;
  // Flat indices of the steps taken that are not exit. Each one's child
  // s_{t+1} sits at index + batch and is itself visited.
  torch::Tensor moves;
  torch::Tensor children;       // [moves, raw_state_dim]: states[moves + B]
  torch::Tensor backward_mask;  // BackwardMask(children)

  int64_t flat() const { return num_steps * batch; }
  // The states the policy is evaluated on: states[visited].
  torch::Tensor VisitedStates() const;
  // For each move, the row of its child among VisitedStates(), to read a
  // learned p_B from the same pass.
  torch::Tensor ChildRows() const;
  // The actions taken at the moves, for the environment's BackwardActionOf.
  torch::Tensor MoveActions() const;
  // log of a uniform p_B at each move: -log(number of parents).
  torch::Tensor UniformLogPb() const;
  // [T, B] float32, `values` at the flat `index`, zero elsewhere.
  torch::Tensor PerStep(const torch::Tensor& index,
                        const torch::Tensor& values) const;
};

// `visited`: the flat indices of the steps taken when the caller already has
// them (the rollout records them), else undefined to compute them from the
// step mask.
FlatSteps FlattenSteps(const Environment& environment,
                       const Trajectories& trajectories,
                       torch::Tensor visited = torch::Tensor());

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_FLAT_STEPS_H_
