// Local training throughput benchmark (CB on hypergrid:dim=2,side=16, 2x256
// MLP). Measures the one-thread sgemm figure of the machine, then trains at
// several batch sizes and prints a markdown table of trajectories/s, visited
// states/s and achieved GFLOP/s relative to sgemm, for the trainer's
// on-policy path (log-probabilities from the rollout's passes) and, with
// --compare_recompute, for the path that recomputes them (a second forward
// pass), best of --repeats alternating runs of each.
//
//   bazel run -c opt //tests/bench:local_training -- --threads=1
#include <ATen/Parallel.h>
#include <time.h>  // clock_gettime
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"

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
ABSL_FLAG(bool, compare_recompute, true,
          "Also time TrainingOptions::recompute_log_probs (sampling without "
          "gradients, then a second forward pass over every visited state: "
          "the trainer before issue 14), alternating with the default path "
          "in the same run.");
ABSL_FLAG(int32_t, repeats, 3,
          "Runs per batch size and path (alternating paths); the table keeps "
          "each one's best (highest states/s), since other work on the "
          "machine only ever slows a run down.");

namespace epgfn {
namespace {

// CPU time of the whole process. cpu/wall well below --threads means other
// processes were competing for the cores while a row ran.
double ProcessCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + 1e-9 * now.tv_nsec;
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
  bool recompute = false;  // TrainingOptions::recompute_log_probs
  int64_t steps = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;
  int64_t trajectories = 0;
  int64_t states = 0;
  int64_t parameters = 0;
};

// The --batch_sizes list; nullopt (after saying which entry) when bad.
std::optional<std::vector<int64_t>> ParseBatchSizes() {
  std::vector<int64_t> batch_sizes;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_batch_sizes),
                                               ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 2) {
      std::fprintf(stderr,
                   "bad --batch_sizes entry '%s' (need integers >= 2)\n",
                   std::string(part).c_str());
      return std::nullopt;
    }
    batch_sizes.push_back(value);
  }
  return batch_sizes;
}

// --environment and its --reward.
struct Workload {
  std::unique_ptr<Environment> environment;
  std::unique_ptr<LogReward> reward;
};

absl::StatusOr<Workload> MakeWorkload() {
  Workload workload;
  ASSIGN_OR_RETURN(const EnvironmentConfig config,
                   EnvironmentConfig::Parse(absl::GetFlag(FLAGS_environment)));
  ASSIGN_OR_RETURN(workload.environment, MakeEnvironment(config));
  ASSIGN_OR_RETURN(const RewardConfig reward_config,
                   RewardConfig::Parse(absl::GetFlag(FLAGS_reward)));
  ASSIGN_OR_RETURN(workload.reward,
                   MakeSplitLogReward(*workload.environment, reward_config));
  return workload;
}

// One row: CB training at `batch` trajectories per step, after the warm-up,
// for --iterations steps or --seconds_per_row.
absl::StatusOr<Row> MeasureRow(const Workload& workload, int64_t batch,
                               bool recompute) {
  PolicyArchitecture architecture;  // 2 x 256 MLP
  ASSIGN_OR_RETURN(PolicyNet policy, MakePolicy(*workload.environment,
                                                architecture, 1, torch::kCPU));
  TrainingOptions options;
  options.loss = LossKind::kContrastiveBalance;
  options.batch_size = batch;
  options.exploration.epsilon = 0.05;
  options.seed = 2;
  options.recompute_log_probs = recompute;
  RewardTarget target(workload.reward.get());
  ASSIGN_OR_RETURN(auto trainer, Trainer::Create(workload.environment.get(),
                                                 policy, &target, options));
  Row row;
  row.batch = batch;
  row.recompute = recompute;
  // The parameters a visited state's forward/backward pass runs through
  // (log Z is not used by CB).
  for (const auto& item : policy->named_parameters()) {
    if (item.key() != "log_z") row.parameters += item.value().numel();
  }
  for (int64_t i = 0; i < absl::GetFlag(FLAGS_warmup_iterations); ++i) {
    RETURN_IF_ERROR(trainer->Step().status());
  }
  const int64_t fixed = absl::GetFlag(FLAGS_iterations);
  const double budget = absl::GetFlag(FLAGS_seconds_per_row);
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  while (fixed > 0 ? row.steps < fixed
                   : (row.steps == 0 || SecondsSince(start) < budget)) {
    RETURN_IF_ERROR(trainer->Step().status());
    ++row.steps;
    row.trajectories += batch;
    row.states += trainer->last_batch_states();
  }
  row.seconds = SecondsSince(start);
  row.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  return row;
}

// The exact command, for BENCHMARKS.md: the flags that differ from their
// defaults, and always --threads, --batch_sizes and the row length.
std::string Command(int threads) {
  std::vector<std::string> flags = {
      absl::StrCat("--threads=", threads),
      absl::StrCat("--batch_sizes=", absl::GetFlag(FLAGS_batch_sizes))};
  if (absl::GetFlag(FLAGS_iterations) > 0) {
    flags.push_back(
        absl::StrCat("--iterations=", absl::GetFlag(FLAGS_iterations)));
  } else {
    flags.push_back(absl::StrCat("--seconds_per_row=",
                                 absl::GetFlag(FLAGS_seconds_per_row)));
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
  if (!absl::GetFlag(FLAGS_compare_recompute)) {
    flags.push_back("--nocompare_recompute");
  }
  if (absl::GetFlag(FLAGS_repeats) != 3) {
    flags.push_back(absl::StrCat("--repeats=", absl::GetFlag(FLAGS_repeats)));
  }
  return absl::StrCat("bazel run -c opt //tests/bench:local_training -- ",
                      absl::StrJoin(flags, " "));
}

// The command, date, setup, machine and FLOP model above the table.
void PrintSetup(int threads, double sgemm_one_thread, double sgemm,
                const std::string& load_before) {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::printf("Command: `%s`\n", Command(threads).c_str());
  std::printf("Date: %s; intra-op threads: %d (at::get_num_threads() = %d)\n",
              date, threads, at::get_num_threads());
  std::printf(
      "Setup: CB (contrastive balance), epsilon 0.05, %s, reward %s, "
      "MLP 2x256, Adam; %lld warm-up steps per row; best of %d runs per "
      "row\n",
      absl::GetFlag(FLAGS_environment).c_str(),
      absl::GetFlag(FLAGS_reward).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_warmup_iterations)),
      absl::GetFlag(FLAGS_repeats));
  std::printf("Load average (/proc/loadavg) before the rows: %s\n",
              load_before.c_str());
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
      "trajectory lengths). What training needs is 6*P*S: one forward "
      "(2PS) and one backward (4PS) pass over every visited state. The "
      "reuse path runs just that (the rollout's forward passes are the "
      "loss's); the recompute path runs a second forward pass over every "
      "visited state (8*P*S executed). GFLOP/s (6PS) and %% of sgemm count "
      "6*P*S for both (sgemm at --threads); executed counts what ran. "
      "cpu/wall = process CPU time / wall time (below --threads: the cores "
      "were shared with other work).\n\n");
}

void PrintTable(const std::vector<Row>& rows, double sgemm) {
  std::printf(
      "| batch | path | steps | trajectories/s | states/s | mean length | "
      "params | GFLOP/s (6PS) | %% of sgemm (6PS) | executed GFLOP/s | "
      "cpu/wall |\n");
  std::printf(
      "| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: |\n");
  for (const Row& row : rows) {
    const double trajectories_per_s = row.trajectories / row.seconds;
    const double states_per_s = row.states / row.seconds;
    const double needed = 6.0 * row.parameters * states_per_s / 1e9;
    const double executed = (row.recompute ? 8.0 : 6.0) / 6.0 * needed;
    std::printf(
        "| %lld | %s | %lld | %.0f | %.0f | %.2f | %lld | %.1f | %.1f%% | "
        "%.1f | %.2f |\n",
        static_cast<long long>(row.batch),
        row.recompute ? "recompute (8PS)" : "reuse (6PS)",
        static_cast<long long>(row.steps), trajectories_per_s, states_per_s,
        static_cast<double>(row.states) / row.trajectories,
        static_cast<long long>(row.parameters), needed, 100.0 * needed / sgemm,
        executed, row.cpu_seconds / row.seconds);
  }
}

// states/s of the reuse path over the recompute path, per batch size.
void PrintSpeedups(const std::vector<Row>& rows) {
  for (const Row& reuse : rows) {
    if (reuse.recompute) continue;
    for (const Row& recompute : rows) {
      if (!recompute.recompute || recompute.batch != reuse.batch) continue;
      std::printf("batch %lld: reuse / recompute states/s = %.2f\n",
                  static_cast<long long>(reuse.batch),
                  (reuse.states / reuse.seconds) /
                      (recompute.states / recompute.seconds));
    }
  }
}

// Exit status 2 for bad flags or workload, 1 when a row fails.
int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 1) {
    std::fprintf(stderr, "--threads must be >= 1\n");
    return 2;
  }
  at::set_num_threads(threads);
  const std::optional<std::vector<int64_t>> batch_sizes = ParseBatchSizes();
  if (!batch_sizes.has_value()) return 2;
  const int repeats = absl::GetFlag(FLAGS_repeats);
  if (repeats < 1) {
    std::fprintf(stderr, "--repeats must be >= 1\n");
    return 2;
  }
  std::vector<bool> paths = {false};
  if (absl::GetFlag(FLAGS_compare_recompute)) paths.push_back(true);
  absl::StatusOr<Workload> workload = MakeWorkload();
  if (!workload.ok()) {
    std::fprintf(stderr, "%s\n", workload.status().ToString().c_str());
    return 2;
  }
  // The machine's one-thread figure, and the figure at --threads (the
  // denominator of "% of sgemm") when that differs.
  const double sgemm_one_thread = MeasureSgemmGflops(1);
  const double sgemm =
      threads == 1 ? sgemm_one_thread : MeasureSgemmGflops(threads);
  const std::string load_before = LoadAverage();
  std::vector<Row> rows;
  for (int64_t batch : *batch_sizes) {
    std::vector<Row> best(paths.size());
    for (int repeat = 0; repeat < repeats; ++repeat) {
      for (size_t path = 0; path < paths.size(); ++path) {
        absl::StatusOr<Row> row = MeasureRow(*workload, batch, paths[path]);
        if (!row.ok()) {
          std::fprintf(stderr, "%s\n", row.status().ToString().c_str());
          return 1;
        }
        std::fprintf(stderr, "batch %lld %s: %lld steps in %.2f s\n",
                     static_cast<long long>(batch),
                     paths[path] ? "recompute" : "reuse",
                     static_cast<long long>(row->steps), row->seconds);
        if (repeat == 0 || row->states / row->seconds >
                               best[path].states / best[path].seconds) {
          best[path] = *row;
        }
      }
    }
    rows.insert(rows.end(), best.begin(), best.end());
  }
  PrintSetup(threads, sgemm_one_thread, sgemm, load_before);
  PrintTable(rows, sgemm);
  std::printf("\n");
  PrintSpeedups(rows);
  std::printf("Load average after the rows: %s\n", LoadAverage().c_str());
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
