#include "common/aggregate/aggregating_balance_target.h"

#include "absl/strings/str_cat.h"
#include "common/loss/balance_loss.h"

namespace epgfn {

AggregatingBalanceTarget::AggregatingBalanceTarget(
    const Environment* environment, std::vector<PolicyNet> local_policies)
    : environment_(environment), local_policies_(std::move(local_policies)) {
  for (PolicyNet& policy : local_policies_) policy->eval();
}

torch::Tensor AggregatingBalanceTarget::LogTarget(
    const Trajectories& trajectories) {
  torch::NoGradGuard no_grad;
  torch::Tensor total;
  for (PolicyNet& policy : local_policies_) {
    torch::Tensor local = LogForwardOverBackward(
        ComputeTrajectoryLogProbs(policy, *environment_, trajectories));
    total = total.defined() ? total + local : local;
  }
  return total;
}

std::string AggregatingBalanceTarget::Describe() const {
  return absl::StrCat("aggregate of ", local_policies_.size(),
                      " local models");
}

}  // namespace epgfn
