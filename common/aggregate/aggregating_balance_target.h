#ifndef EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
#define EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_

#include <vector>

#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

// One term of the aggregating balance target: a frozen local policy and the
// exponent of its reward.
struct WeightedPolicy {
  PolicyNet policy{nullptr};
  double weight = 1.0;
};

// The target of the aggregating balance loss (EP-GFlowNets, Eq. 9), with
// exponents: A(t) = sum_i w_i [log p_F^i(t) - log p_B^i(t|x)]. Training the
// global policy's log p_F - log p_B towards A with the contrastive loss makes
// it sample in proportion to prod_i R_i^{w_i} without evaluating any R_i
// (w_i = 1: the federated posterior). The local models are
// frozen and evaluated batched, under no-grad; the cost is linear in their
// number.
class AggregatingBalanceTarget : public TrajectoryTarget {
 public:
  // `environment` must outlive the target.
  AggregatingBalanceTarget(const Environment* environment,
                           std::vector<WeightedPolicy> local_policies);

  torch::Tensor LogTarget(const Trajectories& trajectories) override;
  std::string Describe() const override;

 private:
  const Environment* environment_;
  std::vector<WeightedPolicy> local_policies_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
