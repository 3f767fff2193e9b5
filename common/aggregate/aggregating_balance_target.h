#ifndef EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
#define EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_

#include <optional>
#include <vector>

#include "common/aggregate/local_model.h"
#include "common/aggregate/stacked_local_models.h"
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

// Each local model's policy with its weight, in order (weight 0 included).
std::vector<WeightedPolicy> WeightedPoliciesOf(
    const std::vector<LocalModel>& local_models);

// The target of the aggregating balance loss (EP-GFlowNets, Eq. 9), with
// exponents: A(t) = sum_i w_i [log p_F^i(t) - log p_B^i(t|x)]. Training the
// global policy's log p_F - log p_B towards A with the contrastive loss makes
// it sample in proportion to prod_i R_i^{w_i} without evaluating any R_i
// (w_i = 1: the federated posterior). The local models are
// frozen and evaluated batched, under no-grad; the cost is linear in their
// number.
class AggregatingBalanceTarget : public TrajectoryTarget {
 public:
  // How the local models are evaluated on a batch.
  enum class Evaluation {
    // All of them in one stacked pass (StackedLocalModels) when they share
    // one architecture, else one pass per model.
    kStacked,
    // One ComputeTrajectoryLogProbs pass per model (the reference).
    kPerModel,
  };

  // `environment` must outlive the target. The local policies are frozen:
  // the stacked path copies their weights here.
  AggregatingBalanceTarget(const Environment* environment,
                           std::vector<WeightedPolicy> local_policies,
                           Evaluation evaluation = Evaluation::kStacked);

  torch::Tensor LogTarget(const Trajectories& trajectories) override;
  std::string Describe() const override;
  // Whether LogTarget runs the stacked pass.
  bool stacked() const { return stacked_.has_value(); }

 private:
  torch::Tensor PerModelLogTarget(const Trajectories& trajectories);
  torch::Tensor StackedLogTarget(const Trajectories& trajectories);

  const Environment* environment_;
  std::vector<WeightedPolicy> local_policies_;
  std::optional<StackedLocalModels> stacked_;
  torch::Tensor weights_;  // [N, 1]; undefined when every weight is 1
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AGGREGATING_BALANCE_TARGET_H_
