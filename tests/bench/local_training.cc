// Local training throughput benchmark (CB on hypergrid:dim=2,side=16, 2x256
// MLP). Measures the one-thread sgemm figure of the machine, then trains at
// several batch sizes and prints a markdown table of trajectories/s, visited
// states/s and achieved GFLOP/s relative to sgemm.
//
//   bazel run -c opt //tests/bench:local_training -- --threads=1
#include <sched.h>  // sched_getaffinity
#include <time.h>   // clock_gettime
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "tests/bench/machine_report.h"

ABSL_FLAG(int32_t, threads, 1,
          "Intra-op thread count (at::set_num_threads), set explicitly.");
ABSL_FLAG(std::string, batch_sizes, "64,256,1024",
          "Comma-separated batch sizes (trajectories per training step), one "
          "table row each.");
ABSL_FLAG(double, seconds_per_row, 5.0,
          "Time budget per batch size: training steps are timed until this "
          "many seconds have passed (ignored when --iterations > 0).");
ABSL_FLAG(int64_t, iterations, 0,
          "If > 0, time exactly this many training steps per batch size "
          "instead of using --seconds_per_row.");
ABSL_FLAG(int64_t, warmup_iterations, 10,
          "Untimed training steps before each row.");
ABSL_FLAG(std::string, environment, "hypergrid:dim=2,side=16",
          "Environment spec.");
ABSL_FLAG(std::string, reward, "standard", "Reward spec.");

namespace epgfn {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the whole process. cpu/wall well below --threads means other
// processes were competing for the cores while a row ran.
double ProcessCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + 1e-9 * now.tv_nsec;
}

std::string EnvOrUnset(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "unset" : value;
}

// What `nproc` prints: the CPUs this process may run on.
int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return static_cast<int>(std::thread::hardware_concurrency());
  }
  return CPU_COUNT(&set);
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown";
}

struct Row {
  int64_t batch = 0;
  int64_t steps = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;
  int64_t trajectories = 0;
  int64_t states = 0;
  int64_t parameters = 0;
};

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 1) {
    std::fprintf(stderr, "--threads must be >= 1\n");
    return 2;
  }
  at::set_num_threads(threads);

  std::vector<int64_t> batch_sizes;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_batch_sizes), ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 2) {
      std::fprintf(stderr, "bad --batch_sizes entry '%s' (need integers >= 2)\n",
                   std::string(part).c_str());
      return 2;
    }
    batch_sizes.push_back(value);
  }

  auto config = EnvironmentConfig::Parse(absl::GetFlag(FLAGS_environment));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  auto environment = MakeEnvironment(*config);
  if (!environment.ok()) {
    std::fprintf(stderr, "%s\n", environment.status().ToString().c_str());
    return 2;
  }
  auto reward_config = RewardConfig::Parse(absl::GetFlag(FLAGS_reward));
  if (!reward_config.ok()) {
    std::fprintf(stderr, "%s\n", reward_config.status().ToString().c_str());
    return 2;
  }
  auto reward = MakeSplitLogReward(**environment, *reward_config);
  if (!reward.ok()) {
    std::fprintf(stderr, "%s\n", reward.status().ToString().c_str());
    return 2;
  }

  // The machine's one-thread figure, and the figure at --threads (the
  // denominator of "% of sgemm") when that differs.
  const double sgemm_one_thread = MeasureSgemmGflops(1);
  const double sgemm =
      threads == 1 ? sgemm_one_thread : MeasureSgemmGflops(threads);

  std::vector<Row> rows;
  for (int64_t batch : batch_sizes) {
    PolicyArchitecture architecture;  // 2 x 256 MLP
    auto policy = MakePolicy(**environment, architecture, 1, torch::kCPU);
    if (!policy.ok()) {
      std::fprintf(stderr, "%s\n", policy.status().ToString().c_str());
      return 1;
    }
    TrainingOptions options;
    options.loss = LossKind::kContrastiveBalance;
    options.batch_size = batch;
    options.exploration.epsilon = 0.05;
    options.seed = 2;
    RewardTarget target(reward->get());
    auto trainer = Trainer::Create(environment->get(), *policy, &target, options);
    if (!trainer.ok()) {
      std::fprintf(stderr, "%s\n", trainer.status().ToString().c_str());
      return 1;
    }
    Row row;
    row.batch = batch;
    // The parameters a visited state's forward/backward pass runs through
    // (log Z is not used by CB).
    for (const auto& item : (*policy)->named_parameters()) {
      if (item.key() != "log_z") row.parameters += item.value().numel();
    }
    for (int64_t i = 0; i < absl::GetFlag(FLAGS_warmup_iterations); ++i) {
      if (auto loss = (*trainer)->Step(); !loss.ok()) {
        std::fprintf(stderr, "%s\n", loss.status().ToString().c_str());
        return 1;
      }
    }
    const int64_t fixed = absl::GetFlag(FLAGS_iterations);
    const double budget = absl::GetFlag(FLAGS_seconds_per_row);
    const auto start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    while (fixed > 0 ? row.steps < fixed
                     : (row.steps == 0 || SecondsSince(start) < budget)) {
      if (auto loss = (*trainer)->Step(); !loss.ok()) {
        std::fprintf(stderr, "%s\n", loss.status().ToString().c_str());
        return 1;
      }
      ++row.steps;
      row.trajectories += batch;
      row.states += (*trainer)->last_batch_states();
    }
    row.seconds = SecondsSince(start);
    row.cpu_seconds = ProcessCpuSeconds() - cpu_start;
    rows.push_back(row);
    std::fprintf(stderr, "batch %lld: %lld steps in %.2f s\n",
                 static_cast<long long>(batch),
                 static_cast<long long>(row.steps), row.seconds);
  }

  // The exact command and the date, for BENCHMARKS.md.
  std::vector<std::string> flags = {
      absl::StrCat("--threads=", threads),
      absl::StrCat("--batch_sizes=", absl::GetFlag(FLAGS_batch_sizes))};
  if (absl::GetFlag(FLAGS_iterations) > 0) {
    flags.push_back(absl::StrCat("--iterations=", absl::GetFlag(FLAGS_iterations)));
  } else {
    flags.push_back(
        absl::StrCat("--seconds_per_row=", absl::GetFlag(FLAGS_seconds_per_row)));
  }
  if (absl::GetFlag(FLAGS_warmup_iterations) != 10) {
    flags.push_back(absl::StrCat("--warmup_iterations=",
                                 absl::GetFlag(FLAGS_warmup_iterations)));
  }
  if (absl::GetFlag(FLAGS_environment) != "hypergrid:dim=2,side=16") {
    flags.push_back(
        absl::StrCat("--environment=", absl::GetFlag(FLAGS_environment)));
  }
  if (absl::GetFlag(FLAGS_reward) != "standard") {
    flags.push_back(absl::StrCat("--reward=", absl::GetFlag(FLAGS_reward)));
  }
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));

  std::printf("Command: `bazel run -c opt //tests/bench:local_training -- %s`\n",
              absl::StrJoin(flags, " ").c_str());
  std::printf("Date: %s; intra-op threads: %d (at::get_num_threads() = %d)\n",
              date, threads, at::get_num_threads());
  std::printf(
      "Setup: CB (contrastive balance), epsilon 0.05, %s, reward %s, "
      "MLP 2x256, Adam; %lld warm-up steps per row\n",
      absl::GetFlag(FLAGS_environment).c_str(),
      absl::GetFlag(FLAGS_reward).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_warmup_iterations)));
  std::printf("CPU: %s; nproc %d; OPENBLAS_CORETYPE=%s, OMP_NUM_THREADS=%s\n",
              CpuModel().c_str(), UsableCpus(),
              EnvOrUnset("OPENBLAS_CORETYPE").c_str(),
              EnvOrUnset("OMP_NUM_THREADS").c_str());
  std::printf(
      "sgemm (torch::mm 1024x1024 float32, best of 10): %.1f GFLOP/s "
      "at 1 thread",
      sgemm_one_thread);
  if (threads != 1) std::printf(", %.1f GFLOP/s at %d threads", sgemm, threads);
  std::printf("\n\n");
  std::printf(
      "FLOP model: P = parameters, S = visited states/s (sum of sampled "
      "trajectory lengths). train = 6*P*S (forward + backward over every "
      "visited state in the loss); rollout = 2*P*S (one policy forward per "
      "visited state while sampling); total = 8*P*S. %% of sgemm = total / "
      "sgemm at --threads. cpu/wall = process CPU time / wall time (below "
      "--threads: the cores were shared with other work).\n\n");
  std::printf(
      "| batch | steps | trajectories/s | states/s | mean length | "
      "params | train GFLOP/s (6PS) | rollout GFLOP/s (2PS) | "
      "total GFLOP/s (8PS) | %% of sgemm | cpu/wall |\n");
  std::printf(
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: |\n");
  for (const Row& row : rows) {
    const double trajectories_per_s = row.trajectories / row.seconds;
    const double states_per_s = row.states / row.seconds;
    const double train = 6.0 * row.parameters * states_per_s / 1e9;
    const double rollout = 2.0 * row.parameters * states_per_s / 1e9;
    const double total = train + rollout;
    std::printf(
        "| %lld | %lld | %.0f | %.0f | %.2f | %lld | %.1f | %.1f | "
        "%.1f | %.1f%% | %.2f |\n",
        static_cast<long long>(row.batch), static_cast<long long>(row.steps),
        trajectories_per_s, states_per_s,
        static_cast<double>(row.states) / row.trajectories,
        static_cast<long long>(row.parameters), train, rollout, total,
        100.0 * total / sgemm, row.cpu_seconds / row.seconds);
  }
  return 0;
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Local training throughput benchmark; prints a markdown table.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::Main();
}
