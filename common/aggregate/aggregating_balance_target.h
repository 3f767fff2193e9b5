#ifndef EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
#define EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_

#include <vector>

#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

// The target of the aggregating balance loss (EP-GFlowNets, Eq. 9):
// A(t) = sum_i [log p_F^i(t) - log p_B^i(t|x)]. Training the global policy's
// log p_F - log p_B towards A with the contrastive loss makes it sample in
// proportion to prod_i R_i without evaluating any R_i. The local models are
// frozen and evaluated batched, under no-grad; the cost is linear in their
// number.
class AggregatingBalanceTarget : public TrajectoryTarget {
 public:
  // `environment` must outlive the target.
  AggregatingBalanceTarget(const Environment* environment,
                           std::vector<PolicyNet> local_policies);

  torch::Tensor LogTarget(const Trajectories& trajectories) override;
  std::string Describe() const override;

 private:
  const Environment* environment_;
  std::vector<PolicyNet> local_policies_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
