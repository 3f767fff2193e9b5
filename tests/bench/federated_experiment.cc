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
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
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

absl::Status Run() {
  torch::set_num_threads(1);
  const int clients = absl::GetFlag(FLAGS_clients);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be >= 1");
  absl::StatusOr<EnvironmentConfig> config =
      EnvironmentConfig::Parse(DefaultSpec(absl::GetFlag(FLAGS_env)));
  if (!config.ok()) return config.status();
  absl::StatusOr<std::unique_ptr<Environment>> made = MakeEnvironment(*config);
  if (!made.ok()) return made.status();
  const Environment& environment = **made;

  std::vector<std::unique_ptr<LogReward>> rewards;
  std::vector<const LogReward*> factors;
  for (int i = 0; i < clients; ++i) {
    auto reward = MakeSplitLogReward(
        environment, *RewardConfig::Parse(ClientRewardSpec(environment.config(),
                                                           i, clients, seed)));
    if (!reward.ok()) return reward.status();
    factors.push_back(reward->get());
    rewards.push_back(std::move(reward).value());
  }
  ProductOfRewards product(factors);
  absl::StatusOr<TerminalDistribution> target =
      ExactTargetDistribution(environment, product);
  if (!target.ok()) return target.status();
  torch::Tensor target_log_reward = product(target->states).to(torch::kFloat64);
  torch::Tensor modes = ModeStates(*target, 0.5);
  // The full-data posterior: one client holding every site / row.
  std::optional<TerminalDistribution> full;
  if (HasFullDataReward(environment.config())) {
    auto reward =
        MakeSplitLogReward(environment, *RewardConfig::Parse(ClientRewardSpec(
                                            environment.config(), 0, 1, seed)));
    if (!reward.ok()) return reward.status();
    auto distribution = ExactTargetDistribution(environment, **reward);
    if (!distribution.ok()) return distribution.status();
    if (!distribution->states.equal(target->states)) {
      return absl::InternalError("enumerations differ between rewards");
    }
    full = *std::move(distribution);
  }
  const int curve_points = std::max(1, absl::GetFlag(FLAGS_curve_points));
  auto every = [&](int64_t iterations) {
    return std::max<int64_t>(1, iterations / curve_points);
  };
  std::vector<Curve> client_curves(clients);
  const absl::Duration progress_interval =
      absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));
  const auto to_stderr = [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  };

  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  TrainingOptions options;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  options.exploration.epsilon = 0.05;
  options.progress_every = 1 << 30;

  std::printf("# %s, %d clients, target over %lld objects, %lld modes\n",
              environment.config().ToString().c_str(), clients,
              static_cast<long long>(target->states.size(0)),
              static_cast<long long>(modes.size(0)));

  // Phase 1: local training, clients in parallel threads.
  std::vector<LocalModel> locals(clients);
  std::vector<double> client_seconds(clients);
  std::vector<absl::Status> client_status(clients);
  const auto local_start = Clock::now();
  {
    std::vector<std::thread> workers;
    std::atomic<int> next{0};
    for (int w = 0; w < std::max(1, absl::GetFlag(FLAGS_parallel_clients));
         ++w) {
      workers.emplace_back([&] {
        torch::set_num_threads(1);
        for (int i = next++; i < clients; i = next++) {
          const auto start = Clock::now();
          absl::StatusOr<PolicyNet> policy = MakePolicy(
              environment, architecture, seed * 1000 + i, torch::kCPU);
          if (!policy.ok()) {
            client_status[i] = policy.status();
            continue;
          }
          TrainingOptions local = options;
          local.iterations = absl::GetFlag(FLAGS_local_iterations);
          local.seed = seed * 1000 + 100 + i;
          local.progress_every = every(local.iterations);
          RewardTarget reward_target(rewards[i].get());
          auto trainer =
              Trainer::Create(&environment, *policy, &reward_target, local);
          if (!trainer.ok()) {
            client_status[i] = trainer.status();
            continue;
          }
          Curve& curve = client_curves[i];
          curve.name = absl::StrCat("client-", i);
          ProgressReporter reporter(absl::StrCat(curve.name, " local training"),
                                    progress_interval, to_stderr);
          client_status[i] = (*trainer)->Run(
              [&curve, &reporter](const TrainingProgress& progress) {
                curve.iteration.push_back(progress.iteration);
                curve.loss.push_back(progress.loss);
                reporter.Update({progress.iteration, progress.total_iterations,
                                 progress.loss, std::nullopt, std::nullopt});
              });
          client_seconds[i] = SecondsSince(start);
          RandomSource random(seed * 1000 + 200 + i);
          auto diagnostics = EstimateLocalDiagnostics(
              *policy, environment, *rewards[i], 2048, random);
          locals[i] = LocalModel{absl::StrCat("client-", i),
                                 environment.config(), *policy, std::nullopt};
          if (diagnostics.ok()) locals[i].diagnostics = *diagnostics;
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  for (const absl::Status& status : client_status) {
    if (!status.ok()) return status;
  }
  const double local_wall = SecondsSince(local_start);
  const double slowest_client =
      *std::max_element(client_seconds.begin(), client_seconds.end());

  // Phase 2: aggregation (no reward evaluated).
  AggregationOptions aggregation;
  aggregation.architecture = architecture;
  aggregation.training = options;
  aggregation.training.iterations = absl::GetFlag(FLAGS_aggregation_iterations);
  aggregation.training.seed = seed * 1000 + 500;
  aggregation.training.progress_every = every(aggregation.training.iterations);
  aggregation.evaluate_exact = false;
  auto aggregator = Aggregator::Create(&environment, locals, aggregation);
  if (!aggregator.ok()) return aggregator.status();
  // Exact TV at each curve point; its time is taken out of the wall-clock.
  double evaluation_seconds = 0;
  auto track = [&](Curve& curve, PolicyNet policy,
                   const TrainingProgress& progress,
                   ProgressReporter& reporter) {
    const auto start = Clock::now();
    curve.iteration.push_back(progress.iteration);
    curve.loss.push_back(progress.loss);
    auto tv = ExactTotalVariation(policy, environment, *target);
    curve.total_variation.push_back(tv.ok() ? *tv : NAN);
    evaluation_seconds += SecondsSince(start);
    reporter.Update(
        {progress.iteration, progress.total_iterations, progress.loss,
         tv.ok() ? std::optional<double>(*tv) : std::nullopt, std::nullopt});
  };
  Curve aggregation_curve{"aggregation"};
  ProgressReporter aggregation_reporter("aggregation", progress_interval,
                                        to_stderr);
  const auto aggregation_start = Clock::now();
  absl::Status status =
      (*aggregator)->Run([&](const AggregationProgress& progress) {
        track(aggregation_curve, (*aggregator)->global_policy(),
              progress.training, aggregation_reporter);
      });
  if (!status.ok()) return status;
  const double aggregation_seconds =
      SecondsSince(aggregation_start) - evaluation_seconds;
  PolicyNet global = (*aggregator)->global_policy();

  // Phase 3: centralized baseline on the product reward.
  const auto central_start = Clock::now();
  PolicyNet central =
      *MakePolicy(environment, architecture, seed * 1000 + 700, torch::kCPU);
  TrainingOptions central_options = options;
  central_options.iterations = absl::GetFlag(FLAGS_centralized_iterations);
  central_options.seed = seed * 1000 + 800;
  central_options.progress_every = every(central_options.iterations);
  RewardTarget product_target(&product);
  auto central_trainer =
      Trainer::Create(&environment, central, &product_target, central_options);
  if (!central_trainer.ok()) return central_trainer.status();
  Curve central_curve{"centralized"};
  ProgressReporter central_reporter("centralized training", progress_interval,
                                    to_stderr);
  evaluation_seconds = 0;
  status = (*central_trainer)->Run([&](const TrainingProgress& progress) {
    track(central_curve, central, progress, central_reporter);
  });
  if (!status.ok()) return status;
  const double central_seconds =
      SecondsSince(central_start) - evaluation_seconds;

  // Phase 4: product-of-marginals baseline from samples of each local model.
  std::vector<torch::Tensor> local_samples;
  RandomSource sampling(seed * 1000 + 900);
  for (LocalModel& local : locals) {
    local_samples.push_back(
        SampleTrajectories(local.policy, environment,
                           absl::GetFlag(FLAGS_evaluation_samples), {},
                           sampling)
            .terminal_states);
  }
  auto marginals =
      ProductOfMarginalsDistribution(local_samples, target->states);
  if (!marginals.ok()) return marginals.status();

  RandomSource evaluation(seed * 1000 + 950);
  std::vector<MethodScore> scores;
  auto exact = [&](PolicyNet& policy) {
    return *ExactLearnedProbabilities(policy, environment, target->states);
  };
  scores.push_back(Score("EP-GFlowNet (aggregated)", exact(global), *target,
                         target_log_reward, modes, evaluation));
  scores.back().wall_clock =
      absl::StrFormat("%.1f s (slowest client %.1f + aggregation %.1f)",
                      slowest_client + aggregation_seconds, slowest_client,
                      aggregation_seconds);
  scores.push_back(Score("Centralized GFlowNet", exact(central), *target,
                         target_log_reward, modes, evaluation));
  scores.back().wall_clock = absl::StrFormat("%.1f s", central_seconds);
  scores.push_back(Score("Product of marginals", *marginals, *target,
                         target_log_reward, modes, evaluation));
  scores.back().wall_clock = "(from the local models' samples)";
  if (full.has_value()) {
    const std::vector<torch::Tensor> distributions = {
        exact(global), exact(central), *marginals};
    for (size_t m = 0; m < scores.size(); ++m) {
      scores[m].total_variation_full =
          TotalVariation(distributions[m], full->probabilities);
    }
  }

  if (full.has_value()) {
    std::printf(
        "# full-data posterior (reward %s) at TV %.4f from the product "
        "target%s\n",
        ClientRewardSpec(environment.config(), 0, 1, seed).c_str(),
        TotalVariation(full->probabilities, target->probabilities),
        environment.config().kind == "dag"
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
      static_cast<long long>(modes.size(0)));
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
  std::vector<LocalDiagnostics> diagnostics;
  for (const LocalModel& local : locals) {
    if (local.diagnostics) diagnostics.push_back(*local.diagnostics);
  }
  absl::StatusOr<double> bound = JeffreyDivergenceBound(diagnostics);
  std::printf(
      "\nphases: local training %.1f s wall for %d clients on %d threads "
      "(slowest client %.1f s, mean %.1f s); aggregation %.1f s (%.2f ms per "
      "iteration, %.0f%% of the slowest client); centralized %.1f s\n",
      local_wall, clients, absl::GetFlag(FLAGS_parallel_clients),
      slowest_client,
      std::accumulate(client_seconds.begin(), client_seconds.end(), 0.0) /
          clients,
      aggregation_seconds,
      1000.0 * aggregation_seconds /
          std::max<int64_t>(1, aggregation.training.iterations),
      100.0 * aggregation_seconds / slowest_client, central_seconds);
  std::printf("Jeffrey divergence bound from client diagnostics: %s\n",
              bound.ok() ? absl::StrFormat("%.4f", *bound).c_str()
                         : std::string(bound.status().message()).c_str());
  const std::string png_dir = PngDirectory();
  if (!png_dir.empty()) {
    std::vector<Curve> curves = client_curves;
    curves.push_back(aggregation_curve);
    curves.push_back(central_curve);
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
