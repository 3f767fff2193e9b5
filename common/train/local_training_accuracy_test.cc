// Trains for real on small instances and compares the learned terminal
// distribution (computed exactly by dynamic programming) with the enumerated
// target. Seeds are fixed, so each case is deterministic.
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>

#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/train/trainer.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

struct AccuracyCase {
  std::string name;
  std::string environment;
  std::string reward;
  LossKind loss;
  int64_t iterations;
  int64_t batch_size;
  double learning_rate;
  double max_tv;
};

class LocalTrainingAccuracyTest : public ::testing::TestWithParam<AccuracyCase> {};

TEST_P(LocalTrainingAccuracyTest, ReachesTheExactTarget) {
  const AccuracyCase& c = GetParam();
  torch::set_num_threads(1);
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(c.environment));
  ASSERT_TRUE(environment.ok()) << environment.status();
  auto reward =
      MakeSplitLogReward(**environment, *RewardConfig::Parse(c.reward));
  ASSERT_TRUE(reward.ok()) << reward.status();
  auto target = ExactTargetDistribution(**environment, **reward);
  ASSERT_TRUE(target.ok()) << target.status();

  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  architecture.state_flow = c.loss == LossKind::kDetailedBalance;
  auto policy = MakePolicy(**environment, architecture, 1, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  TrainingOptions options;
  options.loss = c.loss;
  options.iterations = c.iterations;
  options.batch_size = c.batch_size;
  options.learning_rate = c.learning_rate;
  options.exploration.epsilon = 0.05;
  options.seed = 2;
  options.progress_every = c.iterations / 5;
  RewardTarget reward_target(reward->get());
  auto trainer =
      Trainer::Create(environment->get(), *policy, &reward_target, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  PolicyNet trained = *policy;
  ASSERT_TRUE(
      (*trainer)
          ->Run([&](const TrainingProgress& progress) {
            auto tv = ExactTotalVariation(trained, **environment, *target);
            std::printf(
                "%s iteration %lld loss %.4f TV %.4f (%.1f s)\n",
                c.name.c_str(), static_cast<long long>(progress.iteration),
                progress.loss, tv.ok() ? *tv : -1.0, progress.elapsed_seconds);
          })
          .ok());
  auto tv = ExactTotalVariation(trained, **environment, *target);
  ASSERT_TRUE(tv.ok()) << tv.status();
  EXPECT_LE(*tv, c.max_tv) << c.name;
}

std::string CaseName(const ::testing::TestParamInfo<AccuracyCase>& info) {
  return info.param.name;
}

// Budgets measured with -c opt on one core: each case ends near TV 1e-3, well
// inside the 0.05 bound, after 5-15 s.
INSTANTIATE_TEST_SUITE_P(
    Hypergrid, LocalTrainingAccuracyTest,
    ::testing::Values(
        AccuracyCase{"hypergrid_cb", "hypergrid:dim=2,side=8", "standard",
                     LossKind::kContrastiveBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"hypergrid_tb", "hypergrid:dim=2,side=8", "standard",
                     LossKind::kTrajectoryBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"hypergrid_db", "hypergrid:dim=2,side=8", "standard",
                     LossKind::kDetailedBalance, 1000, 64, 1e-3, 0.05}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    Multiset, LocalTrainingAccuracyTest,
    ::testing::Values(
        AccuracyCase{"multiset_cb", "multiset:items=5,size=4", "utility:seed=3",
                     LossKind::kContrastiveBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"multiset_tb", "multiset:items=5,size=4", "utility:seed=3",
                     LossKind::kTrajectoryBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"multiset_db", "multiset:items=5,size=4", "utility:seed=3",
                     LossKind::kDetailedBalance, 1000, 64, 1e-3, 0.05}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    Sequence, LocalTrainingAccuracyTest,
    ::testing::Values(
        AccuracyCase{"sequence_cb", "sequence:length=4,vocab=4", "utility:seed=5",
                     LossKind::kContrastiveBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"sequence_tb", "sequence:length=4,vocab=4", "utility:seed=5",
                     LossKind::kTrajectoryBalance, 1000, 64, 1e-3, 0.05},
        AccuracyCase{"sequence_db", "sequence:length=4,vocab=4", "utility:seed=5",
                     LossKind::kDetailedBalance, 1000, 64, 1e-3, 0.05}),
    CaseName);

}  // namespace
}  // namespace epgfn
