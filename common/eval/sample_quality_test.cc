#include "common/eval/sample_quality.h"

#include <torch/types.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/env/environment_registry.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

torch::Tensor Rows(const std::vector<std::vector<int64_t>>& rows) {
  std::vector<torch::Tensor> tensors;
  for (const auto& row : rows) {
    tensors.push_back(torch::tensor(row, torch::kInt64));
  }
  return torch::stack(tensors);
}

std::set<std::vector<int64_t>> RowSet(const torch::Tensor& states) {
  std::set<std::vector<int64_t>> rows;
  torch::Tensor cpu = states.contiguous();
  for (int64_t i = 0; i < cpu.size(0); ++i) {
    const int64_t* data = cpu[i].data_ptr<int64_t>();
    rows.emplace(data, data + cpu.size(1));
  }
  return rows;
}

TEST(TopKMeanLogRewardTest, AveragesTheLargest) {
  torch::Tensor log_rewards = torch::tensor({-3.0, 1.0, 0.5, -1.0, 2.0});
  EXPECT_DOUBLE_EQ(TopKMeanLogReward(log_rewards, 1), 2.0);
  EXPECT_DOUBLE_EQ(TopKMeanLogReward(log_rewards, 3), (2.0 + 1.0 + 0.5) / 3);
}

TEST(TopKMeanLogRewardTest, FewerThanKAveragesAll) {
  torch::Tensor log_rewards = torch::tensor({-3.0, 1.0, 0.5}, torch::kFloat64);
  EXPECT_DOUBLE_EQ(TopKMeanLogReward(log_rewards, 10), (-3.0 + 1.0 + 0.5) / 3);
}

TEST(UniqueRowsTest, KeepsEachDistinctRowOnce) {
  torch::Tensor states = Rows({{1, 2}, {0, 3}, {1, 2}, {2, 1}, {0, 3}, {1, 2}});
  torch::Tensor unique = UniqueRows(states);
  EXPECT_EQ(unique.size(0), 3);
  EXPECT_EQ(unique.size(1), 2);
  EXPECT_EQ(RowSet(unique),
            (std::set<std::vector<int64_t>>{{1, 2}, {0, 3}, {2, 1}}));
}

TEST(UniqueRowsTest, EmptyStaysEmpty) {
  torch::Tensor unique = UniqueRows(torch::empty({0, 3}, torch::kInt64));
  EXPECT_EQ(unique.size(0), 0);
  EXPECT_EQ(unique.size(1), 3);
}

TEST(CountModesFoundTest, CountsDistinctModesHit) {
  torch::Tensor samples = Rows({{0, 0}, {1, 1}, {1, 1}, {3, 2}, {2, 3}});
  // {1, 1} is sampled twice and listed twice but is one mode; {3, 3} is
  // never sampled.
  torch::Tensor modes = Rows({{1, 1}, {3, 3}, {2, 3}, {1, 1}});
  EXPECT_EQ(CountModesFound(samples, modes), 2);
  EXPECT_EQ(CountModesFound(samples, Rows({{3, 3}})), 0);
  EXPECT_EQ(CountModesFound(torch::empty({0, 2}, torch::kInt64), modes), 0);
}

TEST(ModeStatesTest, KeepsStatesAboveRelativeThreshold) {
  TerminalDistribution target{
      Rows({{0}, {1}, {2}, {3}}),
      torch::tensor({0.1, 0.4, 0.2, 0.3}, torch::kFloat64)};
  EXPECT_TRUE(ModeStates(target, 1.0).equal(Rows({{1}})));
  EXPECT_TRUE(ModeStates(target, 0.7).equal(Rows({{1}, {3}})));
  EXPECT_TRUE(ModeStates(target, 0.5).equal(Rows({{1}, {2}, {3}})));
  EXPECT_EQ(ModeStates(target, 0.0).size(0), 4);
}

TEST(ModeStatesTest, StandardHypergridModesAreTheTopRewardCells) {
  constexpr int64_t kSide = 8;
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(
      "hypergrid:dim=2,side=" + std::to_string(kSide)));
  ASSERT_TRUE(environment.ok()) << environment.status();
  auto log_reward =
      MakeSplitLogReward(**environment, *RewardConfig::Parse("standard"));
  ASSERT_TRUE(log_reward.ok()) << log_reward.status();
  auto target = ExactTargetDistribution(**environment, **log_reward);
  ASSERT_TRUE(target.ok()) << target.status();

  // The standard reward written out independently of the environment code:
  // R0 + R1 * prod 1[0.25 < |z - 0.5|] + R2 * prod 1[0.3 < |z - 0.5| < 0.4].
  auto reward_of = [](int64_t x, int64_t y) {
    bool outer = true, ring = true;
    for (int64_t v : {x, y}) {
      const double d = std::abs(static_cast<double>(v) / (kSide - 1) - 0.5);
      outer = outer && 0.25 < d;
      ring = ring && 0.3 < d && d < 0.4;
    }
    return 0.1 + 0.5 * outer + 2.0 * ring;
  };
  double max_reward = 0.0;
  for (int64_t x = 0; x < kSide; ++x) {
    for (int64_t y = 0; y < kSide; ++y) {
      max_reward = std::max(max_reward, reward_of(x, y));
    }
  }
  ASSERT_NEAR(max_reward, 2.6, 1e-12);
  std::set<std::vector<int64_t>> expected;
  double best_below_max = 0.0;
  for (int64_t x = 0; x < kSide; ++x) {
    for (int64_t y = 0; y < kSide; ++y) {
      const double reward = reward_of(x, y);
      if (reward > max_reward - 1e-9) {
        expected.insert({x, y});
      } else {
        best_below_max = std::max(best_below_max, reward);
      }
    }
  }
  // Otherwise threshold 0.9 would not separate the top cells.
  ASSERT_LT(best_below_max, 0.9 * max_reward);
  ASSERT_FALSE(expected.empty());

  torch::Tensor modes = ModeStates(*target, 0.9);
  EXPECT_EQ(modes.size(0), static_cast<int64_t>(expected.size()));
  EXPECT_EQ(RowSet(modes), expected);
  // The environment's reward agrees with the formula on those cells.
  EXPECT_TRUE(torch::allclose(
      (**log_reward)(modes).to(torch::kFloat64),
      torch::full({modes.size(0)}, std::log(2.6), torch::kFloat64), 1e-5,
      1e-6));
}

}  // namespace
}  // namespace epgfn
