#include "common/train/local_diagnostics.h"

#include <cmath>

#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(JeffreyDivergenceBoundTest, SumsPerClientTerms) {
  std::vector<LocalDiagnostics> diagnostics(2);
  diagnostics[0].alpha = 0.5;
  diagnostics[0].beta = 1.0;
  diagnostics[1].alpha = 0.0;
  diagnostics[1].beta = 0.0;
  EXPECT_NEAR(*JeffreyDivergenceBound(diagnostics), std::log(2.0 / 0.5), 1e-12);
  diagnostics[1].alpha = 1.0;
  EXPECT_FALSE(JeffreyDivergenceBound(diagnostics).ok());
}

TEST(EstimateLocalDiagnosticsTest, TrainingShrinksAlphaAndBeta) {
  auto environment = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse("sequence:length=3,vocab=3"))
          .value());
  auto reward = std::move(
      MakeSplitLogReward(*environment, *RewardConfig::Parse("utility:seed=1"))
          .value());
  PolicyArchitecture architecture;
  architecture.hidden_width = 64;
  PolicyNet policy = *MakePolicy(*environment, architecture, 1, torch::kCPU);
  RandomSource random(2);
  LocalDiagnostics before =
      *EstimateLocalDiagnostics(policy, *environment, *reward, 1024, random);
  TrainingOptions options;
  options.iterations = 800;
  options.batch_size = 64;
  RewardTarget target(reward.get());
  ASSERT_TRUE((*Trainer::Create(environment.get(), policy, &target, options))
                  ->Run()
                  .ok());
  LocalDiagnostics after =
      *EstimateLocalDiagnostics(policy, *environment, *reward, 1024, random);
  EXPECT_GT(before.alpha + before.beta, 1.0);
  EXPECT_LT(after.alpha, 0.2);
  EXPECT_LT(after.beta, 0.2);
  EXPECT_LT(after.alpha + after.beta, 0.2 * (before.alpha + before.beta));
  // Z_hat recovers the true partition function once trained.
  torch::Tensor all = *environment->EnumerateTerminalStates();
  const double log_z =
      torch::logsumexp((*reward)(all).to(torch::kFloat64), 0).item<double>();
  EXPECT_NEAR(after.log_z_estimate, log_z, 0.05);
}

}  // namespace
}  // namespace epgfn
