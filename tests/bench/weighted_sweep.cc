// Multi-objective use and model reuse (EP-GFlowNets): N clients' local
// GFlowNets, trained once, are aggregated with every preference vector w of a
// grid on the simplex, each aggregate sampling prod_i R_i^{w_i}. Prints, per
// aggregate, its exact TV to that normalised product and the objectives'
// expected values E[log R_i(x)] under it, marks the Pareto front, and times a
// new weighted aggregate against a centralized GFlowNet trained on
// prod_i R_i^{w_i} to the same TV. Writes sweep.tsv (and, with gnuplot,
// pareto.png) to --out_dir.
//
//   bazel run -c opt //tests/bench:weighted_sweep -- --env=multiset
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/aggregate/aggregator.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, env, "multiset",
          "multiset or sequence (small enumerable defaults), or a full spec "
          "such as multiset:items=5,size=4.");
ABSL_FLAG(int, clients, 3, "Objectives (clients), 2 or 3.");
ABSL_FLAG(int, grid_steps, 4,
          "Simplex grid: weights are multiples of 1/grid_steps summing to 1, "
          "scaled by --weight_scale.");
ABSL_FLAG(double, weight_scale, 3.0,
          "Sum of every preference vector's weights (the product's overall "
          "temperature is 1/scale).");
ABSL_FLAG(int64_t, local_iterations, 1000, "Training iterations per client.");
ABSL_FLAG(int64_t, aggregation_iterations, 1000,
          "Iterations of each weighted aggregation.");
ABSL_FLAG(int64_t, centralized_max_iterations, 4000,
          "Cap on the centralized baseline's iterations in the reuse timing.");
ABSL_FLAG(std::string, out_dir, "",
          "Where sweep.tsv (and pareto.png when gnuplot is installed) go; "
          "default out/weighted_sweep in the workspace under bazel run.");

namespace epgfn {
namespace {

constexpr int64_t kBatch = 64;

PolicyArchitecture Architecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  return architecture;
}

TrainingOptions Training(int64_t iterations, uint64_t seed) {
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = kBatch;
  options.exploration.epsilon = 0.05;
  options.seed = seed;
  return options;
}

// prod_i R_i^{w_i}, the reward a centralized trainer would need.
class WeightedProductReward : public LogReward {
 public:
  WeightedProductReward(std::vector<const LogReward*> factors,
                        std::vector<double> weights)
      : factors_(std::move(factors)), weights_(std::move(weights)) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    at::Tensor total = torch::zeros({states.size(0)}, torch::kFloat64);
    for (size_t i = 0; i < factors_.size(); ++i) {
      total += weights_[i] * factors_[i]->LogRewardFloat64(states);
    }
    return total;
  }
  std::string Describe() const override { return "weighted product"; }

 private:
  std::vector<const LogReward*> factors_;
  std::vector<double> weights_;
};

struct SweepRow {
  std::vector<double> weights;
  double total_variation = 0;
  std::vector<double> expected_log_rewards;  // E_q[log R_i], per objective
  double seconds = 0;
  bool pareto = false;
};

std::vector<std::vector<double>> SimplexGrid(int clients, int steps,
                                             double scale) {
  std::vector<std::vector<double>> grid;
  for (int a = 0; a <= steps; ++a) {
    if (clients == 2) {
      grid.push_back({scale * a / steps, scale * (steps - a) / steps});
      continue;
    }
    for (int b = 0; a + b <= steps; ++b) {
      grid.push_back({scale * a / steps, scale * b / steps,
                      scale * (steps - a - b) / steps});
    }
  }
  return grid;
}

void MarkParetoFront(std::vector<SweepRow>& rows) {
  for (SweepRow& row : rows) {
    row.pareto = true;
    for (const SweepRow& other : rows) {
      bool all_geq = true;
      bool some_greater = false;
      for (size_t i = 0; i < row.expected_log_rewards.size(); ++i) {
        all_geq &= other.expected_log_rewards[i] >= row.expected_log_rewards[i];
        some_greater |=
            other.expected_log_rewards[i] > row.expected_log_rewards[i];
      }
      if (all_geq && some_greater) row.pareto = false;
    }
  }
}

absl::StatusOr<SweepRow> Aggregate(const Environment& environment,
                                   std::vector<LocalModel> locals,
                                   const std::vector<double>& weights,
                                   const std::vector<at::Tensor>& log_rewards,
                                   const at::Tensor& states) {
  SweepRow row;
  row.weights = weights;
  for (size_t i = 0; i < locals.size(); ++i) locals[i].weight = weights[i];
  AggregationOptions options;
  options.architecture = Architecture();
  options.training =
      Training(absl::GetFlag(FLAGS_aggregation_iterations), /*seed=*/9);
  options.evaluate_exact = false;
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(&environment, locals, options));
  RETURN_IF_ERROR(aggregator->Run());
  row.seconds = SecondsSince(start);
  PolicyNet global = aggregator->global_policy();
  ASSIGN_OR_RETURN(at::Tensor q,
                   ExactLearnedProbabilities(global, environment, states));
  at::Tensor log_target = torch::zeros({states.size(0)}, torch::kFloat64);
  for (size_t i = 0; i < weights.size(); ++i) {
    log_target += weights[i] * log_rewards[i];
  }
  row.total_variation = TotalVariation(q, torch::softmax(log_target, 0));
  for (const at::Tensor& log_reward : log_rewards) {
    row.expected_log_rewards.push_back((q * log_reward).sum().item<double>());
  }
  return row;
}

// Iterations (in chunks) until a centralized GFlowNet on the weighted product
// reaches `target_tv`; returns its wall-clock, excluding the evaluations.
absl::StatusOr<std::pair<double, double>> CentralizedTimeToTv(
    const Environment& environment, const LogReward& reward,
    const TerminalDistribution& target, double target_tv) {
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakePolicy(environment, Architecture(), 7, torch::kCPU));
  RewardTarget trajectory_target(&reward);
  const int64_t cap = absl::GetFlag(FLAGS_centralized_max_iterations);
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   Trainer::Create(&environment, policy, &trajectory_target,
                                   Training(cap, /*seed=*/11)));
  double seconds = 0;
  double tv = 1.0;
  for (int64_t done = 0; done < cap && tv > target_tv;) {
    done = std::min(cap, done + 100);
    const auto start = Clock::now();
    RETURN_IF_ERROR(trainer->RunUntil(done));
    seconds += SecondsSince(start);
    ASSIGN_OR_RETURN(tv, ExactTotalVariation(policy, environment, target));
  }
  return std::make_pair(seconds, tv);
}

std::string OutDir() {
  std::string dir = absl::GetFlag(FLAGS_out_dir);
  if (!dir.empty()) return dir;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return workspace == nullptr ? "out/weighted_sweep"
                              : absl::StrCat(workspace, "/out/weighted_sweep");
}

absl::Status WriteOutputs(const std::vector<SweepRow>& rows, int clients) {
  const std::string dir = OutDir();
  if (std::system(absl::StrCat("mkdir -p '", dir, "'").c_str()) != 0) {
    return absl::InternalError("cannot create " + dir);
  }
  std::string tsv;
  for (int i = 0; i < clients; ++i) absl::StrAppend(&tsv, "w", i, "\t");
  absl::StrAppend(&tsv, "tv_to_weighted_product");
  for (int i = 0; i < clients; ++i) absl::StrAppend(&tsv, "\tE_log_R", i);
  absl::StrAppend(&tsv, "\tpareto\taggregation_seconds\n");
  for (const SweepRow& row : rows) {
    for (double w : row.weights) absl::StrAppend(&tsv, w, "\t");
    absl::StrAppend(&tsv, absl::StrFormat("%.5f", row.total_variation));
    for (double e : row.expected_log_rewards) {
      absl::StrAppend(&tsv, absl::StrFormat("\t%.5f", e));
    }
    absl::StrAppend(&tsv, "\t", row.pareto ? 1 : 0,
                    absl::StrFormat("\t%.2f\n", row.seconds));
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/sweep.tsv", tsv));
  std::printf("wrote %s/sweep.tsv\n", dir.c_str());
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::printf(
        "gnuplot not installed: no pareto.png (the TSV has the data)\n");
    return absl::OkStatus();
  }
  // Objective 0 against objective 1; the front in its own colour.
  const int tv_column = clients + 1;
  const std::string script = absl::StrFormat(
      "set terminal pngcairo size 900,650 font 'Sans,11'\n"
      "set output '%s/pareto.png'\n"
      "set title 'Weighted aggregates of the same local models: objectives "
      "under prod_i R_i^{w_i}'\n"
      "set xlabel 'E[log R_0(x)] (objective 0, nats)'\n"
      "set ylabel 'E[log R_1(x)] (objective 1, nats)'\n"
      "set key bottom left box\nset grid\n"
      "plot '%s/sweep.tsv' using ($%d==0?$%d:1/0):($%d==0?$%d:1/0) with "
      "points pt 7 ps 1.4 lc rgb '#999999' title 'dominated aggregate', \\\n"
      "     '' using ($%d==1?$%d:1/0):($%d==1?$%d:1/0) with points pt 7 ps 1.8 "
      "lc rgb '#d62728' title 'Pareto front'\n",
      dir, dir, tv_column + clients + 1, tv_column + 1, tv_column + clients + 1,
      tv_column + 2, tv_column + clients + 1, tv_column + 1,
      tv_column + clients + 1, tv_column + 2);
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/pareto.gp", script));
  if (std::system(absl::StrCat("gnuplot '", dir, "/pareto.gp'").c_str()) != 0) {
    return absl::InternalError("gnuplot failed on " + dir + "/pareto.gp");
  }
  std::printf("wrote %s/pareto.png\n", dir.c_str());
  return absl::OkStatus();
}

// The clients' rewards, their values on every object, and their local
// models, each trained once for the whole sweep.
struct Clients {
  std::vector<std::unique_ptr<LogReward>> rewards;
  std::vector<at::Tensor> log_rewards;  // [i]: over the enumerated objects
  std::vector<LocalModel> locals;
};

absl::StatusOr<Clients> TrainClients(const Environment& environment,
                                     const EnvironmentConfig& config,
                                     const at::Tensor& states, int clients) {
  Clients trained;
  double local_seconds = 0;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(RewardConfig reward_config,
                     RewardConfig::Parse(absl::StrCat(
                         "client:index=", i, ",count=", clients, ",seed=3")));
    ASSIGN_OR_RETURN(trained.rewards.emplace_back(),
                     MakeSplitLogReward(environment, reward_config));
    trained.log_rewards.push_back(
        trained.rewards.back()->LogRewardFloat64(states));
    ASSIGN_OR_RETURN(PolicyNet policy, MakePolicy(environment, Architecture(),
                                                  100 + i, torch::kCPU));
    RewardTarget target(trained.rewards.back().get());
    const auto start = Clock::now();
    ASSIGN_OR_RETURN(
        std::unique_ptr<Trainer> trainer,
        Trainer::Create(
            &environment, policy, &target,
            Training(absl::GetFlag(FLAGS_local_iterations), 200 + i)));
    RETURN_IF_ERROR(trainer->Run());
    local_seconds += SecondsSince(start);
    trained.locals.push_back(
        LocalModel{absl::StrCat("client-", i), config, policy, std::nullopt});
  }
  std::printf("Local models: %d trained once, %.1f s in all\n\n", clients,
              local_seconds);
  return trained;
}

void PrintSweep(const std::vector<SweepRow>& rows) {
  std::printf(
      "| w | TV to prod R_i^w_i | E[log R_i] | Pareto | aggregation s |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const SweepRow& row : rows) {
    std::vector<std::string> expected;
    for (double e : row.expected_log_rewards) {
      expected.push_back(absl::StrFormat("%.3f", e));
    }
    std::printf("| (%s) | %.4f | (%s) | %s | %.1f |\n",
                absl::StrJoin(row.weights, ", ").c_str(), row.total_variation,
                absl::StrJoin(expected, ", ").c_str(), row.pareto ? "yes" : "",
                row.seconds);
  }
}

// Model reuse: one new weighted aggregate against a centralized model
// trained on prod_i R_i^{w_i} until it is as close to it.
absl::Status CompareReuse(const Environment& environment,
                          const Clients& trained, const at::Tensor& states) {
  std::vector<double> reuse_weights = {1.0, 0.5, 2.0};
  reuse_weights.resize(trained.locals.size());
  ASSIGN_OR_RETURN(SweepRow reuse,
                   Aggregate(environment, trained.locals, reuse_weights,
                             trained.log_rewards, states));
  std::vector<const LogReward*> factors;
  for (const auto& reward : trained.rewards) factors.push_back(reward.get());
  WeightedProductReward product(factors, reuse_weights);
  ASSIGN_OR_RETURN(TerminalDistribution target,
                   ExactTargetDistribution(environment, product));
  ASSIGN_OR_RETURN(
      auto centralized,
      CentralizedTimeToTv(environment, product, target, reuse.total_variation));
  std::printf(
      "\nModel reuse, w=(%s): new aggregate %.1f s to TV %.4f; centralized "
      "on prod R_i^w_i %.1f s to TV %.4f (%s)\n",
      absl::StrJoin(reuse_weights, ", ").c_str(), reuse.seconds,
      reuse.total_variation, centralized.first, centralized.second,
      centralized.second <= reuse.total_variation
          ? "reached"
          : "not reached within --centralized_max_iterations");
  return absl::OkStatus();
}

absl::Status Run() {
  at::set_num_threads(1);
  std::string spec = absl::GetFlag(FLAGS_env);
  if (spec == "multiset") spec = "multiset:items=5,size=4";
  if (spec == "sequence") spec = "sequence:length=4,vocab=4";
  const int clients = absl::GetFlag(FLAGS_clients);
  if (clients != 2 && clients != 3) {
    return absl::InvalidArgumentError("--clients must be 2 or 3");
  }
  ASSIGN_OR_RETURN(EnvironmentConfig config, EnvironmentConfig::Parse(spec));
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(config));
  ASSIGN_OR_RETURN(at::Tensor states, environment->EnumerateTerminalStates());
  std::printf("%s\n", MachineReportLine().c_str());
  std::printf(
      "Command: weighted_sweep --env=%s --clients=%d --grid_steps=%d "
      "--weight_scale=%g --local_iterations=%lld "
      "--aggregation_iterations=%lld (batch %lld, MLP 2x128, CB)\n",
      spec.c_str(), clients, absl::GetFlag(FLAGS_grid_steps),
      absl::GetFlag(FLAGS_weight_scale),
      static_cast<long long>(absl::GetFlag(FLAGS_local_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_aggregation_iterations)),
      static_cast<long long>(kBatch));
  ASSIGN_OR_RETURN(const Clients trained,
                   TrainClients(*environment, config, states, clients));
  std::vector<SweepRow> rows;
  for (const std::vector<double>& weights :
       SimplexGrid(clients, absl::GetFlag(FLAGS_grid_steps),
                   absl::GetFlag(FLAGS_weight_scale))) {
    ASSIGN_OR_RETURN(SweepRow row,
                     Aggregate(*environment, trained.locals, weights,
                               trained.log_rewards, states));
    rows.push_back(std::move(row));
  }
  MarkParetoFront(rows);
  PrintSweep(rows);
  RETURN_IF_ERROR(CompareReuse(*environment, trained, states));
  return WriteOutputs(rows, clients);
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Preference sweep over weighted aggregates of the same local models.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("weighted_sweep", epgfn::Run());
}
