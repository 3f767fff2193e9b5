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
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
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
#include "common/aggregate/local_diagnostics.h"
#include "common/aggregate/product_of_marginals.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/flow_consistency.h"
#include "common/eval/sample_quality.h"
#include "common/train/progress_reporter.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/demo/figure.h"

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
ABSL_FLAG(int64_t, evaluation_samples, 4096,
          "Samples per method for FCS, top-k and modes.");

namespace epgfn {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct MethodScore {
  std::string method;
  double total_variation = 0;
  double total_variation_full = -1;  // to the full-data posterior, if any
  double fcs = 0;
  double top_k_log_reward = 0;
  int64_t modes_found = 0;
  std::string wall_clock;
};

// Scores a distribution `q` over the enumerated terminal states against the
// exact target, using `evaluation_samples` draws from q for the sample-based
// metrics. FCS uses the exact q (so it measures q, not estimator noise).
MethodScore Score(const std::string& method, const torch::Tensor& q,
                  const TerminalDistribution& target,
                  const torch::Tensor& target_log_reward,
                  const torch::Tensor& modes, RandomSource& random) {
  MethodScore score;
  score.method = method;
  score.total_variation = TotalVariation(q, target.probabilities);
  const int64_t n = absl::GetFlag(FLAGS_evaluation_samples);
  torch::Tensor draws = random.Categorical(
      q.to(torch::kFloat32).unsqueeze(0).expand({n, q.size(0)}).contiguous());
  torch::Tensor samples = target.states.index_select(0, draws);
  torch::Tensor distinct = std::get<0>(at::_unique(draws));
  score.top_k_log_reward =
      TopKMeanLogReward(target_log_reward.index_select(0, distinct), 10);
  score.modes_found = CountModesFound(samples, modes);
  if (distinct.size(0) >= 8) {
    score.fcs = FlowConsistencyInSubgraphs(
        q.index_select(0, distinct).log(),
        target_log_reward.index_select(0, distinct), 8, 512, random);
  }
  return score;
}

// The Bayesian workloads' rewards take their data and shape from
// --reward_params; the synthetic ones are "client" rewards with a seed.
std::string RewardParams(const EnvironmentConfig& config) {
  const std::string flag = absl::GetFlag(FLAGS_reward_params);
  if (!flag.empty()) return flag;
  if (config.kind == "phylo") {
    return "alignment=common/env/phylo/testdata/primates.nex,temperature=20";
  }
  if (config.kind == "dag") {
    return "synthetic=1,samples=60,edge_prob=0.5,data_seed=2";
  }
  return "";
}

std::string ClientRewardSpec(const EnvironmentConfig& config, int index,
                             int count, uint64_t seed) {
  std::string kind = "client";
  if (config.kind == "phylo") kind = "jc69";
  if (config.kind == "dag") kind = "bge";
  std::string spec = absl::StrCat(kind, ":index=", index, ",count=", count);
  if (kind == "client" && config.kind != "hypergrid") {
    absl::StrAppend(&spec, ",seed=", seed);
  }
  const std::string params = RewardParams(config);
  if (!params.empty()) absl::StrAppend(&spec, ",", params);
  return spec;
}

bool HasFullDataReward(const EnvironmentConfig& config) {
  return config.kind == "phylo" || config.kind == "dag";
}

std::string DefaultSpec(const std::string& kind) {
  if (kind == "hypergrid") return "hypergrid:dim=2,side=8";
  if (kind == "multiset") return "multiset:items=5,size=4";
  if (kind == "sequence") return "sequence:length=4,vocab=4";
  if (kind == "phylo") {
    // The first 6 taxa of primates.nex (RewardParams names the file).
    return "phylo:taxa=Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;Gorilla;"
           "Pongo";
  }
  if (kind == "dag") return "dag:nodes=4";
  return kind;
}

// A training curve: loss (mean since the previous point) and, for the
// aggregation and the centralized run, the exact TV to the target.
struct Curve {
  std::string name;
  std::vector<double> iteration;
  std::vector<double> loss;
  std::vector<double> total_variation;
};

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

absl::Status WriteCurves(const std::vector<Curve>& curves,
                         const std::string& dir) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  std::string tsv = "curve\titeration\tloss\ttv_to_target\n";
  for (const Curve& curve : curves) {
    for (size_t i = 0; i < curve.iteration.size(); ++i) {
      absl::StrAppend(&tsv, curve.name, "\t", curve.iteration[i], "\t",
                      curve.loss[i], "\t",
                      i < curve.total_variation.size()
                          ? absl::StrCat(curve.total_variation[i])
                          : std::string("nan"),
                      "\n");
    }
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/curves.tsv", tsv));
  LineFigure loss{"Training loss (mean over each interval)",
                  "iteration",
                  "loss (log scale)",
                  false,
                  true,
                  {}};
  LineFigure tv{"Exact total variation to the product target",
                "iteration",
                "TV distance (log scale)",
                false,
                true,
                {}};
  for (const Curve& curve : curves) {
    loss.series.push_back({curve.name, curve.iteration, curve.loss});
    if (!curve.total_variation.empty()) {
      tv.series.push_back({curve.name, curve.iteration, curve.total_variation});
    }
  }
  RETURN_IF_ERROR(WriteFigure(loss, dir + "/loss"));
  if (!tv.series.empty()) RETURN_IF_ERROR(WriteFigure(tv, dir + "/tv"));
  std::printf(
      "\nfigures: %s/loss.png (training loss vs iteration, every client, the "
      "aggregation and the centralized run), %s/tv.png (exact TV to the "
      "product target vs iteration), each with its .tsv; all curves in "
      "%s/curves.tsv\n",
      dir.c_str(), dir.c_str(), dir.c_str());
  return absl::OkStatus();
}

// The instance every method is scored on: the clients' rewards, their exact
// product target and, for the Bayesian workloads, the full-data posterior.
struct Instance {
  std::unique_ptr<Environment> environment;
  std::vector<std::unique_ptr<LogReward>> rewards;  // client i's at i
  std::unique_ptr<ProductOfRewards> product;        // of `rewards`
  TerminalDistribution target;
  torch::Tensor target_log_reward;  // float64, over target.states
  torch::Tensor modes;
  std::optional<TerminalDistribution> full;  // one client holding all data
};

absl::StatusOr<Instance> BuildInstance(int clients, uint64_t seed) {
  Instance instance;
  ASSIGN_OR_RETURN(
      const EnvironmentConfig config,
      EnvironmentConfig::Parse(DefaultSpec(absl::GetFlag(FLAGS_env))));
  ASSIGN_OR_RETURN(instance.environment, MakeEnvironment(config));
  const Environment& environment = *instance.environment;
  std::vector<const LogReward*> factors;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        MakeSplitLogReward(environment,
                           *RewardConfig::Parse(ClientRewardSpec(
                               environment.config(), i, clients, seed))));
    factors.push_back(reward.get());
    instance.rewards.push_back(std::move(reward));
  }
  instance.product = std::make_unique<ProductOfRewards>(factors);
  ASSIGN_OR_RETURN(instance.target,
                   ExactTargetDistribution(environment, *instance.product));
  instance.target_log_reward =
      (*instance.product)(instance.target.states).to(torch::kFloat64);
  instance.modes = ModeStates(instance.target, 0.5);
  if (HasFullDataReward(environment.config())) {
    ASSIGN_OR_RETURN(std::unique_ptr<LogReward> reward,
                     MakeSplitLogReward(
                         environment, *RewardConfig::Parse(ClientRewardSpec(
                                          environment.config(), 0, 1, seed))));
    ASSIGN_OR_RETURN(TerminalDistribution distribution,
                     ExactTargetDistribution(environment, *reward));
    if (!distribution.states.equal(instance.target.states)) {
      return absl::InternalError("enumerations differ between rewards");
    }
    instance.full = std::move(distribution);
  }
  return instance;
}

// What every phase trains with, from the flags.
struct Settings {
  uint64_t seed = 0;
  PolicyArchitecture architecture;
  TrainingOptions training;  // iterations, seed and progress set per phase
  int curve_points = 1;
  absl::Duration progress_interval;

  // The progress period that gives `curve_points` points.
  int64_t Every(int64_t iterations) const {
    return std::max<int64_t>(1, iterations / curve_points);
  }
  ProgressReporter Reporter(const std::string& what) const {
    return ProgressReporter(what, progress_interval,
                            [](const std::string& line) {
                              std::fprintf(stderr, "%s\n", line.c_str());
                            });
  }
};

Settings SettingsFromFlags() {
  Settings settings;
  settings.seed = absl::GetFlag(FLAGS_seed);
  settings.architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  settings.training.batch_size = absl::GetFlag(FLAGS_batch_size);
  settings.training.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  settings.training.exploration.epsilon = 0.05;
  settings.training.progress_every = 1 << 30;
  settings.curve_points = std::max(1, absl::GetFlag(FLAGS_curve_points));
  settings.progress_interval =
      absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));
  return settings;
}

// Phase 1's outcome: every client's model, loss curve and training time.
struct LocalPhase {
  std::vector<LocalModel> locals;
  std::vector<Curve> curves;
  std::vector<double> client_seconds;
  double wall_seconds = 0;

  double SlowestClient() const {
    return *std::max_element(client_seconds.begin(), client_seconds.end());
  }
};

// Trains client i's local model on its own reward and estimates its
// (alpha, beta) diagnostics; one client of phase 1.
absl::Status TrainClient(const Instance& instance, const Settings& settings,
                         int i, LocalPhase& phase) {
  const Environment& environment = *instance.environment;
  const uint64_t seed = settings.seed;
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakePolicy(environment, settings.architecture,
                              seed * 1000 + i, torch::kCPU));
  TrainingOptions local = settings.training;
  local.iterations = absl::GetFlag(FLAGS_local_iterations);
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
  RandomSource random(seed * 1000 + 200 + i);
  auto diagnostics = EstimateLocalDiagnostics(
      policy, environment, *instance.rewards[i], 2048, random);
  phase.locals[i] = LocalModel{absl::StrCat("client-", i), environment.config(),
                               policy, std::nullopt};
  if (diagnostics.ok()) phase.locals[i].diagnostics = *diagnostics;
  return absl::OkStatus();
}

// Phase 1: local training, clients in --parallel_clients threads.
absl::StatusOr<LocalPhase> TrainClients(const Instance& instance,
                                        const Settings& settings) {
  const int clients = static_cast<int>(instance.rewards.size());
  LocalPhase phase;
  phase.locals.resize(clients);
  phase.curves.resize(clients);
  phase.client_seconds.resize(clients);
  std::vector<absl::Status> client_status(clients);
  const auto start = Clock::now();
  {
    std::vector<std::thread> workers;
    std::atomic<int> next{0};
    for (int w = 0; w < std::max(1, absl::GetFlag(FLAGS_parallel_clients));
         ++w) {
      workers.emplace_back([&] {
        torch::set_num_threads(1);
        for (int i = next++; i < clients; i = next++) {
          client_status[i] = TrainClient(instance, settings, i, phase);
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

// A trained global or centralized model, its curve, and its training time
// without the exact evaluations of the curve points.
struct TrainedModel {
  PolicyNet policy = nullptr;
  Curve curve;
  double seconds = 0;
  int64_t iterations = 0;
};

// Records a curve point with the exact TV of `policy` to the target; the
// time it takes is added to `evaluation_seconds`.
void TrackExactTv(const Instance& instance, Curve& curve, PolicyNet policy,
                  const TrainingProgress& progress, ProgressReporter& reporter,
                  double& evaluation_seconds) {
  const auto start = Clock::now();
  curve.iteration.push_back(progress.iteration);
  curve.loss.push_back(progress.loss);
  auto tv = ExactTotalVariation(policy, *instance.environment, instance.target);
  curve.total_variation.push_back(tv.ok() ? *tv : NAN);
  evaluation_seconds += SecondsSince(start);
  reporter.Update({progress.iteration, progress.total_iterations, progress.loss,
                   tv.ok() ? std::optional<double>(*tv) : std::nullopt,
                   std::nullopt});
}

// Phase 2: aggregation of the local models (no reward evaluated).
absl::StatusOr<TrainedModel> Aggregate(const Instance& instance,
                                       const Settings& settings,
                                       const std::vector<LocalModel>& locals) {
  AggregationOptions aggregation;
  aggregation.architecture = settings.architecture;
  aggregation.training = settings.training;
  aggregation.training.iterations = absl::GetFlag(FLAGS_aggregation_iterations);
  aggregation.training.seed = settings.seed * 1000 + 500;
  aggregation.training.progress_every =
      settings.Every(aggregation.training.iterations);
  aggregation.evaluate_exact = false;
  ASSIGN_OR_RETURN(
      auto aggregator,
      Aggregator::Create(instance.environment.get(), locals, aggregation));
  TrainedModel model;
  model.curve.name = "aggregation";
  model.iterations = aggregation.training.iterations;
  ProgressReporter reporter = settings.Reporter("aggregation");
  double evaluation_seconds = 0;
  const auto start = Clock::now();
  RETURN_IF_ERROR(aggregator->Run([&](const AggregationProgress& progress) {
    TrackExactTv(instance, model.curve, aggregator->global_policy(),
                 progress.training, reporter, evaluation_seconds);
  }));
  model.seconds = SecondsSince(start) - evaluation_seconds;
  model.policy = aggregator->global_policy();
  return model;
}

// Phase 3: the centralized baseline, trained on the product reward.
absl::StatusOr<TrainedModel> TrainCentralized(const Instance& instance,
                                              const Settings& settings) {
  const Environment& environment = *instance.environment;
  const auto start = Clock::now();
  TrainedModel model;
  model.policy = *MakePolicy(environment, settings.architecture,
                             settings.seed * 1000 + 700, torch::kCPU);
  TrainingOptions options = settings.training;
  options.iterations = absl::GetFlag(FLAGS_centralized_iterations);
  options.seed = settings.seed * 1000 + 800;
  options.progress_every = settings.Every(options.iterations);
  model.iterations = options.iterations;
  RewardTarget product_target(instance.product.get());
  ASSIGN_OR_RETURN(auto trainer, Trainer::Create(&environment, model.policy,
                                                 &product_target, options));
  model.curve.name = "centralized";
  ProgressReporter reporter = settings.Reporter("centralized training");
  double evaluation_seconds = 0;
  RETURN_IF_ERROR(trainer->Run([&](const TrainingProgress& progress) {
    TrackExactTv(instance, model.curve, model.policy, progress, reporter,
                 evaluation_seconds);
  }));
  model.seconds = SecondsSince(start) - evaluation_seconds;
  return model;
}

// Phase 4: the product-of-marginals baseline from samples of each local
// model.
absl::StatusOr<torch::Tensor> ProductOfMarginals(
    const Instance& instance, const Settings& settings,
    std::vector<LocalModel>& locals) {
  std::vector<torch::Tensor> local_samples;
  RandomSource sampling(settings.seed * 1000 + 900);
  for (LocalModel& local : locals) {
    local_samples.push_back(
        SampleTrajectories(local.policy, *instance.environment,
                           absl::GetFlag(FLAGS_evaluation_samples), {},
                           sampling)
            .terminal_states);
  }
  return ProductOfMarginalsDistribution(local_samples, instance.target.states);
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
                           evaluation));
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
        ClientRewardSpec(config, 0, 1, settings.seed).c_str(),
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

void PrintPhases(const LocalPhase& local, const TrainedModel& global,
                 const TrainedModel& central) {
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
      local.wall_seconds, clients, absl::GetFlag(FLAGS_parallel_clients),
      slowest_client,
      std::accumulate(local.client_seconds.begin(), local.client_seconds.end(),
                      0.0) /
          clients,
      global.seconds,
      1000.0 * global.seconds / std::max<int64_t>(1, global.iterations),
      100.0 * global.seconds / slowest_client, central.seconds);
  std::printf("Jeffrey divergence bound from client diagnostics: %s\n",
              bound.ok() ? absl::StrFormat("%.4f", *bound).c_str()
                         : std::string(bound.status().message()).c_str());
}

absl::Status Run() {
  torch::set_num_threads(1);
  const int clients = absl::GetFlag(FLAGS_clients);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be >= 1");
  const Settings settings = SettingsFromFlags();
  ASSIGN_OR_RETURN(Instance instance, BuildInstance(clients, settings.seed));
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
  PrintPhases(local, global, central);
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
  absl::Status status = epgfn::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "federated_experiment: %s\n",
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}
