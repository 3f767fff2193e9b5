#include "common/env/utility_reward.h"

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace epgfn {
namespace {

RewardConfig Reward(const char* text) {
  absl::StatusOr<RewardConfig> config = RewardConfig::Parse(text);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

TEST(UtilityRewardTest, ReadsTheUtilityKindWithDefaults) {
  absl::StatusOr<UtilityRewardChoice> choice =
      ReadUtilityRewardChoice("multiset", Reward("utility"));
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_EQ(choice->seed, 0);
  EXPECT_EQ(choice->scale, 1.0);
  EXPECT_FALSE(choice->client.has_value());
  EXPECT_EQ(DescribeUtilityReward("multiset", *choice),
            "multiset utility reward (seed 0, scale 1)");
}

TEST(UtilityRewardTest, ReadsTheClientKind) {
  absl::StatusOr<UtilityRewardChoice> choice = ReadUtilityRewardChoice(
      "sequence", Reward("client:index=1,count=3,seed=7,scale=0.5"));
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_EQ(choice->seed, 7);
  EXPECT_EQ(choice->scale, 0.5);
  ASSERT_TRUE(choice->client.has_value());
  EXPECT_EQ(choice->client->index, 1);
  EXPECT_EQ(choice->client->count, 3);
  EXPECT_EQ(DescribeUtilityReward("sequence", *choice),
            "sequence client reward 1 of 3 (seed 7, scale 0.5)");
}

TEST(UtilityRewardTest, RefusesAnUnknownKindNamingTheEnvironment) {
  absl::StatusOr<UtilityRewardChoice> choice =
      ReadUtilityRewardChoice("multiset", Reward("energy"));
  ASSERT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(choice.status().message(),
            "unknown multiset reward kind 'energy'; expected 'utility' or "
            "'client'");
}

TEST(UtilityRewardTest, RefusesKeysOfTheOtherKind) {
  EXPECT_FALSE(
      ReadUtilityRewardChoice("multiset", Reward("utility:index=0")).ok());
  EXPECT_FALSE(
      ReadUtilityRewardChoice("multiset", Reward("client:index=2,count=2"))
          .ok());
}

}  // namespace
}  // namespace epgfn
