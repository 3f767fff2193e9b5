#ifndef EPGFN_COMMON_ENV_UTILITY_REWARD_H_
#define EPGFN_COMMON_ENV_UTILITY_REWARD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/client_share.h"
#include "common/env/environment_config.h"

namespace epgfn {

// The two reward kinds of the environments whose log-reward is a sum of
// seeded utilities (multiset, sequence): "utility[:seed,scale]" and
// "client:index=i,count=N[,seed,scale]". They differ only in the shape of
// the utility table and how a state picks from it, so the parsing, checking
// and description live here once.
struct UtilityRewardChoice {
  int64_t seed = 0;
  double scale = 1.0;
  // Set for the "client" kind: whose utilities to draw.
  std::optional<ClientShare> client;
};

// Reads `config` for the environment called `environment` (as it appears in
// messages); any other kind is InvalidArgument naming both accepted kinds.
absl::StatusOr<UtilityRewardChoice> ReadUtilityRewardChoice(
    absl::string_view environment, const RewardConfig& config);

// "multiset utility reward (seed 3, scale 1)" or
// "multiset client reward 0 of 2 (seed 3, scale 1)".
std::string DescribeUtilityReward(absl::string_view environment,
                                  const UtilityRewardChoice& choice);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_UTILITY_REWARD_H_
