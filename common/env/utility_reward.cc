#include "common/env/utility_reward.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<UtilityRewardChoice> ReadUtilityRewardChoice(
    absl::string_view environment, const RewardConfig& config) {
  const ParamMap& params = config.params;
  UtilityRewardChoice choice;
  if (config.kind == "utility") {
    RETURN_IF_ERROR(params.CheckKeys({"seed", "scale"}));
  } else if (config.kind == "client") {
    RETURN_IF_ERROR(params.CheckKeys({"index", "count", "seed", "scale"}));
    ASSIGN_OR_RETURN(choice.client, ReadClientShare(params));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown ", environment, " reward kind '", config.kind,
                     "'; expected 'utility' or 'client'"));
  }
  ASSIGN_OR_RETURN(choice.seed, ReadRewardSeed(params));
  ASSIGN_OR_RETURN(choice.scale, params.GetDouble("scale", 1.0, 0.0, 1e6));
  return choice;
}

std::string DescribeUtilityReward(absl::string_view environment,
                                  const UtilityRewardChoice& choice) {
  const std::string drawn =
      absl::StrCat(" (seed ", choice.seed, ", scale ", choice.scale, ")");
  if (!choice.client.has_value()) {
    return absl::StrCat(environment, " utility reward", drawn);
  }
  return absl::StrCat(environment, " client reward ", choice.client->index,
                      " of ", choice.client->count, drawn);
}

}  // namespace epgfn
