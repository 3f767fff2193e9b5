#ifndef EPGFN_COMMON_LOSS_TRAJECTORY_BALANCE_H_
#define EPGFN_COMMON_LOSS_TRAJECTORY_BALANCE_H_

#include "common/loss/balance_loss.h"

namespace epgfn {

// Malkin et al. (2022): (log Z + log p_F(t) - log R(x) - log p_B(t|x))^2.
class TrajectoryBalanceLoss : public BalanceLoss {
 public:
  torch::Tensor Compute(const BalanceInputs& inputs) const override;
  std::string name() const override { return "trajectory_balance"; }
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_LOSS_TRAJECTORY_BALANCE_H_
