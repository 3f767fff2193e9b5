#include "common/env/environment_registry.h"

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(EnvironmentRegistryTest, BuildsRegisteredKindsAndTheirRewards) {
  auto config = EnvironmentConfig::Parse("hypergrid:dim=3,side=5");
  ASSERT_TRUE(config.ok());
  auto environment = MakeEnvironment(*config);
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ((*environment)->raw_state_dim(), 3);
  auto reward =
      MakeSplitLogReward(**environment, *RewardConfig::Parse("standard"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_FALSE(EnvironmentHelp().empty());
}

TEST(EnvironmentRegistryTest, RegistersExactlyTheFiveEnvironments) {
  EXPECT_EQ(RegisteredEnvironmentKinds(),
            (std::vector<std::string>{"dag", "hypergrid", "multiset", "phylo",
                                      "sequence"}));
}

TEST(EnvironmentRegistryTest, ComposesThePriorsShareFromTheFederation) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse("hypergrid"));
  ASSERT_TRUE(environment.ok());
  at::Tensor states = torch::tensor({{0, 0}, {3, 5}, {7, 7}}, torch::kInt64);
  auto standard = MakeLogReward(**environment, *RewardConfig::Parse("standard"),
                                RewardContext{1});
  ASSERT_TRUE(standard.ok()) << standard.status();
  // In a 4-client federation, client i's reward is a quarter of the prior
  // (the standard reward) plus its own factor -|z - c_i|^2, c_i the corner
  // whose bits are i and z = x / 7.
  const double corners[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  at::Tensor z = states.to(torch::kFloat64) / 7.0;
  for (int i = 0; i < 4; ++i) {
    auto client = MakeLogReward(
        **environment,
        *RewardConfig::Parse("client:count=4,index=" + std::to_string(i)),
        RewardContext{4});
    ASSERT_TRUE(client.ok()) << client.status();
    at::Tensor corner =
        torch::tensor({corners[i][0], corners[i][1]}, torch::kFloat64);
    at::Tensor expected = (*standard)->LogRewardFloat64(states) / 4.0 -
                          (z - corner).pow(2).sum(1);
    EXPECT_TRUE(torch::allclose((*client)->LogRewardFloat64(states), expected,
                                0, 1e-12))
        << "client " << i;
  }
  // The temperature divides the whole reward.
  auto tempered = MakeLogReward(
      **environment,
      *RewardConfig::Parse("client:count=4,index=1,temperature=4"),
      RewardContext{4});
  auto plain = MakeLogReward(**environment,
                             *RewardConfig::Parse("client:count=4,index=1"),
                             RewardContext{4});
  ASSERT_TRUE(tempered.ok() && plain.ok());
  EXPECT_TRUE(torch::allclose((*tempered)->LogRewardFloat64(states) * 4.0,
                              (*plain)->LogRewardFloat64(states), 0, 1e-12));
}

TEST(EnvironmentRegistryTest, ASplitThatDisagreesWithTheFederationIsRefused) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse("hypergrid"));
  ASSERT_TRUE(environment.ok());
  auto refused = MakeLogReward(**environment,
                               *RewardConfig::Parse("client:index=0,count=3"),
                               RewardContext{4});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("federation has 4 clients"),
            std::string::npos)
      << refused.status();
  EXPECT_TRUE(MakeSplitLogReward(**environment,
                                 *RewardConfig::Parse("client:index=2,count=3"))
                  .ok());
}

// A stream's blocks: the first carries the whole prior (count is the number
// of blocks, not a federation's size), later ones only their likelihood, and
// both are tempered by the same T.
TEST(EnvironmentRegistryTest, StreamingRewardsSplitPriorAndLikelihood) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse("hypergrid"));
  ASSERT_TRUE(environment.ok());
  at::Tensor states = torch::tensor({{0, 0}, {3, 5}, {7, 7}}, torch::kInt64);
  auto prior = MakeLogReward(**environment, *RewardConfig::Parse("standard"),
                             RewardContext{1});
  ASSERT_TRUE(prior.ok()) << prior.status();
  const RewardConfig block =
      *RewardConfig::Parse("client:index=1,count=4,temperature=2");
  auto initial =
      MakeStreamingInitialReward(**environment, block, RewardContext{1});
  ASSERT_TRUE(initial.ok()) << initial.status();
  auto likelihood =
      MakeStreamingLikelihood(**environment, block, RewardContext{1});
  ASSERT_TRUE(likelihood.ok()) << likelihood.status();
  auto federated = MakeLogReward(**environment, block, RewardContext{4});
  ASSERT_TRUE(federated.ok()) << federated.status();
  const at::Tensor prior_values = (*prior)->LogRewardFloat64(states);
  const at::Tensor likelihood_values = (*likelihood)->LogRewardFloat64(states);
  EXPECT_TRUE(at::allclose((*initial)->LogRewardFloat64(states),
                           prior_values / 2.0 + likelihood_values));
  EXPECT_TRUE(at::allclose((*federated)->LogRewardFloat64(states),
                           prior_values / 8.0 + likelihood_values));
  // The likelihood is a real factor: corner 1's term varies over states.
  EXPECT_GT((likelihood_values.max() - likelihood_values.min()).item<double>(),
            0.05);
  // In a federation of 3 the first block carries a third of the prior.
  auto federated_initial =
      MakeStreamingInitialReward(**environment, block, RewardContext{3});
  ASSERT_TRUE(federated_initial.ok()) << federated_initial.status();
  EXPECT_TRUE(at::allclose((*federated_initial)->LogRewardFloat64(states),
                           prior_values / 6.0 + likelihood_values));
  EXPECT_FALSE(
      MakeStreamingLikelihood(**environment, block, RewardContext{0}).ok());
}

TEST(EnvironmentRegistryTest, CanonicalConfigsCompareEqual) {
  auto with_defaults = MakeEnvironment(*EnvironmentConfig::Parse("hypergrid"));
  auto explicit_params =
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:side=8,dim=2"));
  ASSERT_TRUE(with_defaults.ok() && explicit_params.ok());
  EXPECT_EQ((*with_defaults)->config(), (*explicit_params)->config());
  EXPECT_EQ((*with_defaults)->config().ToString(), "hypergrid:dim=2,side=8");
}

// An environment that calls itself `kind` but is of none of the registered
// classes.
class Impostor : public Environment {
 public:
  explicit Impostor(std::string kind) : config_{std::move(kind), {}} {}
  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return 1; }
  int64_t encoding_dim() const override { return 1; }
  int64_t num_forward_actions() const override { return 1; }
  int64_t num_backward_actions() const override { return 1; }
  int64_t max_trajectory_length() const override { return 1; }
  at::Tensor InitialStates(int64_t, c10::Device) const override { return {}; }
  at::Tensor Encode(const at::Tensor&) const override { return {}; }
  at::Tensor ForwardMask(const at::Tensor&) const override { return {}; }
  at::Tensor BackwardMask(const at::Tensor&) const override { return {}; }
  at::Tensor Step(const at::Tensor&, const at::Tensor&) const override {
    return {};
  }
  at::Tensor BackwardStep(const at::Tensor&, const at::Tensor&) const override {
    return {};
  }
  at::Tensor BackwardActionOf(const at::Tensor&,
                              const at::Tensor&) const override {
    return {};
  }
  at::Tensor ForwardActionOf(const at::Tensor&,
                             const at::Tensor&) const override {
    return {};
  }
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override {
    return at::Tensor();
  }
  std::string Describe(const at::Tensor&) const override { return ""; }

 private:
  EnvironmentConfig config_;
};

// The factories' typed check (TypedEnvironmentFactory), once for every
// registered kind: a reward is only built for an environment of the
// registered class, not for one that merely carries the kind's name (this
// replaces a copy of the impostor in the multiset and sequence tests).
TEST(EnvironmentRegistryTest, RewardForAnotherEnvironmentIsRefused) {
  for (const std::string& kind : RegisteredEnvironmentKinds()) {
    Impostor impostor(kind);
    auto reward = MakeSplitLogReward(impostor, *RewardConfig::Parse("utility"));
    ASSERT_FALSE(reward.ok()) << kind;
    EXPECT_EQ(reward.status().code(), absl::StatusCode::kInvalidArgument)
        << kind;
    EXPECT_NE(reward.status().message().find("of another class"),
              std::string::npos)
        << kind << ": " << reward.status();
  }
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
