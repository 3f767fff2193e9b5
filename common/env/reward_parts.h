#ifndef EPGFN_COMMON_ENV_REWARD_PARTS_H_
#define EPGFN_COMMON_ENV_REWARD_PARTS_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "common/env/environment.h"

namespace epgfn {

// The two factors of one client's reward that an environment's reward maker
// builds: the federation composes them (see MakeLogReward), so that no
// environment applies the prior's share or the temperature by hand.
struct RewardParts {
  // log prior(x); null where the reward models no prior (a plain factor, or a
  // uniform prior whose constant does not matter).
  std::unique_ptr<LogReward> log_prior;
  // The client's own data term, log likelihood(data_i | x). Never null.
  std::unique_ptr<LogReward> log_likelihood;
};

// Parts of a reward without a modelled prior.
inline RewardParts LikelihoodOnly(std::unique_ptr<LogReward> log_likelihood) {
  RewardParts parts;
  parts.log_likelihood = std::move(log_likelihood);
  return parts;
}

// The federation a reward is built for.
struct RewardContext {
  // FederationSpec.client_ids_size(): each client's reward carries
  // prior^(1 / num_clients), so that the product over clients counts the
  // prior once. 1 for the full-data (centralized) reward.
  int64_t num_clients = 1;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_REWARD_PARTS_H_
