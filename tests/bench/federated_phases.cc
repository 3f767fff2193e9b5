#include "tests/bench/federated_phases.h"

#include <atomic>
#include <cmath>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/product_of_marginals.h"
#include "common/eval/exact_distribution.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/local_diagnostics.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {
namespace {

// The seed of --common_init's initialisation: apart from every client's own
// (seed * 1000 + i), so that no client's model is the common one.
constexpr uint64_t kCommonInitSeedOffset = 600;

// The time a phase spent in exact evaluations of its curve, to subtract.
struct EvaluationTime {
  double wall = 0;
  double cpu = 0;
};

// Trains client i's local model on its own reward and estimates its
// (alpha, beta) diagnostics; one client of phase 1. Starts from a copy of
// `common_init` when it is set, else from the client's own seeded draw.
absl::Status TrainClient(const Instance& instance, const Settings& settings,
                         int i, const std::optional<PolicyNet>& common_init,
                         LocalPhase& phase) {
  const Environment& environment = *instance.environment;
  const uint64_t seed = settings.seed;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  PolicyNet policy{nullptr};
  if (common_init) {
    policy = ClonePolicy(*common_init);
  } else {
    ASSIGN_OR_RETURN(policy, MakePolicy(environment, settings.architecture,
                                        seed * 1000 + i, torch::kCPU));
  }
  TrainingOptions local = settings.training;
  local.iterations = settings.local_iterations;
  local.seed = seed * 1000 + 100 + i;
  local.progress_every = settings.Every(local.iterations);
  RewardTarget reward_target(instance.rewards[i].get());
  ASSIGN_OR_RETURN(auto trainer, Trainer::Create(&environment, policy,
                                                 &reward_target, local));
  Curve& curve = phase.curves[i];
  curve.name = absl::StrCat("client-", i);
  ProgressReporter reporter =
      settings.Reporter(absl::StrCat(curve.name, " local training"));
  RETURN_IF_ERROR(
      trainer->Run([&curve, &reporter](const TrainingProgress& progress) {
        curve.iteration.push_back(progress.iteration);
        curve.loss.push_back(progress.loss);
        reporter.Update({progress.iteration, progress.total_iterations,
                         progress.loss, std::nullopt, std::nullopt});
      }));
  phase.client_seconds[i] = SecondsSince(start);
  phase.client_cpu_seconds[i] = ThreadCpuSeconds() - cpu_start;
  RandomSource random(seed * 1000 + 200 + i);
  auto diagnostics = EstimateLocalDiagnostics(
      policy, environment, *instance.rewards[i], 2048, random);
  phase.locals[i] = LocalModel{absl::StrCat("client-", i), environment.config(),
                               policy, std::nullopt};
  if (diagnostics.ok()) phase.locals[i].diagnostics = *diagnostics;
  return absl::OkStatus();
}

// Records a curve point with the exact TV of `policy` to the target; the
// time it takes is added to `evaluation`.
void TrackExactTv(const Instance& instance, Curve& curve, PolicyNet policy,
                  const TrainingProgress& progress, ProgressReporter& reporter,
                  EvaluationTime& evaluation) {
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  curve.iteration.push_back(progress.iteration);
  curve.loss.push_back(progress.loss);
  auto tv = ExactTotalVariation(policy, *instance.environment, instance.target);
  curve.total_variation.push_back(tv.ok() ? *tv : NAN);
  evaluation.wall += SecondsSince(start);
  evaluation.cpu += ThreadCpuSeconds() - cpu_start;
  reporter.Update({progress.iteration, progress.total_iterations, progress.loss,
                   tv.ok() ? std::optional<double>(*tv) : std::nullopt,
                   std::nullopt});
}

// The aggregation's options from the experiment's settings.
AggregationOptions AggregationOptionsFor(const Settings& settings) {
  AggregationOptions aggregation;
  aggregation.architecture = settings.architecture;
  aggregation.training = settings.training;
  aggregation.training.iterations = settings.aggregation_iterations;
  aggregation.training.seed = settings.seed * 1000 + 500;
  aggregation.training.progress_every =
      settings.stopping.enabled()
          ? settings.stopping_every
          : settings.Every(aggregation.training.iterations);
  aggregation.stopping = settings.stopping;
  // The TV rule needs the exact product of the local models; its
  // evaluations count as aggregation time (the rule's own cost).
  aggregation.evaluate_exact = settings.stopping.total_variation_tolerance > 0;
  return aggregation;
}

}  // namespace

absl::StatusOr<LocalPhase> TrainClients(const Instance& instance,
                                        const Settings& settings) {
  const int clients = static_cast<int>(instance.rewards.size());
  LocalPhase phase;
  phase.locals.resize(clients);
  phase.curves.resize(clients);
  phase.client_seconds.resize(clients);
  phase.client_cpu_seconds.resize(clients);
  std::optional<PolicyNet> common_init;
  if (settings.common_init) {
    ASSIGN_OR_RETURN(
        common_init,
        MakePolicy(*instance.environment, settings.architecture,
                   settings.seed * 1000 + kCommonInitSeedOffset, torch::kCPU));
  }
  std::vector<absl::Status> client_status(clients);
  const auto start = Clock::now();
  {
    std::vector<std::thread> workers;
    std::atomic<int> next{0};
    for (int w = 0; w < std::max(1, settings.parallel_clients); ++w) {
      workers.emplace_back([&] {
        torch::set_num_threads(1);
        for (int i = next++; i < clients; i = next++) {
          client_status[i] =
              TrainClient(instance, settings, i, common_init, phase);
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  for (const absl::Status& status : client_status) {
    RETURN_IF_ERROR(status);
  }
  phase.wall_seconds = SecondsSince(start);
  return phase;
}

absl::StatusOr<TrainedModel> Aggregate(const Instance& instance,
                                       const Settings& settings,
                                       const std::vector<LocalModel>& locals) {
  const AggregationOptions aggregation = AggregationOptionsFor(settings);
  // Outside the timed part, as the aggregator's own initialisation is: one
  // pass over the local models' parameters at most.
  ASSIGN_OR_RETURN(std::optional<PolicyNet> warm_start,
                   AggregationWarmStartPolicy(settings.warm_start,
                                              settings.common_init, locals));
  ASSIGN_OR_RETURN(auto aggregator,
                   Aggregator::Create(instance.environment.get(), locals,
                                      aggregation, std::move(warm_start)));
  TrainedModel model;
  model.curve.name = "aggregation";
  model.iterations = aggregation.training.iterations;
  std::vector<WeightedPolicy> local_policies = WeightedPoliciesOf(locals);
  absl::StatusOr<TerminalDistribution> product =
      ExactProductOfLocalModels(*instance.environment, local_policies);
  if (product.ok()) {
    PolicyNet initial = aggregator->global_policy();
    ASSIGN_OR_RETURN(
        model.initial_total_variation_to_local_product,
        ExactTotalVariation(initial, *instance.environment, *product));
  }
  ProgressReporter reporter = settings.Reporter("aggregation");
  EvaluationTime evaluation;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  RETURN_IF_ERROR(aggregator->Run([&](const AggregationProgress& progress) {
    TrackExactTv(instance, model.curve, aggregator->global_policy(),
                 progress.training, reporter, evaluation);
  }));
  model.seconds = SecondsSince(start) - evaluation.wall;
  model.cpu_seconds = ThreadCpuSeconds() - cpu_start - evaluation.cpu;
  model.policy = aggregator->global_policy();
  model.iterations = aggregator->iterations_done();
  model.stop_reason = aggregator->stop_reason();
  if (product.ok()) {
    ASSIGN_OR_RETURN(
        model.total_variation_to_local_product,
        ExactTotalVariation(model.policy, *instance.environment, *product));
  }
  return model;
}

absl::StatusOr<TrainedModel> TrainCentralized(const Instance& instance,
                                              const Settings& settings) {
  const Environment& environment = *instance.environment;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  TrainedModel model;
  model.policy = *MakePolicy(environment, settings.architecture,
                             settings.seed * 1000 + 700, torch::kCPU);
  TrainingOptions options = settings.training;
  options.iterations = settings.centralized_iterations;
  options.seed = settings.seed * 1000 + 800;
  options.progress_every = settings.Every(options.iterations);
  model.iterations = options.iterations;
  RewardTarget product_target(instance.product.get());
  ASSIGN_OR_RETURN(auto trainer, Trainer::Create(&environment, model.policy,
                                                 &product_target, options));
  model.curve.name = "centralized";
  ProgressReporter reporter = settings.Reporter("centralized training");
  EvaluationTime evaluation;
  RETURN_IF_ERROR(trainer->Run([&](const TrainingProgress& progress) {
    TrackExactTv(instance, model.curve, model.policy, progress, reporter,
                 evaluation);
  }));
  model.seconds = SecondsSince(start) - evaluation.wall;
  model.cpu_seconds = ThreadCpuSeconds() - cpu_start - evaluation.cpu;
  return model;
}

absl::StatusOr<torch::Tensor> ProductOfMarginals(
    const Instance& instance, const Settings& settings,
    std::vector<LocalModel>& locals) {
  std::vector<torch::Tensor> local_samples;
  RandomSource sampling(settings.seed * 1000 + 900);
  for (LocalModel& local : locals) {
    local_samples.push_back(
        SampleTrajectories(local.policy, *instance.environment,
                           settings.evaluation_samples, {}, sampling)
            .terminal_states);
  }
  return ProductOfMarginalsDistribution(local_samples, instance.target.states);
}

}  // namespace epgfn
