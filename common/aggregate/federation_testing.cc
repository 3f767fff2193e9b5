#include "common/aggregate/federation_testing.h"

#include <cstdio>

#include "common/aggregate/local_diagnostics.h"
#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "gtest/gtest.h"

namespace epgfn {

PolicyArchitecture SmallArchitecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  return architecture;
}

// Trains one client's model on its own reward (CB), with its diagnostics.
LocalModel TrainLocal(const Environment& environment, const LogReward& reward,
                      int index, int64_t iterations) {
  PolicyNet policy =
      *MakePolicy(environment, SmallArchitecture(), 100 + index, torch::kCPU);
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = 64;
  options.exploration.epsilon = 0.05;
  options.seed = 200 + index;
  RewardTarget target(&reward);
  auto trainer = Trainer::Create(&environment, policy, &target, options);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_TRUE((*trainer)->Run().ok());
  RandomSource random(300 + index);
  auto diagnostics =
      EstimateLocalDiagnostics(policy, environment, reward, 2048, random);
  EXPECT_TRUE(diagnostics.ok()) << diagnostics.status();
  return LocalModel{"client-" + std::to_string(index), environment.config(),
                    policy, *diagnostics};
}

SimulatedFederation MakeFederation(const std::string& environment_spec,
                                   const std::string& reward_params,
                                   int clients, int64_t local_iterations) {
  SimulatedFederation federation;
  federation.environment = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse(environment_spec)).value());
  std::vector<const LogReward*> factors;
  for (int i = 0; i < clients; ++i) {
    std::string spec = "client:index=" + std::to_string(i) +
                       ",count=" + std::to_string(clients) + reward_params;
    federation.rewards.push_back(std::move(
        MakeSplitLogReward(*federation.environment, *RewardConfig::Parse(spec))
            .value()));
    factors.push_back(federation.rewards.back().get());
    federation.locals.push_back(TrainLocal(*federation.environment,
                                           *federation.rewards.back(), i,
                                           local_iterations));
  }
  ProductOfRewards product(factors);
  federation.product_target =
      *ExactTargetDistribution(*federation.environment, product);
  return federation;
}

AggregationOptions TestAggregationOptions(int64_t iterations) {
  AggregationOptions options;
  options.architecture = SmallArchitecture();
  options.training.iterations = iterations;
  options.training.batch_size = 64;
  options.training.exploration.epsilon = 0.05;
  options.training.seed = 9;
  options.training.progress_every = iterations / 4;
  return options;
}

double AggregateAndMeasure(const Environment& environment,
                           const std::vector<LocalModel>& locals,
                           const TerminalDistribution& target,
                           int64_t iterations, std::optional<double>* jeffrey) {
  auto aggregator = Aggregator::Create(&environment, locals,
                                       TestAggregationOptions(iterations));
  EXPECT_TRUE(aggregator.ok()) << aggregator.status();
  if (!aggregator.ok()) return 1.0;
  EXPECT_TRUE((*aggregator)
                  ->Run([](const AggregationProgress& progress) {
                    std::printf(
                        "aggregation iteration %lld loss %.4f TV to local "
                        "product %.4f\n",
                        static_cast<long long>(progress.training.iteration),
                        progress.training.loss,
                        progress.total_variation_to_local_product.value_or(-1));
                  })
                  .ok());
  if (jeffrey) *jeffrey = (*aggregator)->jeffrey_bound();
  PolicyNet global = (*aggregator)->global_policy();
  auto tv = ExactTotalVariation(global, environment, target);
  EXPECT_TRUE(tv.ok()) << tv.status();
  return tv.ok() ? *tv : 1.0;
}

double AggregateAndMeasure(SimulatedFederation& federation, int64_t iterations,
                           std::optional<double>* jeffrey) {
  return AggregateAndMeasure(*federation.environment, federation.locals,
                             federation.product_target, iterations, jeffrey);
}

}  // namespace epgfn
