#include "common/env/environment_registry.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(EnvironmentRegistryTest, BuildsRegisteredKindsAndTheirRewards) {
  auto config = EnvironmentConfig::Parse("hypergrid:dim=3,side=5");
  ASSERT_TRUE(config.ok());
  auto environment = MakeEnvironment(*config);
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ((*environment)->raw_state_dim(), 3);
  auto reward = MakeLogReward(**environment, *RewardConfig::Parse("standard"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_FALSE(EnvironmentHelp().empty());
}

TEST(EnvironmentRegistryTest, CanonicalConfigsCompareEqual) {
  auto with_defaults = MakeEnvironment(*EnvironmentConfig::Parse("hypergrid"));
  auto explicit_params =
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:side=8,dim=2"));
  ASSERT_TRUE(with_defaults.ok() && explicit_params.ok());
  EXPECT_EQ((*with_defaults)->config(), (*explicit_params)->config());
  EXPECT_EQ((*with_defaults)->config().ToString(), "hypergrid:dim=2,side=8");
}

TEST(EnvironmentRegistryTest, UnknownKindListsTheRegisteredOnes) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse("nonesuch:a=1"));
  ASSERT_FALSE(environment.ok());
  EXPECT_EQ(environment.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(environment.status().message().find("hypergrid"),
            std::string::npos);
}

}  // namespace
}  // namespace epgfn
