#include "common/aggregate/aggregating_balance_target.h"

#include "absl/strings/str_cat.h"
#include "common/loss/balance_loss.h"

namespace epgfn {

std::vector<WeightedPolicy> WeightedPoliciesOf(
    const std::vector<LocalModel>& local_models) {
  std::vector<WeightedPolicy> policies;
  policies.reserve(local_models.size());
  for (const LocalModel& local : local_models) {
    policies.push_back(WeightedPolicy{local.policy, local.weight});
  }
  return policies;
}

AggregatingBalanceTarget::AggregatingBalanceTarget(
    const Environment* environment, std::vector<WeightedPolicy> local_policies,
    Evaluation evaluation)
    : environment_(environment), local_policies_(std::move(local_policies)) {
  std::vector<PolicyNet> policies;
  std::vector<double> weights;
  bool unit_weights = true;
  for (WeightedPolicy& local : local_policies_) {
    local.policy->eval();
    policies.push_back(local.policy);
    weights.push_back(local.weight);
    unit_weights = unit_weights && local.weight == 1.0;
  }
  if (evaluation != Evaluation::kStacked || policies.empty()) return;
  // Models of different architectures keep the per-model passes.
  absl::StatusOr<StackedLocalModels> stacked =
      StackedLocalModels::Create(policies);
  if (!stacked.ok()) return;
  stacked_ = std::move(stacked).value();
  if (!unit_weights) {
    weights_ = torch::tensor(weights, torch::kFloat64)
                   .to(torch::kFloat32)
                   .unsqueeze(1)
                   .to(policies[0]->device());
  }
}

torch::Tensor AggregatingBalanceTarget::LogTarget(
    const Trajectories& trajectories) {
  return stacked_ ? StackedLogTarget(trajectories)
                  : PerModelLogTarget(trajectories);
}

torch::Tensor AggregatingBalanceTarget::StackedLogTarget(
    const Trajectories& trajectories) {
  torch::NoGradGuard no_grad;
  const StackedLocalModels::LogProbSums sums =
      stacked_->Evaluate(*environment_, trajectories);
  torch::Tensor local = sums.log_pf - sums.log_pb;  // [N, B]
  // A factor of exactly 1 changes nothing, so one multiply covers the
  // per-model path's "weight 1 is not multiplied".
  if (weights_.defined()) local = local * weights_;
  // Added model after model, in the per-model path's order.
  torch::Tensor total = local[0];
  for (int64_t i = 1; i < local.size(0); ++i) total = total + local[i];
  return total;
}

torch::Tensor AggregatingBalanceTarget::PerModelLogTarget(
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
  return absl::StrCat("aggregate of ", local_policies_.size(), " local models");
}

}  // namespace epgfn
