#ifndef EPGFN_COMMON_SAMPLING_TRAJECTORY_BATCH_H_
#define EPGFN_COMMON_SAMPLING_TRAJECTORY_BATCH_H_

#include <torch/types.h>

#include <cstdint>

namespace epgfn {

// A batch of complete trajectories, time-major. Trajectory b takes
// lengths[b] actions; its last one is exit. Steps at or past lengths[b] are
// padding (step_mask false, action 0, state repeated).
struct Trajectories {
  torch::Tensor states;           // [T + 1, B, raw_state_dim] int64
  torch::Tensor actions;          // [T, B] int64
  torch::Tensor step_mask;        // [T, B] bool
  torch::Tensor lengths;          // [B] int64
  torch::Tensor terminal_states;  // [B, raw_state_dim] int64

  int64_t batch_size() const { return lengths.size(0); }
  int64_t max_steps() const { return actions.size(0); }
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_TRAJECTORY_BATCH_H_
