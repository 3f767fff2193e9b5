#include "tests/bench/streaming_blocks.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<std::vector<std::unique_ptr<LogReward>>> MakeBlockRewards(
    const Environment& environment, int blocks, const std::string& alignment,
    double temperature) {
  std::vector<std::unique_ptr<LogReward>> block_rewards;
  for (int i = 0; i < blocks; ++i) {
    ASSIGN_OR_RETURN(
        const RewardConfig config,
        RewardConfig::Parse(absl::StrCat(
            "jc69:alignment=", alignment, ",index=", i, ",count=", blocks,
            ",split=contiguous,temperature=", temperature)));
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        i == 0
            ? MakeStreamingInitialReward(environment, config, RewardContext{1})
            : MakeStreamingLikelihood(environment, config, RewardContext{1}));
    std::printf("block %d: %s\n", i, reward->Describe().c_str());
    block_rewards.push_back(std::move(reward));
  }
  return block_rewards;
}

}  // namespace epgfn
