#ifndef EPGFN_COMMON_LOSS_DETAILED_BALANCE_H_
#define EPGFN_COMMON_LOSS_DETAILED_BALANCE_H_

#include "common/loss/balance_loss.h"

namespace epgfn {

// Bengio et al. (2023): for every transition s -> s',
// (log F(s) + log p_F(s'|s) - log F(s') - log p_B(s|s'))^2, and for the exit
// from x, (log F(x) + log p_F(exit|x) - log R(x))^2; averaged over all
// transitions of the batch. Needs the policy's state-flow head.
class DetailedBalanceLoss : public BalanceLoss {
 public:
  torch::Tensor Compute(const BalanceInputs& inputs) const override;
  bool needs_state_flow() const override { return true; }
  std::string name() const override { return "detailed_balance"; }
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_LOSS_DETAILED_BALANCE_H_
