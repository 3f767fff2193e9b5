#ifndef EPGFN_COMMON_AGGREGATE_FEDERATION_TESTING_H_
#define EPGFN_COMMON_AGGREGATE_FEDERATION_TESTING_H_

// In-process federations for tests: N local GFlowNets trained for real on
// their client rewards, aggregated without any reward, and measured exactly.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/local_model.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "common/policy/policy_net.h"
#include "common/train/learning_rate_schedule.h"
#include "common/train/trainer.h"

namespace epgfn {

struct SimulatedFederation {
  std::unique_ptr<Environment> environment;
  std::vector<std::unique_ptr<LogReward>> rewards;
  std::vector<LocalModel> locals;
  // The normalised product of the client rewards (enumerated).
  TerminalDistribution product_target;
};

// 128-wide, two hidden layers: small enough for tests on two cores.
PolicyArchitecture SmallArchitecture();

// Trains client `index`'s model (a fresh `architecture` policy seeded
// 100 + index) on its own reward with `options`, without diagnostics.
LocalModel TrainLocalModel(const Environment& environment,
                           const LogReward& reward, int index,
                           const PolicyArchitecture& architecture,
                           const TrainingOptions& options);

// Trains one client's model on its own reward (CB, seeded by `index`), with
// its diagnostics. `schedule` decays the learning rate to a tenth by the
// last iteration (kConstant: the rate every earlier seeded test had).
LocalModel TrainLocal(
    const Environment& environment, const LogReward& reward, int index,
    int64_t iterations,
    LearningRateSchedule schedule = LearningRateSchedule::kConstant);

// `clients` clients on `environment_spec`, client i holding the reward
// "client:index=i,count=clients" + reward_params, each trained for
// `local_iterations`.
SimulatedFederation MakeFederation(const std::string& environment_spec,
                                   const std::string& reward_params,
                                   int clients, int64_t local_iterations);

// Seeded aggregation options for `iterations` (progress every quarter), the
// learning rate following `schedule` as in TrainLocal.
AggregationOptions TestAggregationOptions(
    int64_t iterations,
    LearningRateSchedule schedule = LearningRateSchedule::kConstant);

// Aggregates `locals` (their weights included) with `options`, printing
// progress, and returns the global policy.
absl::StatusOr<PolicyNet> AggregateLocals(
    const Environment& environment, const std::vector<LocalModel>& locals,
    const AggregationOptions& options,
    std::optional<double>* jeffrey = nullptr);

// Aggregates `locals` (their weights included) with `options`, printing
// progress, and returns the exact TV of the global model to `target`.
double AggregateAndMeasure(const Environment& environment,
                           const std::vector<LocalModel>& locals,
                           const TerminalDistribution& target,
                           const AggregationOptions& options,
                           std::optional<double>* jeffrey = nullptr);
// The same with TestAggregationOptions(iterations).
double AggregateAndMeasure(const Environment& environment,
                           const std::vector<LocalModel>& locals,
                           const TerminalDistribution& target,
                           int64_t iterations,
                           std::optional<double>* jeffrey = nullptr);

// The same for the federation's own models and product target.
double AggregateAndMeasure(SimulatedFederation& federation, int64_t iterations,
                           std::optional<double>* jeffrey = nullptr);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_FEDERATION_TESTING_H_
