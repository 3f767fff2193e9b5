#include "common/aggregate/federation_testing.h"

#include <cstdio>

#include "common/env/environment_registry.h"
#include "common/train/local_diagnostics.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "gtest/gtest.h"

namespace epgfn {

PolicyArchitecture SmallArchitecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  return architecture;
}

LocalModel TrainLocalModel(const Environment& environment,
                           const LogReward& reward, int index,
                           const PolicyArchitecture& architecture,
                           const TrainingOptions& options) {
  const std::string client_id = "client-" + std::to_string(index);
  absl::StatusOr<PolicyNet> made =
      MakePolicy(environment, architecture, 100 + index, torch::kCPU);
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) {
    return LocalModel{client_id, environment.config(), nullptr, std::nullopt};
  }
  PolicyNet policy = *made;
  RewardTarget target(&reward);
  auto trainer = Trainer::Create(&environment, policy, &target, options);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  if (trainer.ok()) {
    EXPECT_TRUE((*trainer)->Run().ok());
  }
  return LocalModel{client_id, environment.config(), policy, std::nullopt};
}

LocalModel TrainLocal(const Environment& environment, const LogReward& reward,
                      int index, int64_t iterations,
                      LearningRateSchedule schedule) {
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = 64;
  options.exploration.epsilon = 0.05;
  options.seed = 200 + index;
  options.learning_rate_schedule = schedule;
  LocalModel local =
      TrainLocalModel(environment, reward, index, SmallArchitecture(), options);
  RandomSource random(300 + index);
  auto diagnostics =
      EstimateLocalDiagnostics(local.policy, environment, reward, 2048, random);
  EXPECT_TRUE(diagnostics.ok()) << diagnostics.status();
  if (diagnostics.ok()) local.diagnostics = *diagnostics;
  return local;
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

AggregationOptions TestAggregationOptions(int64_t iterations,
                                          LearningRateSchedule schedule) {
  AggregationOptions options;
  options.architecture = SmallArchitecture();
  options.training.iterations = iterations;
  options.training.batch_size = 64;
  options.training.exploration.epsilon = 0.05;
  options.training.seed = 9;
  options.training.learning_rate_schedule = schedule;
  options.training.progress_every = iterations / 4;
  return options;
}

absl::StatusOr<PolicyNet> AggregateLocals(const Environment& environment,
                                          const std::vector<LocalModel>& locals,
                                          const AggregationOptions& options,
                                          std::optional<double>* jeffrey) {
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(&environment, locals, options));
  RETURN_IF_ERROR(aggregator->Run([](const AggregationProgress& progress) {
    std::printf(
        "aggregation iteration %lld loss %.4f TV to local product %.4f\n",
        static_cast<long long>(progress.training.iteration),
        progress.training.loss,
        progress.total_variation_to_local_product.value_or(-1));
  }));
  if (jeffrey) *jeffrey = aggregator->jeffrey_bound();
  return aggregator->global_policy();
}

double AggregateAndMeasure(const Environment& environment,
                           const std::vector<LocalModel>& locals,
                           const TerminalDistribution& target,
                           const AggregationOptions& options,
                           std::optional<double>* jeffrey) {
  absl::StatusOr<PolicyNet> global =
      AggregateLocals(environment, locals, options, jeffrey);
  EXPECT_TRUE(global.ok()) << global.status();
  if (!global.ok()) return 1.0;
  auto tv = ExactTotalVariation(*global, environment, target);
  EXPECT_TRUE(tv.ok()) << tv.status();
  return tv.ok() ? *tv : 1.0;
}

double AggregateAndMeasure(const Environment& environment,
                           const std::vector<LocalModel>& locals,
                           const TerminalDistribution& target,
                           int64_t iterations, std::optional<double>* jeffrey) {
  return AggregateAndMeasure(environment, locals, target,
                             TestAggregationOptions(iterations), jeffrey);
}

double AggregateAndMeasure(SimulatedFederation& federation, int64_t iterations,
                           std::optional<double>* jeffrey) {
  return AggregateAndMeasure(*federation.environment, federation.locals,
                             federation.product_target, iterations, jeffrey);
}

}  // namespace epgfn
