#include "common/loss/trajectory_balance.h"

namespace epgfn {

torch::Tensor TrajectoryBalanceLoss::Compute(const BalanceInputs& inputs) const {
  torch::Tensor residual = inputs.log_z +
                           LogForwardOverBackward(*inputs.log_probs) -
                           inputs.log_target;
  return residual.pow(2).mean();
}

}  // namespace epgfn
