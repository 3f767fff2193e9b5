#include "tests/bench/sites_accuracy.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/aggregate/aggregator.h"
#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "common/util/status_macros.h"
#include "tests/bench/stopwatch.h"
#include "tests/demo/figure.h"

namespace epgfn {
namespace {

constexpr int kHiddenWidth = 128;

// What every phase trains with, as the fixed-budget mode's Train().
TrainingOptions BaseTraining(const AccuracyOptions& options, int64_t iterations,
                             uint64_t seed) {
  TrainingOptions training;
  training.iterations = iterations;
  training.batch_size = options.batch_size;
  training.exploration.epsilon = 0.05;
  training.seed = seed;
  training.progress_every = 1 << 30;
  return training;
}

// A policy and its trainer, to be run in chunks (RunUntil) across rounds.
struct ChunkedRun {
  PolicyNet policy = nullptr;
  std::unique_ptr<RewardTarget> target;
  std::unique_ptr<Trainer> trainer;
};

absl::StatusOr<ChunkedRun> MakeRun(const Environment& environment,
                                   const LogReward& reward,
                                   const AccuracyOptions& options, int64_t cap,
                                   uint64_t seed) {
  PolicyArchitecture architecture;
  architecture.hidden_width = kHiddenWidth;
  ChunkedRun run;
  ASSIGN_OR_RETURN(run.policy,
                   MakePolicy(environment, architecture, seed, torch::kCPU));
  run.target = std::make_unique<RewardTarget>(&reward);
  ASSIGN_OR_RETURN(run.trainer,
                   Trainer::Create(&environment, run.policy, run.target.get(),
                                   BaseTraining(options, cap, seed + 1)));
  return run;
}

// Exact TV of `policy` to `target`; its CPU time goes to `seconds`.
absl::StatusOr<double> TimedTv(PolicyNet policy, const Environment& environment,
                               const TerminalDistribution& target,
                               double& seconds) {
  const double start = ThreadCpuSeconds();
  absl::StatusOr<double> tv = ExactTotalVariation(policy, environment, target);
  seconds += ThreadCpuSeconds() - start;
  return tv;
}

// Exact TV of the normalised product of the local models to `target`: the
// best the aggregation of these local models can do (a diagnostic; its CPU
// time goes to `seconds`).
absl::StatusOr<double> LocalProductTv(const Environment& environment,
                                      const std::vector<LocalModel>& locals,
                                      const TerminalDistribution& target,
                                      double& seconds) {
  const double start = ThreadCpuSeconds();
  std::vector<WeightedPolicy> policies = WeightedPoliciesOf(locals);
  ASSIGN_OR_RETURN(const TerminalDistribution product,
                   ExactProductOfLocalModels(environment, policies));
  if (!torch::equal(product.states, target.states)) {
    return absl::InternalError("local product and target states differ");
  }
  const double tv = TotalVariation(product.probabilities, target.probabilities);
  seconds += ThreadCpuSeconds() - start;
  return tv;
}

// One aggregation round from `warm_start` (none in the first round): chunks
// until the target, a plateau or the round's cap. Returns the global model.
absl::StatusOr<PolicyNet> AggregationRound(
    const Environment& environment, const std::vector<LocalModel>& locals,
    const TerminalDistribution& target, const AccuracyOptions& options,
    std::optional<PolicyNet> warm_start, FederatedToAccuracy& result) {
  AggregationOptions aggregation;
  aggregation.architecture.hidden_width = kHiddenWidth;
  aggregation.training =
      BaseTraining(options, options.aggregation_cap,
                   options.seed * 1000 + 500 + result.rounds);
  aggregation.evaluate_exact = false;
  double start = ThreadCpuSeconds();
  ASSIGN_OR_RETURN(
      std::unique_ptr<Aggregator> aggregator,
      Aggregator::Create(&environment, locals, aggregation, warm_start));
  result.aggregation += ThreadCpuSeconds() - start;
  ASSIGN_OR_RETURN(
      result.local_product_tv,
      LocalProductTv(environment, locals, target, result.evaluation_seconds));
  // A fresh window each round: the local models, hence the global model's
  // target, have changed, and the last round's TVs would lag.
  ChunkMonitor monitor(options.rule);
  while (!aggregator->finished()) {
    start = ThreadCpuSeconds();
    const int64_t before = aggregator->iterations_done();
    RETURN_IF_ERROR(aggregator->RunUntil(before + options.eval_every));
    result.aggregation += ThreadCpuSeconds() - start;
    result.aggregation_iterations += aggregator->iterations_done() - before;
    ASSIGN_OR_RETURN(const double tv,
                     TimedTv(aggregator->global_policy(), environment, target,
                             result.evaluation_seconds));
    const ChunkVerdict verdict = monitor.Observe(tv);
    result.total_variation = *monitor.smoothed();
    result.last_tv = tv;
    if (verdict == ChunkVerdict::kReached) result.reached = true;
    if (verdict != ChunkVerdict::kContinue) break;
  }
  std::printf(
      "#     round %d: local %lld, aggregation %lld, smoothed TV %.4f, last "
      "%.4f%s (local product's TV %.4f)\n",
      result.rounds, static_cast<long long>(result.local_iterations),
      static_cast<long long>(result.aggregation_iterations),
      result.total_variation, result.last_tv,
      result.reached ? " (reached)" : "", result.local_product_tv);
  std::fflush(stdout);
  return aggregator->global_policy();
}

}  // namespace

absl::StatusOr<CentralizedToAccuracy> TrainCentralizedToAccuracy(
    const Environment& environment, const LogReward& reward,
    const TerminalDistribution& target, const AccuracyOptions& options) {
  CentralizedToAccuracy result;
  double start = ThreadCpuSeconds();
  ASSIGN_OR_RETURN(ChunkedRun run,
                   MakeRun(environment, reward, options,
                           options.centralized_cap, options.seed * 1000 + 700));
  result.seconds += ThreadCpuSeconds() - start;
  // The same monitor as an aggregation round's; a plateau does not end the
  // centralized run (only the cap does).
  ChunkMonitor monitor(options.rule);
  while (result.iterations < options.centralized_cap) {
    start = ThreadCpuSeconds();
    RETURN_IF_ERROR(
        run.trainer->RunUntil(result.iterations + options.eval_every));
    result.seconds += ThreadCpuSeconds() - start;
    result.iterations = run.trainer->iterations_done();
    ASSIGN_OR_RETURN(result.last_tv, TimedTv(run.policy, environment, target,
                                             result.evaluation_seconds));
    if (monitor.Observe(result.last_tv) == ChunkVerdict::kReached) {
      result.total_variation = *monitor.smoothed();
      result.reached = true;
      return result;
    }
  }
  result.total_variation = monitor.best().value_or(*monitor.smoothed());
  return result;
}

absl::StatusOr<FederatedToAccuracy> TrainFederatedToAccuracy(
    const Environment& environment,
    const std::vector<std::unique_ptr<LogReward>>& rewards,
    const TerminalDistribution& target, const AccuracyOptions& options) {
  FederatedToAccuracy result;
  std::vector<ChunkedRun> clients;
  std::vector<LocalModel> locals;
  std::vector<double> setup(rewards.size(), 0.0);
  for (size_t i = 0; i < rewards.size(); ++i) {
    const double start = ThreadCpuSeconds();
    ASSIGN_OR_RETURN(ChunkedRun run,
                     MakeRun(environment, *rewards[i], options,
                             options.local_cap, options.seed * 1000 + 10 * i));
    setup[i] = ThreadCpuSeconds() - start;
    locals.push_back(LocalModel{absl::StrCat("client-", i),
                                environment.config(), run.policy,
                                std::nullopt});
    clients.push_back(std::move(run));
  }
  std::optional<PolicyNet> global;
  for (int64_t local = options.local_start; local > 0;
       local = NextLocalIterations(local, options.local_cap,
                                   options.local_growth, options.eval_every)) {
    double slowest = 0;
    for (size_t i = 0; i < clients.size(); ++i) {
      const double start = ThreadCpuSeconds();
      RETURN_IF_ERROR(clients[i].trainer->RunUntil(local));
      slowest = std::max(slowest, ThreadCpuSeconds() - start + setup[i]);
      setup[i] = 0;
    }
    result.slowest_client += slowest;
    result.local_iterations = local;
    ASSIGN_OR_RETURN(global, AggregationRound(environment, locals, target,
                                              options, global, result));
    ++result.rounds;
    if (result.reached) break;
  }
  return result;
}

absl::StatusOr<SitesAccuracyRow> RunSitesToAccuracy(
    const SitesProblem& problem, int64_t sites, int clients,
    const AccuracyOptions& options) {
  std::vector<std::unique_ptr<LogReward>> rewards;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(
        rewards.emplace_back(),
        MakeSplitLogReward(
            *problem.environment,
            *RewardConfig::Parse(absl::StrCat(
                "jc69:index=", i, ",count=", clients, ",", problem.params))));
  }
  SitesAccuracyRow row;
  row.sites = sites;
  row.target_tv = options.rule.target_tv;
  ASSIGN_OR_RETURN(row.federated,
                   TrainFederatedToAccuracy(*problem.environment, rewards,
                                            problem.target, options));
  ASSIGN_OR_RETURN(row.centralized, TrainCentralizedToAccuracy(
                                        *problem.environment, *problem.full,
                                        problem.target, options));
  std::printf(
      "#   S=%lld done: federated %.1f s TV %.4f, centralized %.1f s (%lld "
      "iterations) TV %.4f\n",
      static_cast<long long>(sites), row.federated.total(),
      row.federated.total_variation, row.centralized.seconds,
      static_cast<long long>(row.centralized.iterations),
      row.centralized.total_variation);
  std::fflush(stdout);
  return row;
}

void PrintAccuracyTable(const std::vector<SitesAccuracyRow>& rows) {
  std::printf(
      "\n| sites | target TV | centralized iterations | centralized (s) | "
      "TV centralized (smoothed / last) | local iterations per client | "
      "rounds | aggregation iterations | slowest client (s) | aggregation (s) "
      "| federated total (s) | TV federated (smoothed / last) | TV local "
      "product | speed-up | eval s (c / f) |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      "---:|\n");
  for (const SitesAccuracyRow& row : rows) {
    const CentralizedToAccuracy& c = row.centralized;
    const FederatedToAccuracy& f = row.federated;
    const std::string speedup =
        c.reached && f.reached ? absl::StrFormat("%.2fx", c.seconds / f.total())
                               : std::string("not reached");
    std::printf(
        "| %lld | %.3f | %lld%s | %.1f | %.4f / %.4f | %lld | %d | %lld | "
        "%.1f | %.1f | %.1f | %.4f / %.4f%s | %.4f | %s | %.1f / %.1f |\n",
        static_cast<long long>(row.sites), row.target_tv,
        static_cast<long long>(c.iterations), c.reached ? "" : " (cap)",
        c.seconds, c.total_variation, c.last_tv,
        static_cast<long long>(f.local_iterations), f.rounds,
        static_cast<long long>(f.aggregation_iterations), f.slowest_client,
        f.aggregation, f.total(), f.total_variation, f.last_tv,
        f.reached ? "" : " (not reached)", f.local_product_tv, speedup.c_str(),
        c.evaluation_seconds, f.evaluation_seconds);
  }
  std::fflush(stdout);
}

absl::Status WriteAccuracyFigure(const std::vector<SitesAccuracyRow>& rows,
                                 const std::string& png_dir) {
  LineFigure figure{
      "Time to equal exact TV: federated vs centralized (phylo, JC69)",
      "alignment sites",
      "CPU time to reach the target TV (s)",
      false,
      false,
      {}};
  LineSeries federated{"federated: slowest client + aggregation", {}, {}};
  LineSeries centralized{"centralized", {}, {}};
  for (const SitesAccuracyRow& row : rows) {
    federated.x.push_back(row.sites);
    federated.y.push_back(row.federated.total());
    centralized.x.push_back(row.sites);
    centralized.y.push_back(row.centralized.seconds);
  }
  figure.series = {federated, centralized};
  RETURN_IF_ERROR(WriteFigure(figure, png_dir + "/time_to_accuracy_vs_sites"));
  std::printf("\nfigure: %s/time_to_accuracy_vs_sites.png\n", png_dir.c_str());
  return absl::OkStatus();
}

}  // namespace epgfn
