#include "common/train/trajectory_target.h"

#include "absl/strings/str_cat.h"

namespace epgfn {

torch::Tensor RewardTarget::LogTarget(const Trajectories& trajectories) {
  torch::NoGradGuard no_grad;
  return (*reward_)(trajectories.terminal_states);
}

at::Tensor ProductOfRewards::operator()(
    const at::Tensor& terminal_states) const {
  at::Tensor total = (*factors_.at(0))(terminal_states);
  for (size_t i = 1; i < factors_.size(); ++i) {
    total = total + (*factors_[i])(terminal_states);
  }
  return total;
}

at::Tensor ProductOfRewards::LogRewardFloat64(
    const at::Tensor& terminal_states) const {
  at::Tensor total = factors_.at(0)->LogRewardFloat64(terminal_states);
  for (size_t i = 1; i < factors_.size(); ++i) {
    total = total + factors_[i]->LogRewardFloat64(terminal_states);
  }
  return total;
}

std::string ProductOfRewards::Describe() const {
  return absl::StrCat("product of ", factors_.size(), " rewards");
}

}  // namespace epgfn
