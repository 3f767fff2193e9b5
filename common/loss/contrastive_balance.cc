#include "common/loss/contrastive_balance.h"

namespace epgfn {

torch::Tensor ContrastiveBalanceLoss::Compute(const BalanceInputs& inputs) const {
  torch::Tensor deviation =
      LogForwardOverBackward(*inputs.log_probs) - inputs.log_target;
  const int64_t half = deviation.size(0) / 2;
  TORCH_CHECK(half > 0, "contrastive balance needs at least two trajectories");
  return (deviation.narrow(0, 0, half) - deviation.narrow(0, half, half))
      .pow(2)
      .mean();
}

}  // namespace epgfn
