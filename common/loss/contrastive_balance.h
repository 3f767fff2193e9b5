#ifndef EPGFN_COMMON_LOSS_CONTRASTIVE_BALANCE_H_
#define EPGFN_COMMON_LOSS_CONTRASTIVE_BALANCE_H_

#include "common/loss/balance_loss.h"

namespace epgfn {

// EP-GFlowNets' contrastive balance: for pairs (t, t') formed from the two
// halves of the batch, (d(t) - d(t'))^2 with d = log p_F - log p_B - log R.
// log Z cancels, so none is learned. An odd last trajectory is left unpaired.
class ContrastiveBalanceLoss : public BalanceLoss {
 public:
  torch::Tensor Compute(const BalanceInputs& inputs) const override;
  std::string name() const override { return "contrastive_balance"; }
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_LOSS_CONTRASTIVE_BALANCE_H_
