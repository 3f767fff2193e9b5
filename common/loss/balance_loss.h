#ifndef EPGFN_COMMON_LOSS_BALANCE_LOSS_H_
#define EPGFN_COMMON_LOSS_BALANCE_LOSS_H_

#include <memory>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

// What every balance loss reads: per-step log-probabilities of a batch of
// trajectories under the policy being trained, and the log-target of each
// trajectory. For local training the target is log R(x); for aggregation it
// is sum_i [log p_F^i(t) - log p_B^i(t|x)] (the aggregating balance loss is
// the contrastive loss with that target).
struct BalanceInputs {
  const Trajectories* trajectories;
  const TrajectoryLogProbs* log_probs;
  torch::Tensor log_target;  // [B]
  torch::Tensor log_z;       // scalar parameter; used by trajectory balance
};

class BalanceLoss {
 public:
  virtual ~BalanceLoss() = default;
  // Mean loss over the batch, differentiable w.r.t. the policy.
  virtual torch::Tensor Compute(const BalanceInputs& inputs) const = 0;
  virtual bool needs_state_flow() const { return false; }
  virtual std::string name() const = 0;
};

enum class LossKind {
  kTrajectoryBalance,
  kDetailedBalance,
  kContrastiveBalance,
};

// "tb", "db" or "cb" (also the long names).
absl::StatusOr<LossKind> ParseLossKind(absl::string_view name);
std::string LossKindName(LossKind kind);
std::unique_ptr<BalanceLoss> MakeBalanceLoss(LossKind kind);

// log p_F(t) - log p_B(t|x) for each trajectory: the quantity every balance
// condition compares with log R(x) (up to log Z).
torch::Tensor LogForwardOverBackward(const TrajectoryLogProbs& log_probs);

}  // namespace epgfn

#endif  // EPGFN_COMMON_LOSS_BALANCE_LOSS_H_
