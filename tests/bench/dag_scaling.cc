// Bayesian-network structure learning at field scale: for each number of
// variables, the cost of a federation's two phases on synthetic data, and
// evidence that the policies still learn.
//
// For d variables (a seeded random linear-Gaussian DAG with about d edges,
// --rows_per_client rows per client, each client standardising its own rows)
// and the maximum in-degree --max_parents (where it is below d - 1), it
// prints per size:
//   - the BGe local-score table: parent sets per node, MiB (double), and the
//     seconds to build it;
//   - the data-free state encoding's width, the number of actions, and the
//     policy's parameter count (the federation's architecture);
//   - ms per training iteration of local training (one client) and of the
//     aggregation (the aggregating balance loss over --clients local models);
//   - the process's peak RSS (each size runs in a child process of its own,
//     so the figure is that size's alone);
//   - learning: the mean log-likelihood of --eval_samples DAGs drawn by the
//     untrained and by the trained local policy, against the generating
//     DAG's own log-likelihood and the empty graph's (the same client
//     reward), after --learn_iterations.
// One intra-op thread. Times are wall-clock on whatever else the machine is
// doing; run it alone where possible.
//
//   bazel run -c opt //tests/bench:dag_scaling -- --variables=5,8,11,15,20
#include <sys/wait.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/aggregate/aggregator.h"
#include "common/env/dag/bge.h"
#include "common/env/dag/dag.h"
#include "common/env/environment_registry.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, variables, "5,8,11,15,20",
          "Comma-separated numbers of variables, one table row each.");
ABSL_FLAG(int64_t, max_parents, 4,
          "Maximum in-degree (environment parameter max_parents), applied "
          "where it is below d - 1.");
ABSL_FLAG(int64_t, clients, 4, "Clients (local models) in the aggregation.");
ABSL_FLAG(int64_t, rows_per_client, 200, "Data rows each client holds.");
ABSL_FLAG(int64_t, hidden_width, 128, "Policy MLP width (2 hidden layers).");
ABSL_FLAG(int64_t, batch_size, 64, "Trajectories per iteration.");
ABSL_FLAG(int64_t, timed_iterations, 40,
          "Iterations timed per phase (after 5 untimed).");
ABSL_FLAG(int64_t, learn_iterations, 600,
          "Local training iterations before the learning check.");
ABSL_FLAG(int64_t, eval_samples, 512, "DAGs drawn for the learning check.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the data, models and sampling.");

namespace epgfn {
namespace {

// VmHWM of this process, MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      double kib = 0;
      std::vector<std::string> parts =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtod(parts[1], &kib)) {
        return kib / 1024.0;
      }
    }
  }
  return -1;
}

TrainingOptions Training(int64_t iterations, uint64_t seed) {
  TrainingOptions options;
  options.loss = LossKind::kContrastiveBalance;
  options.iterations = iterations;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = 0.05;
  options.seed = seed;
  options.progress_every = iterations + 1;
  return options;
}

// Mean log-likelihood (double) of DAGs drawn by `policy`.
double MeanSampledLogReward(PolicyNet& policy, const Environment& environment,
                            const LogReward& reward, uint64_t seed) {
  torch::NoGradGuard no_grad;
  RandomSource random(seed);
  Trajectories samples =
      SampleTrajectories(policy, environment, absl::GetFlag(FLAGS_eval_samples),
                         ExplorationOptions{}, random);
  return reward.LogRewardFloat64(samples.terminal_states).mean().item<double>();
}

// Local training: client 0 timed and trained for the learning check; the
// others only a few iterations, as the aggregation's cost per iteration
// does not depend on how well its local models are trained.
struct LocalPhase {
  std::vector<LocalModel> locals;
  double ms_per_iteration = 0;  // client 0's
  // Client 0's mean sampled log-likelihood before and after training.
  double before = 0;
  double after = 0;
};

absl::StatusOr<LocalPhase> TrainLocals(
    const Environment& environment, const PolicyArchitecture& architecture,
    const std::vector<std::unique_ptr<LogReward>>& rewards, uint64_t seed) {
  const int64_t timed = absl::GetFlag(FLAGS_timed_iterations);
  const int64_t learn = absl::GetFlag(FLAGS_learn_iterations);
  LocalPhase phase;
  for (int64_t i = 0; i < static_cast<int64_t>(rewards.size()); ++i) {
    ASSIGN_OR_RETURN(PolicyNet policy, MakePolicy(environment, architecture,
                                                  seed + 10 + i, torch::kCPU));
    RewardTarget target(rewards[i].get());
    const int64_t iterations = i == 0 ? std::max(learn, 5 + timed) : 5;
    ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                     Trainer::Create(&environment, policy, &target,
                                     Training(iterations, seed + 20 + i)));
    if (i == 0) {
      phase.before =
          MeanSampledLogReward(policy, environment, *rewards[0], seed);
      RETURN_IF_ERROR(trainer->RunUntil(5));
      const auto start = Clock::now();
      RETURN_IF_ERROR(trainer->RunUntil(5 + timed));
      phase.ms_per_iteration = 1e3 * SecondsSince(start) / timed;
    }
    RETURN_IF_ERROR(trainer->Run());
    if (i == 0) {
      phase.after =
          MeanSampledLogReward(policy, environment, *rewards[0], seed + 1);
    }
    phase.locals.push_back(LocalModel{absl::StrCat("client-", i),
                                      environment.config(), policy,
                                      std::nullopt});
  }
  return phase;
}

// References under client 0's reward: the generating DAG and the empty one.
struct References {
  double truth_log_r = 0;
  double empty_log_r = 0;
  int64_t truth_in_degree = 0;  // the generating DAG's largest
};

References ScoreReferences(const DagEnvironment& dag,
                           const LinearGaussianNetwork& network,
                           const LogReward& reward, int64_t k) {
  const int64_t d = dag.nodes();
  References references;
  torch::Tensor truth = dag.StatesFromAdjacency(
      torch::tensor(network.adjacency, torch::kInt64).view({1, d * d}));
  references.truth_log_r = reward.LogRewardFloat64(truth)[0].item<double>();
  references.empty_log_r =
      reward.LogRewardFloat64(dag.InitialStates(1, torch::kCPU))[0]
          .item<double>();
  for (int64_t j = 0; j < d; ++j) {
    int64_t parents = 0;
    for (int64_t i = 0; i < d; ++i) parents += network.adjacency[i * d + j];
    references.truth_in_degree = std::max(references.truth_in_degree, parents);
  }
  return references;
}

// Milliseconds per aggregation iteration, after 5 untimed ones.
absl::StatusOr<double> AggregationMilliseconds(
    const Environment& environment, const PolicyArchitecture& architecture,
    const std::vector<LocalModel>& locals, uint64_t seed) {
  const int64_t timed = absl::GetFlag(FLAGS_timed_iterations);
  AggregationOptions options;
  options.architecture = architecture;
  options.training = Training(5 + timed, seed + 30);
  options.evaluate_exact = false;
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(&environment, locals, options));
  RETURN_IF_ERROR(aggregator->RunUntil(5));
  const auto start = Clock::now();
  RETURN_IF_ERROR(aggregator->Run());
  return 1e3 * SecondsSince(start) / timed;
}

absl::Status RunSize(int64_t d) {
  torch::set_num_threads(1);
  const int64_t clients = absl::GetFlag(FLAGS_clients);
  const int64_t rows = absl::GetFlag(FLAGS_rows_per_client);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int64_t k = std::min(absl::GetFlag(FLAGS_max_parents), d - 1);
  std::string spec = absl::StrCat("dag:nodes=", d);
  if (k < d - 1) absl::StrAppend(&spec, ",max_parents=", k);
  ASSIGN_OR_RETURN(EnvironmentConfig environment_config,
                   EnvironmentConfig::Parse(spec));
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(environment_config));
  const auto& dag = dynamic_cast<const DagEnvironment&>(*environment);
  // About d edges: each of the d(d-1)/2 pairs with probability 2 / (d - 1).
  const double edge_prob = 2.0 / static_cast<double>(d - 1);
  const std::string data = absl::StrCat(
      "bge:synthetic=1,standardize=1,samples=", rows * clients,
      ",edge_prob=", edge_prob, ",data_seed=", seed, ",count=", clients);

  const auto table_start = Clock::now();
  std::vector<std::unique_ptr<LogReward>> rewards;
  for (int64_t i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(RewardConfig config,
                     RewardConfig::Parse(absl::StrCat(data, ",index=", i)));
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        MakeLogReward(*environment, config, RewardContext{clients}));
    rewards.push_back(std::move(reward));
  }
  const double table_seconds = SecondsSince(table_start) / clients;
  ASSIGN_OR_RETURN(
      const LinearGaussianNetwork network,
      SampleLinearGaussianNetwork(d, edge_prob, rows * clients, seed));
  ASSIGN_OR_RETURN(const BGeScore score,
                   BGeScore::Create(network.data, 1.0, 0.0, k));
  const double table_mib = static_cast<double>(d * score.num_parent_sets()) *
                           sizeof(double) / (1 << 20);

  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  ASSIGN_OR_RETURN(PolicyNet probe,
                   MakePolicy(*environment, architecture, seed, torch::kCPU));
  int64_t parameters = 0;
  for (const torch::Tensor& p : probe->parameters()) parameters += p.numel();

  ASSIGN_OR_RETURN(const LocalPhase local,
                   TrainLocals(*environment, architecture, rewards, seed));
  const References references = ScoreReferences(dag, network, *rewards[0], k);
  ASSIGN_OR_RETURN(
      const double aggregation_ms,
      AggregationMilliseconds(*environment, architecture, local.locals, seed));

  std::printf(
      "| %lld | %lld | %lld | %.2f | %.2f | %lld | %lld | %lld | %.1f | %.1f "
      "| %.0f | %.1f -> %.1f (truth %.1f%s, empty %.1f) |\n",
      static_cast<long long>(d), static_cast<long long>(k),
      static_cast<long long>(score.num_parent_sets()), table_mib, table_seconds,
      static_cast<long long>(environment->encoding_dim()),
      static_cast<long long>(environment->num_forward_actions()),
      static_cast<long long>(parameters), local.ms_per_iteration,
      aggregation_ms, PeakRssMiB(), local.before, local.after,
      references.truth_log_r,
      references.truth_in_degree > k ? ", outside max_parents" : "",
      references.empty_log_r);
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Cost per size of federated DAG structure learning (BGe).");
  absl::ParseCommandLine(argc, argv);
  std::vector<int64_t> sizes;
  for (absl::string_view field :
       absl::StrSplit(absl::GetFlag(FLAGS_variables), ',', absl::SkipEmpty())) {
    int64_t d = 0;
    if (!absl::SimpleAtoi(field, &d) || d < 2) {
      std::fprintf(stderr, "bad --variables entry '%s'\n",
                   std::string(field).c_str());
      return 2;
    }
    sizes.push_back(d);
  }
  std::printf(
      "clients %lld, %lld rows each (standardised), batch %lld, MLP 2x%lld, "
      "%lld timed iterations per phase, learning check after %lld local "
      "iterations on %lld samples, 1 thread\n\n",
      static_cast<long long>(absl::GetFlag(FLAGS_clients)),
      static_cast<long long>(absl::GetFlag(FLAGS_rows_per_client)),
      static_cast<long long>(absl::GetFlag(FLAGS_batch_size)),
      static_cast<long long>(absl::GetFlag(FLAGS_hidden_width)),
      static_cast<long long>(absl::GetFlag(FLAGS_timed_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_learn_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_eval_samples)));
  // Every LibTorch call runs in a child (the machine line too: its sgemm
  // starts BLAS threads, which must not exist in a process that forks).
  std::fflush(stdout);  // or the child would print the buffer again
  const pid_t reporter = fork();
  if (reporter == 0) {
    std::printf("machine: %s\n\n", epgfn::MachineReportLine().c_str());
    std::fflush(stdout);
    _exit(0);
  }
  waitpid(reporter, nullptr, 0);
  std::printf(
      "| variables | max_parents | parent sets per node | table MiB (per "
      "client) | table build s | encoding width | actions | policy "
      "parameters | local ms/iter | aggregation ms/iter | peak RSS MiB | mean "
      "log-likelihood of sampled DAGs, untrained -> trained |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  int failures = 0;
  for (int64_t d : sizes) {
    // A child per size, so that the peak RSS is that size's alone; the
    // parent never touches LibTorch, so forking is safe.
    const pid_t child = fork();
    if (child == 0) {
      const absl::Status status = epgfn::RunSize(d);
      if (!status.ok()) {
        std::fprintf(stderr, "variables=%lld: %s\n", static_cast<long long>(d),
                     status.ToString().c_str());
        _exit(1);
      }
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}
