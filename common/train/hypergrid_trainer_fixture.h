#ifndef EPGFN_COMMON_TRAIN_HYPERGRID_TRAINER_FIXTURE_H_
#define EPGFN_COMMON_TRAIN_HYPERGRID_TRAINER_FIXTURE_H_

// The Trainer's unit tests' setting: a 6x6 hypergrid with its standard
// reward, small fresh policies, and a bit-for-bit comparison of weights.

#include <torch/types.h>
#include <torch/utils.h>

#include <cstdint>
#include <memory>

#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "gtest/gtest.h"

namespace epgfn {

class HypergridTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    auto environment =
        MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=6"));
    ASSERT_TRUE(environment.ok()) << environment.status();
    environment_ = *std::move(environment);
    auto reward =
        MakeSplitLogReward(*environment_, *RewardConfig::Parse("standard"));
    ASSERT_TRUE(reward.ok()) << reward.status();
    reward_ = *std::move(reward);
    target_ = std::make_unique<RewardTarget>(reward_.get());
  }

  // The same initial weights for the same seed.
  PolicyNet FreshPolicy(uint64_t seed = 4) {
    PolicyArchitecture architecture;
    architecture.hidden_width = 64;
    auto policy = MakePolicy(*environment_, architecture, seed, torch::kCPU);
    EXPECT_TRUE(policy.ok()) << policy.status();
    return *policy;
  }

  std::unique_ptr<Environment> environment_;
  std::unique_ptr<LogReward> reward_;
  std::unique_ptr<RewardTarget> target_;
};

inline bool SameWeights(PolicyNet a, PolicyNet b) {
  auto b_parameters = b->named_parameters();
  for (const auto& item : a->named_parameters()) {
    if (!torch::equal(item.value(), b_parameters[item.key()])) return false;
  }
  return true;
}

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_HYPERGRID_TRAINER_FIXTURE_H_
