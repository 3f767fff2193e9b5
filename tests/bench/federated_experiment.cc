// The EP-GFlowNets comparison on one machine: N clients train local GFlowNets
// on their own rewards (in parallel threads), the aggregator combines them
// without seeing any reward, and the result is compared with a centralized
// GFlowNet trained on the product reward and with a product-of-marginals
// baseline. Every method is scored exactly against the enumerated product
// target.
//
// For the Bayesian workloads (--env=phylo, --env=dag) the clients' rewards are
// JC69 on disjoint site blocks of primates.nex and BGe on disjoint row blocks
// of one synthetic dataset, and every method is also scored against the
// full-data posterior (the reward with count=1): for phylo it equals the
// product target, for dag it does not (BGe integrates out the parameters).
//
// With --png_dir (default: out/federated_experiment in the workspace under
// `bazel run`) it writes loss and TV curves drawn by gnuplot (loss.png,
// tv.png, each with its .tsv data and .gp script), plus curves.tsv.
//
// Run as (flags after --):
//   bazel run -c opt //tests/bench:federated_experiment -- --clients=4
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/product_of_marginals.h"
#include "common/aggregate/warm_start.h"
#include "common/eval/exact_distribution.h"
#include "common/train/local_diagnostics.h"
#include "common/train/progress_reporter.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/federated_instance.h"
#include "tests/bench/federated_phases.h"
#include "tests/bench/method_score.h"
#include "tests/bench/stopwatch.h"
#include "tests/bench/training_curves.h"

ABSL_FLAG(std::string, env, "hypergrid",
          "Environment: hypergrid, multiset, sequence, phylo or dag (small "
          "defaults), or a full spec such as hypergrid:dim=2,side=8.");
ABSL_FLAG(std::string, reward_params, "",
          "Extra parameters of every client's reward for phylo (jc69; default "
          "alignment=common/env/phylo/testdata/primates.nex,temperature=20) "
          "and dag (bge; default synthetic=1,samples=60,"
          "edge_prob=0.5,data_seed=2).");
ABSL_FLAG(std::string, png_dir, "",
          "Directory for the loss/TV figures (gnuplot) and curves.tsv; default "
          "out/federated_experiment in the workspace under bazel run, none "
          "otherwise.");
ABSL_FLAG(double, progress_seconds, 10,
          "Print a progress line per phase (iteration/total, loss, exact TV "
          "where computed, ETA) on stderr at most this often; 0: none.");
ABSL_FLAG(int, curve_points, 20,
          "Points per training curve (each aggregation/centralized point "
          "costs one exact evaluation, excluded from the wall-clock).");
ABSL_FLAG(int, clients, 4, "Number of clients N.");
ABSL_FLAG(int64_t, local_iterations, 1000, "Training iterations per client.");
ABSL_FLAG(int64_t, aggregation_iterations, 1000, "Aggregation iterations.");
ABSL_FLAG(int64_t, centralized_iterations, 1000,
          "Iterations of the centralized baseline.");
ABSL_FLAG(int64_t, batch_size, 64, "Trajectories per iteration, all phases.");
ABSL_FLAG(int64_t, hidden_width, 128, "MLP width of every model.");
ABSL_FLAG(double, learning_rate, 1e-3, "Adam learning rate, all phases.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of rewards, initialisation and sampling.");
ABSL_FLAG(int, parallel_clients, 1,
          "Clients trained at once (threads; each uses one intra-op thread). "
          "1 gives clean per-client timings: in a federation each client has "
          "its own machine.");
ABSL_FLAG(int64_t, stop_window, 0,
          "Aggregation stopping rule (issue 14): progress reports in the "
          "loss's moving average; 0: no loss rule (the aggregation trains its "
          "whole --aggregation_iterations budget, as before).");
ABSL_FLAG(int64_t, stop_patience, 4,
          "Reports in a row without an improvement of the moving average (or "
          "of the exact TV) after which the aggregation stops.");
ABSL_FLAG(double, stop_tolerance, 0.05,
          "An improvement: the moving average falls below (1 - this) x its "
          "best so far.");
ABSL_FLAG(double, stop_absolute_tolerance, 0.001,
          "An improvement is also larger than this (absolute, loss units).");
ABSL_FLAG(double, stop_tv_tolerance, 0,
          "When > 0: also stop when the exact TV to the product of the local "
          "models has not fallen by this much below its best for "
          "--stop_patience reports (enumerable instances; the experiment "
          "only, a server has no enumeration in general).");
ABSL_FLAG(int64_t, stop_every, 25,
          "With a stopping rule: aggregation iterations between its "
          "evaluations (the aggregation's progress reports).");
ABSL_FLAG(bool, common_init, false,
          "Every client starts from one initialisation drawn from --seed "
          "instead of its own (what a parameter average of the local models "
          "needs).");
ABSL_FLAG(std::string, aggregation_warm_start, "none",
          "Where the global model starts (issue 14, time to accuracy): none "
          "(its own seeded initialisation), client (a copy of the first "
          "client's local model) or average (the parameter average of the "
          "local models weighted by their weights; needs --common_init).");
ABSL_FLAG(int64_t, evaluation_samples, 4096,
          "Samples per method for FCS, top-k and modes.");

namespace epgfn {
namespace {

std::string PngDirectory() {
  std::string dir = absl::GetFlag(FLAGS_png_dir);
  if (dir.empty()) {
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (workspace != nullptr) {
      dir = absl::StrCat(workspace, "/out/federated_experiment");
    }
  }
  return dir;
}

absl::StatusOr<Settings> SettingsFromFlags() {
  Settings settings;
  settings.seed = absl::GetFlag(FLAGS_seed);
  settings.local_iterations = absl::GetFlag(FLAGS_local_iterations);
  settings.aggregation_iterations = absl::GetFlag(FLAGS_aggregation_iterations);
  settings.centralized_iterations = absl::GetFlag(FLAGS_centralized_iterations);
  settings.parallel_clients = absl::GetFlag(FLAGS_parallel_clients);
  settings.evaluation_samples = absl::GetFlag(FLAGS_evaluation_samples);
  settings.architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  settings.training.batch_size = absl::GetFlag(FLAGS_batch_size);
  settings.training.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  settings.training.exploration.epsilon = 0.05;
  settings.training.progress_every = 1 << 30;
  settings.curve_points = std::max(1, absl::GetFlag(FLAGS_curve_points));
  settings.progress_interval =
      absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));
  settings.stopping.window = absl::GetFlag(FLAGS_stop_window);
  settings.stopping.patience = absl::GetFlag(FLAGS_stop_patience);
  settings.stopping.relative_tolerance = absl::GetFlag(FLAGS_stop_tolerance);
  settings.stopping.absolute_tolerance =
      absl::GetFlag(FLAGS_stop_absolute_tolerance);
  settings.stopping.total_variation_tolerance =
      absl::GetFlag(FLAGS_stop_tv_tolerance);
  settings.stopping_every =
      std::max<int64_t>(1, absl::GetFlag(FLAGS_stop_every));
  settings.common_init = absl::GetFlag(FLAGS_common_init);
  ASSIGN_OR_RETURN(
      settings.warm_start,
      ParseAggregationWarmStart(absl::GetFlag(FLAGS_aggregation_warm_start)));
  // Refused before any training rather than after the clients' minutes.
  RETURN_IF_ERROR(
      ValidateAggregationWarmStart(settings.warm_start, settings.common_init));
  return settings;
}

// The three methods' scores, in the table's order.
std::vector<MethodScore> ScoreMethods(const Instance& instance,
                                      const Settings& settings,
                                      const LocalPhase& local,
                                      TrainedModel& global,
                                      TrainedModel& central,
                                      const torch::Tensor& marginals) {
  RandomSource evaluation(settings.seed * 1000 + 950);
  auto exact = [&](PolicyNet& policy) {
    return *ExactLearnedProbabilities(policy, *instance.environment,
                                      instance.target.states);
  };
  const std::vector<torch::Tensor> distributions = {
      exact(global.policy), exact(central.policy), marginals};
  const std::vector<std::string> methods = {"EP-GFlowNet (aggregated)",
                                            "Centralized GFlowNet",
                                            "Product of marginals"};
  std::vector<MethodScore> scores;
  for (size_t m = 0; m < methods.size(); ++m) {
    scores.push_back(Score(methods[m], distributions[m], instance.target,
                           instance.target_log_reward, instance.modes,
                           settings.evaluation_samples, evaluation));
    if (instance.full.has_value()) {
      scores[m].total_variation_full =
          TotalVariation(distributions[m], instance.full->probabilities);
    }
  }
  const double slowest_client = local.SlowestClient();
  scores[0].wall_clock = absl::StrFormat(
      "%.1f s (slowest client %.1f + aggregation %.1f)",
      slowest_client + global.seconds, slowest_client, global.seconds);
  scores[1].wall_clock = absl::StrFormat("%.1f s", central.seconds);
  scores[2].wall_clock = "(from the local models' samples)";
  return scores;
}

void PrintScores(const Instance& instance, const Settings& settings,
                 const std::vector<MethodScore>& scores) {
  const EnvironmentConfig& config = instance.environment->config();
  if (instance.full.has_value()) {
    std::printf(
        "# full-data posterior (reward %s) at TV %.4f from the product "
        "target%s\n",
        instance.full_reward_spec.c_str(),
        TotalVariation(instance.full->probabilities,
                       instance.target.probabilities),
        config.kind == "dag"
            ? ": BGe integrates out the parameters, so the product of the "
              "clients' posteriors is not the full-data posterior (it counts "
              "the parameter prior once per client); EP-GFlowNets target the "
              "product"
            : " (JC69 with fixed branch lengths factorises over sites, so "
              "they agree)");
  }
  std::printf(
      "\n| method | TV to exact product | TV to full-data posterior | "
      "FCS | top-10 mean log R | modes found (of %lld) | wall-clock "
      "|\n|---|---|---|---|---|---|---|\n",
      static_cast<long long>(instance.modes.size(0)));
  for (const MethodScore& score : scores) {
    std::printf(
        "| %s | %.4f | %s | %.4f | %.3f | %lld | %s |\n", score.method.c_str(),
        score.total_variation,
        score.total_variation_full < 0
            ? "-"
            : absl::StrFormat("%.4f", score.total_variation_full).c_str(),
        score.fcs, score.top_k_log_reward,
        static_cast<long long>(score.modes_found), score.wall_clock.c_str());
  }
}

void PrintPhases(const Settings& settings, const LocalPhase& local,
                 const TrainedModel& global, const TrainedModel& central) {
  const int clients = static_cast<int>(local.locals.size());
  const double slowest_client = local.SlowestClient();
  std::vector<LocalDiagnostics> diagnostics;
  for (const LocalModel& model : local.locals) {
    if (model.diagnostics) diagnostics.push_back(*model.diagnostics);
  }
  absl::StatusOr<double> bound = JeffreyDivergenceBound(diagnostics);
  std::printf(
      "\nphases: local training %.1f s wall for %d clients on %d threads "
      "(slowest client %.1f s, mean %.1f s); aggregation %.1f s (%.2f ms per "
      "iteration, %.0f%% of the slowest client); centralized %.1f s\n",
      local.wall_seconds, clients, settings.parallel_clients, slowest_client,
      std::accumulate(local.client_seconds.begin(), local.client_seconds.end(),
                      0.0) /
          clients,
      global.seconds,
      1000.0 * global.seconds / std::max<int64_t>(1, global.iterations),
      100.0 * global.seconds / slowest_client, central.seconds);
  std::printf(
      "aggregation stopped at iteration %lld of %lld (%s); exact TV to the "
      "product of the local models at the stop: %s\n",
      static_cast<long long>(global.iterations),
      static_cast<long long>(settings.aggregation_iterations),
      std::string(AggregationStopReasonName(global.stop_reason)).c_str(),
      global.total_variation_to_local_product < 0
          ? "not enumerable"
          : absl::StrFormat("%.4f", global.total_variation_to_local_product)
                .c_str());
  std::printf(
      "aggregation warm start: %s (clients from %s); exact TV to the product "
      "of the local models at the start: %s\n",
      std::string(AggregationWarmStartName(settings.warm_start)).c_str(),
      settings.common_init ? "one common initialisation"
                           : "their own initialisations",
      global.initial_total_variation_to_local_product < 0
          ? "not enumerable"
          : absl::StrFormat("%.4f",
                            global.initial_total_variation_to_local_product)
                .c_str());
  const double slowest_client_cpu = local.SlowestClientCpu();
  std::printf(
      "phases in CPU seconds (each phase's thread, evaluations excluded): "
      "slowest client %.2f s, aggregation %.2f s (%.1f%% of the slowest "
      "client), centralized %.2f s\n",
      slowest_client_cpu, global.cpu_seconds,
      100.0 * global.cpu_seconds / slowest_client_cpu, central.cpu_seconds);
  std::printf("Jeffrey divergence bound from client diagnostics: %s\n",
              bound.ok() ? absl::StrFormat("%.4f", *bound).c_str()
                         : std::string(bound.status().message()).c_str());
}

absl::Status Run() {
  torch::set_num_threads(1);
  const int clients = absl::GetFlag(FLAGS_clients);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be >= 1");
  ASSIGN_OR_RETURN(const Settings settings, SettingsFromFlags());
  InstanceOptions options;
  options.env = absl::GetFlag(FLAGS_env);
  options.reward_params = absl::GetFlag(FLAGS_reward_params);
  options.clients = clients;
  options.seed = settings.seed;
  ASSIGN_OR_RETURN(Instance instance, BuildInstance(options));
  std::printf("# %s, %d clients, target over %lld objects, %lld modes\n",
              instance.environment->config().ToString().c_str(), clients,
              static_cast<long long>(instance.target.states.size(0)),
              static_cast<long long>(instance.modes.size(0)));
  ASSIGN_OR_RETURN(LocalPhase local, TrainClients(instance, settings));
  ASSIGN_OR_RETURN(TrainedModel global,
                   Aggregate(instance, settings, local.locals));
  ASSIGN_OR_RETURN(TrainedModel central, TrainCentralized(instance, settings));
  ASSIGN_OR_RETURN(const torch::Tensor marginals,
                   ProductOfMarginals(instance, settings, local.locals));
  PrintScores(
      instance, settings,
      ScoreMethods(instance, settings, local, global, central, marginals));
  PrintPhases(settings, local, global, central);
  const std::string png_dir = PngDirectory();
  if (!png_dir.empty()) {
    std::vector<Curve> curves = local.curves;
    curves.push_back(global.curve);
    curves.push_back(central.curve);
    RETURN_IF_ERROR(WriteCurves(curves, png_dir));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Federated (EP-GFlowNet) vs centralized vs product-of-marginals on an "
      "enumerable instance; prints a markdown table.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("federated_experiment", epgfn::Run());
}
