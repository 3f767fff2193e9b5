#include "common/eval/flow_consistency.h"

#include <torch/types.h>

#include <cmath>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(FlowConsistencyInSubgraphsTest, ZeroWhenProportionalToReward) {
  torch::Tensor log_r = torch::randn({10}, torch::kFloat64);
  RandomSource random(3);
  EXPECT_NEAR(FlowConsistencyInSubgraphs(log_r + 3.7, log_r, 4, 50, random),
              0.0, 1e-12);
}

TEST(FlowConsistencyInSubgraphsTest, TwoStatesByHand) {
  // p_T = (0.1, 0.4) normalises to (0.2, 0.8) and R = (2, 2) to (0.5, 0.5):
  // 0.5 * (|0.2 - 0.5| + |0.8 - 0.5|) = 0.3. A subset drawn with
  // replacement ({0, 0} or {1, 1}) would score 0 and pull the mean down.
  torch::Tensor log_pt =
      torch::tensor({std::log(0.1), std::log(0.4)}, torch::kFloat64);
  torch::Tensor log_r = torch::full({2}, std::log(2.0), torch::kFloat64);
  RandomSource random(1);
  EXPECT_NEAR(FlowConsistencyInSubgraphs(log_pt, log_r, 2, 100, random), 0.3,
              1e-12);
}

TEST(FlowConsistencyInSubgraphsTest, WholePoolIsTotalVariation) {
  torch::Tensor log_pt = torch::randn({6}, torch::kFloat64);
  torch::Tensor log_r = torch::randn({6}, torch::kFloat64);
  RandomSource random(2);
  EXPECT_NEAR(
      FlowConsistencyInSubgraphs(log_pt, log_r, 6, 5, random),
      TotalVariation(torch::softmax(log_pt, 0), torch::softmax(log_r, 0)),
      1e-12);
}

class SampledFlowConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto environment =
        MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=4"));
    ASSERT_TRUE(environment.ok()) << environment.status();
    environment_ = std::move(environment).value();
    auto log_reward =
        MakeSplitLogReward(*environment_, *RewardConfig::Parse("standard"));
    ASSERT_TRUE(log_reward.ok()) << log_reward.status();
    log_reward_ = std::move(log_reward).value();
    PolicyArchitecture architecture;
    architecture.hidden_width = 32;
    policy_ = *MakePolicy(*environment_, architecture, 4, torch::kCPU);
  }

  FcsOptions Options() const {
    FcsOptions options;
    options.num_samples = 2000;
    options.subset_size = 5;
    options.num_subsets = 200;
    options.num_backward_samples = 200;
    return options;
  }

  std::unique_ptr<Environment> environment_;
  std::unique_ptr<LogReward> log_reward_;
  PolicyNet policy_{nullptr};
};

TEST_F(SampledFlowConsistencyTest, PositiveAndDeterministicForRandomPolicy) {
  RandomSource first(17), second(17);
  auto a = SampledFlowConsistency(policy_, *environment_, *log_reward_,
                                  Options(), first);
  auto b = SampledFlowConsistency(policy_, *environment_, *log_reward_,
                                  Options(), second);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(*a, 0.05);
  EXPECT_EQ(*a, *b);

  // 2000 samples of a random policy cover all 16 cells, so the pool is the
  // whole grid; with exact p_T and many subsets FCS is ~0.37 here, and the
  // sampled one differs by estimation and subset noise only.
  torch::Tensor terminals = *environment_->EnumerateTerminalStates();
  auto exact = ExactLearnedProbabilities(policy_, *environment_, terminals);
  ASSERT_TRUE(exact.ok()) << exact.status();
  RandomSource random(5);
  const double with_exact_pt =
      FlowConsistencyInSubgraphs(exact->log(), (*log_reward_)(terminals),
                                 Options().subset_size, 20000, random);
  EXPECT_NEAR(*a, with_exact_pt, 0.05);
}

TEST_F(SampledFlowConsistencyTest, TooFewDistinctStatesIsInvalidArgument) {
  FcsOptions options = Options();
  options.subset_size = 17;  // The 4x4 grid has only 16 objects.
  RandomSource random(1);
  auto result = SampledFlowConsistency(policy_, *environment_, *log_reward_,
                                       options, random);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
}

TEST_F(SampledFlowConsistencyTest, NonPositiveOptionIsInvalidArgument) {
  FcsOptions options = Options();
  options.num_backward_samples = 0;
  RandomSource random(1);
  auto result = SampledFlowConsistency(policy_, *environment_, *log_reward_,
                                       options, random);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
}

}  // namespace
}  // namespace epgfn
