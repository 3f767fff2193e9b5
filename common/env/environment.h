#ifndef EPGFN_COMMON_ENV_ENVIRONMENT_H_
#define EPGFN_COMMON_ENV_ENVIRONMENT_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment_config.h"

namespace epgfn {

// A pointed DAG of partial objects, processed in batches.
//
// A state is one row of an int64 tensor [batch, raw_state_dim]; every method
// takes and returns tensors on the device of its input, so the same
// environment serves CPU and CUDA policies. Forward actions are indexed
// 0..num_forward_actions()-1 and the last one is always "exit": taking it in
// state x ends the trajectory and makes x the sampled object. Backward actions
// undo non-exit forward actions. Rewards are separate objects (LogReward)
// because each federated client holds its own reward on the same graph.
class Environment {
 public:
  virtual ~Environment() = default;

  virtual const EnvironmentConfig& config() const = 0;

  virtual int64_t raw_state_dim() const = 0;
  // Width of the float encoding the policy network reads.
  virtual int64_t encoding_dim() const = 0;
  virtual int64_t num_forward_actions() const = 0;
  virtual int64_t num_backward_actions() const = 0;
  // Upper bound on the number of forward actions (exit included) in any
  // trajectory.
  virtual int64_t max_trajectory_length() const = 0;

  int64_t exit_action() const { return num_forward_actions() - 1; }

  // [batch, raw_state_dim] copies of the source state s0.
  virtual at::Tensor InitialStates(int64_t batch, c10::Device device) const = 0;
  // [batch, encoding_dim] float32 encoding of states.
  virtual at::Tensor Encode(const at::Tensor& states) const = 0;
  // [batch, num_forward_actions] bool: the actions allowed in each state.
  // Every state allows at least one action.
  virtual at::Tensor ForwardMask(const at::Tensor& states) const = 0;
  // [batch, num_backward_actions] bool: all false exactly at s0.
  virtual at::Tensor BackwardMask(const at::Tensor& states) const = 0;
  // Applies one allowed non-exit forward action per row.
  virtual at::Tensor Step(const at::Tensor& states,
                          const at::Tensor& actions) const = 0;
  // Applies one allowed backward action per row.
  virtual at::Tensor BackwardStep(const at::Tensor& states,
                                  const at::Tensor& backward_actions) const = 0;
  // The backward action that undoes `forward_actions` (non-exit), taken from
  // the child states `next_states` that those actions produced.
  virtual at::Tensor BackwardActionOf(
      const at::Tensor& next_states,
      const at::Tensor& forward_actions) const = 0;

  // The forward action that leads back to `states` from the parents that
  // `backward_actions` produce (inverse of BackwardActionOf).
  virtual at::Tensor ForwardActionOf(
      const at::Tensor& states, const at::Tensor& backward_actions) const = 0;

  // All terminal states (objects) when the instance is small enough to
  // enumerate, else FailedPrecondition. Used for exact evaluation.
  virtual absl::StatusOr<at::Tensor> EnumerateTerminalStates() const = 0;

  // Human-readable form of one state (a row of raw_state_dim values).
  virtual std::string Describe(const at::Tensor& state) const = 0;
};

// The log-reward of complete objects: [batch, raw_state_dim] -> [batch], on
// the device of the input.
class LogReward {
 public:
  virtual ~LogReward() = default;
  // float32, what training uses.
  virtual at::Tensor operator()(const at::Tensor& terminal_states) const;
  // float64: exact references (enumeration, dynamic programmes) use this,
  // because log-rewards of -10^4 round to steps of 1e-3 in float32.
  virtual at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const = 0;
  // Describes the reward for logs ("hypergrid client 2 of 4").
  virtual std::string Describe() const = 0;
};

inline at::Tensor LogReward::operator()(
    const at::Tensor& terminal_states) const {
  return LogRewardFloat64(terminal_states).to(at::kFloat);
}

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_ENVIRONMENT_H_
