#ifndef EPGFN_COMMON_TRAIN_TRAJECTORY_TARGET_H_
#define EPGFN_COMMON_TRAIN_TRAJECTORY_TARGET_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "common/env/environment.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

// What a balance loss pushes log p_F(t) - log p_B(t|x) towards, per
// trajectory. Evaluated without gradients.
class TrajectoryTarget {
 public:
  virtual ~TrajectoryTarget() = default;
  virtual torch::Tensor LogTarget(const Trajectories& trajectories) = 0;
  virtual std::string Describe() const = 0;
};

// log R(x) of a reward the trainer may evaluate (a client's own reward, or
// the centralized baseline's product reward).
class RewardTarget : public TrajectoryTarget {
 public:
  explicit RewardTarget(const LogReward* reward) : reward_(reward) {}
  torch::Tensor LogTarget(const Trajectories& trajectories) override;
  std::string Describe() const override { return reward_->Describe(); }

 private:
  const LogReward* reward_;
};

// sum_i log R_i(x): the reward a centralized trainer (which sees every
// client's reward) would use.
class ProductOfRewards : public LogReward {
 public:
  explicit ProductOfRewards(std::vector<const LogReward*> factors)
      : factors_(std::move(factors)) {}
  // The sum of the factors' float32 values (training's reward, as before
  // exact references existed) ...
  at::Tensor operator()(const at::Tensor& terminal_states) const override;
  // ... and of their float64 values.
  at::Tensor LogRewardFloat64(const at::Tensor& terminal_states) const override;
  std::string Describe() const override;

 private:
  std::vector<const LogReward*> factors_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_TRAJECTORY_TARGET_H_
