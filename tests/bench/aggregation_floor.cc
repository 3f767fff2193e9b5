// How close the aggregation's local-model evaluations come to their compute
// floor (issue 14). Each iteration evaluates the N frozen local models on
// every state the global model's batch visited: N x 2P x S FLOPs, P the
// weights of one local model's matmuls and S the visited states. The floor
// is that count at the one-thread sgemm figure, measured before each row in
// the same run (so both see the same load). The instance is
// federated_experiment's (client i's reward on hypergrid 8x8 by default);
// the local models are trained briefly (--local_iterations) so that the
// global model's rollouts, which give S, visit what they visit there.
//
//   bazel run -c opt //tests/bench:aggregation_floor -- --clients=4,32,100
#include <ATen/Parallel.h>
#include <time.h>  // clock_gettime
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/train/trainer.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/federated_instance.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, clients, "4,32,100",
          "Comma-separated numbers of local models N, one row (per path) "
          "each.");
ABSL_FLAG(std::string, paths, "per_model,stacked",
          "Comma-separated evaluation paths: per_model (one forward pass per "
          "local model) and/or stacked (one batched pass over all of them).");
ABSL_FLAG(int64_t, iterations, 200, "Timed aggregation iterations per row.");
ABSL_FLAG(int64_t, warmup_iterations, 10, "Untimed iterations before a row.");
ABSL_FLAG(std::string, env, "hypergrid",
          "federated_experiment's --env: hypergrid, multiset, sequence, ... "
          "or a full spec.");
ABSL_FLAG(int64_t, local_iterations, 200,
          "Training iterations of each local model (their cost per "
          "evaluation does not depend on it; the visited states do).");
ABSL_FLAG(int64_t, hidden_width, 128, "MLP width of every model.");
ABSL_FLAG(int64_t, batch_size, 64, "Trajectories per iteration.");

namespace epgfn {
namespace {

double ThreadCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + 1e-9 * now.tv_nsec;
}

// Times the wrapped target's LogTarget (the local-model evaluations) and
// counts the states it was asked about.
class TimedTarget : public TrajectoryTarget {
 public:
  explicit TimedTarget(TrajectoryTarget* inner) : inner_(inner) {}
  torch::Tensor LogTarget(const Trajectories& trajectories) override {
    const auto start = Clock::now();
    const double cpu_start = ThreadCpuSeconds();
    torch::Tensor result = inner_->LogTarget(trajectories);
    cpu_seconds += ThreadCpuSeconds() - cpu_start;
    seconds += SecondsSince(start);
    states += trajectories.step_mask.sum().item<int64_t>();
    return result;
  }
  std::string Describe() const override { return inner_->Describe(); }

  double seconds = 0;
  double cpu_seconds = 0;
  int64_t states = 0;

 private:
  TrajectoryTarget* inner_;
};

// machine_report's sgemm (1024^3 float32 into a preallocated output, best
// of 10 after a warm-up) by this thread's CPU time.
double SgemmGflopsByCpuTime() {
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({1024, 1024});
  torch::Tensor b = torch::randn({1024, 1024});
  torch::Tensor c = torch::empty({1024, 1024});
  for (int i = 0; i < 3; ++i) torch::mm_out(c, a, b);
  double best = 1e30;
  for (int rep = 0; rep < 10; ++rep) {
    const double start = ThreadCpuSeconds();
    torch::mm_out(c, a, b);
    best = std::min(best, ThreadCpuSeconds() - start);
  }
  return 2.0 * 1024 * 1024 * 1024 / best / 1e9;
}

struct Row {
  int64_t clients = 0;
  std::string path;
  double sgemm_gflops = 0;
  double sgemm_cpu_gflops = 0;
  int64_t iterations = 0;
  int64_t states = 0;
  int64_t matmul_parameters = 0;  // P
  double evaluation_seconds = 0;
  double evaluation_cpu_seconds = 0;
  double total_seconds = 0;
};

absl::StatusOr<std::vector<int64_t>> ParseClients() {
  std::vector<int64_t> clients;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_clients), ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --clients entry '", part, "'"));
    }
    clients.push_back(value);
  }
  return clients;
}

// The weights of the Linear layers a visited state goes through.
int64_t MatmulParameters(const PolicyNet& policy) {
  int64_t count = 0;
  for (int64_t i = 0; i < policy->architecture().hidden_layers; ++i) {
    count += policy->torso_layer(i)->weight.numel();
  }
  count += policy->forward_head()->weight.numel();
  if (policy->backward_head()) count += policy->backward_head()->weight.numel();
  return count;
}

PolicyArchitecture Architecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  return architecture;
}

// federated_experiment's training settings, for the clients and the global
// model.
TrainingOptions Training(int64_t iterations, uint64_t seed) {
  TrainingOptions options;
  options.loss = LossKind::kContrastiveBalance;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = 0.05;
  options.iterations = iterations;
  options.seed = seed;
  return options;
}

// Client i's model, trained on its own reward.
absl::StatusOr<std::vector<WeightedPolicy>> TrainLocals(
    const Instance& instance) {
  std::vector<WeightedPolicy> locals;
  for (size_t i = 0; i < instance.rewards.size(); ++i) {
    ASSIGN_OR_RETURN(
        PolicyNet policy,
        MakePolicy(*instance.environment, Architecture(), i, torch::kCPU));
    RewardTarget reward(instance.rewards[i].get());
    ASSIGN_OR_RETURN(
        auto trainer,
        Trainer::Create(
            instance.environment.get(), policy, &reward,
            Training(absl::GetFlag(FLAGS_local_iterations), 100 + i)));
    RETURN_IF_ERROR(trainer->Run());
    locals.push_back(WeightedPolicy{policy, 1.0});
  }
  return locals;
}

absl::StatusOr<Row> MeasureRow(const Environment& environment,
                               const std::vector<WeightedPolicy>& locals,
                               const std::string& path) {
  Row row;
  row.clients = static_cast<int64_t>(locals.size());
  row.path = path;
  row.matmul_parameters = MatmulParameters(locals[0].policy);
  AggregatingBalanceTarget target(
      &environment, locals,
      path == "stacked" ? AggregatingBalanceTarget::Evaluation::kStacked
                        : AggregatingBalanceTarget::Evaluation::kPerModel);
  TimedTarget timed(&target);
  ASSIGN_OR_RETURN(PolicyNet global,
                   MakePolicy(environment, Architecture(), 500, torch::kCPU));
  ASSIGN_OR_RETURN(auto trainer,
                   Trainer::Create(&environment, global, &timed,
                                   Training(int64_t{1} << 30, 500)));
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_warmup_iterations); ++i) {
    RETURN_IF_ERROR(trainer->Step().status());
  }
  row.sgemm_gflops = MeasureSgemmGflops(1);
  row.sgemm_cpu_gflops = SgemmGflopsByCpuTime();
  timed.seconds = 0;
  timed.cpu_seconds = 0;
  timed.states = 0;
  row.iterations = absl::GetFlag(FLAGS_iterations);
  const auto start = Clock::now();
  for (int64_t i = 0; i < row.iterations; ++i) {
    RETURN_IF_ERROR(trainer->Step().status());
  }
  row.total_seconds = SecondsSince(start);
  row.evaluation_seconds = timed.seconds;
  row.evaluation_cpu_seconds = timed.cpu_seconds;
  row.states = timed.states;
  return row;
}

void PrintRow(const Row& row) {
  const double per_iteration = 1.0 / row.iterations;
  const double states = row.states * per_iteration;
  const double gflop = row.clients * 2.0 * row.matmul_parameters * states / 1e9;
  const double floor_ms = 1000.0 * gflop / row.sgemm_gflops;
  const double floor_cpu_ms = 1000.0 * gflop / row.sgemm_cpu_gflops;
  const double evaluation_ms = 1000.0 * row.evaluation_seconds * per_iteration;
  const double evaluation_cpu_ms =
      1000.0 * row.evaluation_cpu_seconds * per_iteration;
  std::printf(
      "| %lld | %s | %.1f / %.1f | %.0f | %lld | %.3f | %.2f / %.2f | %.2f / "
      "%.2f | %.2fx / %.2fx | %.2f | %.2f |\n",
      static_cast<long long>(row.clients), row.path.c_str(), row.sgemm_gflops,
      row.sgemm_cpu_gflops, states,
      static_cast<long long>(row.matmul_parameters), gflop, evaluation_ms,
      evaluation_cpu_ms, floor_ms, floor_cpu_ms, evaluation_ms / floor_ms,
      evaluation_cpu_ms / floor_cpu_ms,
      1000.0 * row.total_seconds * per_iteration,
      1000.0 * (row.total_seconds - row.evaluation_seconds) * per_iteration);
  std::fflush(stdout);
}

absl::Status Run() {
  at::set_num_threads(1);
  ASSIGN_OR_RETURN(const std::vector<int64_t> clients, ParseClients());
  const std::vector<std::string> paths =
      absl::StrSplit(absl::GetFlag(FLAGS_paths), ',', absl::SkipEmpty());
  for (const std::string& path : paths) {
    if (path != "per_model" && path != "stacked") {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --paths entry '", path, "'"));
    }
  }
  std::printf(
      "# %s\n# --env=%s, width %lld, batch %lld, local models trained %lld "
      "iterations, %lld timed aggregation iterations per row\n",
      MachineReportLine().c_str(), absl::GetFlag(FLAGS_env).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_hidden_width)),
      static_cast<long long>(absl::GetFlag(FLAGS_batch_size)),
      static_cast<long long>(absl::GetFlag(FLAGS_local_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_iterations)));
  std::printf(
      "\nwall / thread-CPU pairs: each time against the sgemm figure timed "
      "the same way.\n\n| N | path | sgemm GFLOP/s (wall / CPU) | visited "
      "states / iteration | P | local-eval GFLOP / iteration (N x 2P x S) | "
      "local-eval ms / iteration (wall / CPU) | floor ms / iteration (wall / "
      "CPU) | x floor (wall / CPU) | aggregation ms / iteration (wall) | rest "
      "ms / iteration (wall) |\n|---|---|---|---|---|---|---|---|---|---|---|"
      "\n");
  for (const int64_t n : clients) {
    InstanceOptions options;
    options.env = absl::GetFlag(FLAGS_env);
    options.clients = static_cast<int>(n);
    ASSIGN_OR_RETURN(const Instance instance, BuildInstance(options));
    ASSIGN_OR_RETURN(const std::vector<WeightedPolicy> locals,
                     TrainLocals(instance));
    for (const std::string& path : paths) {
      ASSIGN_OR_RETURN(const Row row,
                       MeasureRow(*instance.environment, locals, path));
      PrintRow(row);
    }
  }
  std::printf("# load average at the end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Aggregation's local-model evaluations against their compute floor "
      "N x 2P x visited states at the one-thread sgemm figure; prints a "
      "markdown table.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("aggregation_floor", epgfn::Run());
}
