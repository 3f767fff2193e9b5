#ifndef EPGFN_COMMON_ENV_FEDERATED_REWARD_H_
#define EPGFN_COMMON_ENV_FEDERATED_REWARD_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/environment_config.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// The federation's rules for a client's reward, applied in one place for
// every environment:
//   log R_i(x) = (log prior(x) / num_clients + log likelihood_i(x)) / T.
// `config` is the reward as the client typed it: its `temperature` (default
// 1) is read here, and a `count` (the split of one shared dataset that
// experiment binaries use) must equal context.num_clients.
struct FederatedRewardParams {
  double temperature = 1.0;
  // `config` without the parameters this layer consumes, for the environment.
  RewardConfig environment_config;
};
absl::StatusOr<FederatedRewardParams> ReadFederatedRewardParams(
    const RewardConfig& config, const RewardContext& context);

// Composes the parts; InvalidArgument without a likelihood or for
// num_clients < 1.
absl::StatusOr<std::unique_ptr<LogReward>> ComposeFederatedReward(
    RewardParts parts, const RewardContext& context, double temperature);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_FEDERATED_REWARD_H_
