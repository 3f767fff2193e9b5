#include "common/aggregate/aggregating_balance_target.h"

#include "absl/strings/str_cat.h"
#include "common/loss/balance_loss.h"

namespace epgfn {

AggregatingBalanceTarget::AggregatingBalanceTarget(
    const Environment* environment, std::vector<WeightedPolicy> local_policies)
    : environment_(environment), local_policies_(std::move(local_policies)) {
  for (WeightedPolicy& local : local_policies_) local.policy->eval();
}

torch::Tensor AggregatingBalanceTarget::LogTarget(
    const Trajectories& trajectories) {
  torch::NoGradGuard no_grad;
  torch::Tensor total;
  for (WeightedPolicy& weighted : local_policies_) {
    torch::Tensor local = LogForwardOverBackward(ComputeTrajectoryLogProbs(
        weighted.policy, *environment_, trajectories));
    // Weight 1 is not multiplied, so that the plain product stays bit for bit
    // what it was before exponents existed.
    if (weighted.weight != 1.0) local = local * weighted.weight;
    total = total.defined() ? total + local : local;
  }
  return total;
}

std::string AggregatingBalanceTarget::Describe() const {
  return absl::StrCat("aggregate of ", local_policies_.size(),
                      " local models");
}

}  // namespace epgfn
