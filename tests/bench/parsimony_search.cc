// The external check on tree search of issue 12: on DS1-DS8 (Lakner et al.
// 2008, as Debian's beast2-mcmc-examples ships them), a GFlowNet trained on
// the parsimony reward against PHYLIP's dnapars. For each instance it prints
// dnapars's best Fitch score and the best score among the GFlowNet's
// samples: at checkpoints during training (the best seen so far, and the
// mean of that checkpoint's samples) and among --samples draws at the end.
// Scores are recovered exactly from a lambda = 1 parsimony reward
// (ParsimonyScores), whatever --train_reward the GFlowNet was trained on.
//
// Run as (flags after --):
//   bazel run -c opt //tests/bench:parsimony_search
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/phylo_target.h"
#include "common/eval/phylo/dnapars.h"
#include "common/policy/policy_net.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, alignments,
          "DS1=testHKY336,DS2=testHKY501,DS3=testHKY1510,DS4=testHKY1366,"
          "DS5=testHKY3475,DS6=testHKY1044,DS7=testHKY1809,DS8=testHKY755",
          "NAME=FILE pairs: FILE.xml.gz under --benchmark_dir, all its taxa "
          "(at most 64).");
ABSL_FLAG(std::string, benchmark_dir,
          "/usr/share/doc/beast2-mcmc/examples/benchmark/1",
          "Folder of the BEAST XML files --alignments names.");
ABSL_FLAG(std::string, train_reward, "parsimony:lambda=1,temperature=4",
          "The reward the GFlowNet is trained on (a parsimony reward on the "
          "full alignment; its temperature flattens exp(-score) enough to "
          "learn from).");
ABSL_FLAG(double, seconds, 120, "Training budget of each instance.");
ABSL_FLAG(int64_t, check_every, 100,
          "Iterations between checkpoints (each draws --check_samples).");
ABSL_FLAG(int64_t, check_samples, 256, "Samples drawn at each checkpoint.");
ABSL_FLAG(int64_t, samples, 4096, "Samples drawn from the final model.");
ABSL_FLAG(int64_t, batch_size, 64, "Training batch.");
ABSL_FLAG(int64_t, hidden_width, 128, "Width of the policy's 2 hidden layers.");
ABSL_FLAG(double, epsilon, 0.05, "Epsilon-uniform exploration of training.");
ABSL_FLAG(int, dnapars_jumbles, 3, "dnapars random addition orders.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the policy, training and sampling.");

namespace epgfn {
namespace {

struct Instance {
  std::string label;
  std::string environment;  // phylo:alignment=PATH (every taxon)
};

absl::StatusOr<std::vector<Instance>> Instances() {
  std::vector<Instance> instances;
  for (absl::string_view entry : absl::StrSplit(absl::GetFlag(FLAGS_alignments),
                                                ',', absl::SkipEmpty())) {
    const std::vector<std::string> named =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (named.size() != 2 || named[0].empty() || named[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--alignments entry '", entry, "' is not NAME=FILE"));
    }
    instances.push_back(
        {absl::StrCat(named[0], " (", named[1], ")"),
         absl::StrCat("phylo:alignment=", absl::GetFlag(FLAGS_benchmark_dir),
                      "/", named[1], ".xml.gz")});
  }
  return instances;
}

// Scores of a batch of the policy's samples under the lambda = 1 target.
struct SampleScores {
  int64_t best = 0;
  double mean = 0;
};

absl::StatusOr<SampleScores> ScoreSamples(PolicyNet& policy,
                                          const PhyloTarget& scoring,
                                          int64_t count, RandomSource& random) {
  torch::NoGradGuard no_grad;
  const Trajectories draws =
      SampleTrajectories(policy, *scoring.environment, count, {}, random);
  ASSIGN_OR_RETURN(std::vector<int64_t> scores,
                   ParsimonyScores(scoring, draws.terminal_states));
  SampleScores result;
  result.best = *std::min_element(scores.begin(), scores.end());
  result.mean = std::accumulate(scores.begin(), scores.end(), 0.0) /
                static_cast<double>(scores.size());
  return result;
}

absl::StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const PhyloTarget& target,
                                                     PolicyNet* policy,
                                                     RewardTarget* reward) {
  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  ASSIGN_OR_RETURN(*policy, MakePolicy(*target.environment, architecture,
                                       absl::GetFlag(FLAGS_seed), torch::kCPU));
  TrainingOptions options;
  // The budget is in seconds; the iteration cap only has to be out of reach.
  options.iterations = int64_t{1} << 40;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = absl::GetFlag(FLAGS_epsilon);
  options.seed = absl::GetFlag(FLAGS_seed) + 1;
  options.progress_every = int64_t{1} << 40;
  return Trainer::Create(target.environment.get(), *policy, reward, options);
}

struct SearchResult {
  int64_t iterations = 0;
  double training_seconds = 0;
  int64_t best_during_training = 0;
  int64_t checkpoints_drawn = 0;
  SampleScores final_samples;
  double final_sampling_seconds = 0;
  std::string fcs;  // the final model against the training reward (FcsCell)
};

// Trains for the time budget (checkpoint draws excluded from it), keeping
// the best score any checkpoint's samples reached, then draws the final
// samples.
absl::StatusOr<SearchResult> TrainAndSearch(const PhyloTarget& training,
                                            const PhyloTarget& scoring) {
  PolicyNet policy{nullptr};
  RewardTarget reward_target(training.reward.get());
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   MakeTrainer(training, &policy, &reward_target));
  RandomSource random(absl::GetFlag(FLAGS_seed) + 2);
  SearchResult result;
  result.best_during_training = std::numeric_limits<int64_t>::max();
  std::printf(
      "\n| iterations | training s | checkpoint best | checkpoint "
      "mean | best so far |\n|---|---|---|---|---|\n");
  while (result.training_seconds < absl::GetFlag(FLAGS_seconds)) {
    const auto start = Clock::now();
    RETURN_IF_ERROR(trainer->RunUntil(trainer->iterations_done() +
                                      absl::GetFlag(FLAGS_check_every)));
    result.training_seconds += SecondsSince(start);
    ASSIGN_OR_RETURN(SampleScores checkpoint,
                     ScoreSamples(policy, scoring,
                                  absl::GetFlag(FLAGS_check_samples), random));
    result.checkpoints_drawn += absl::GetFlag(FLAGS_check_samples);
    result.best_during_training =
        std::min(result.best_during_training, checkpoint.best);
    std::printf("| %lld | %.1f | %lld | %.1f | %lld |\n",
                (long long)trainer->iterations_done(), result.training_seconds,
                (long long)checkpoint.best, checkpoint.mean,
                (long long)result.best_during_training);
    std::fflush(stdout);
  }
  result.iterations = trainer->iterations_done();
  const auto sample_start = Clock::now();
  ASSIGN_OR_RETURN(
      result.final_samples,
      ScoreSamples(policy, scoring, absl::GetFlag(FLAGS_samples), random));
  result.final_sampling_seconds = SecondsSince(sample_start);
  result.fcs = FcsCell(policy, *training.environment, *training.reward,
                       absl::GetFlag(FLAGS_seed) + 3);
  return result;
}

struct Row {
  std::string label;
  int taxa = 0;
  int64_t sites = 0;
  DnaparsResult dnapars;
  SearchResult gflownet;
};

absl::StatusOr<Row> RunInstance(const Instance& instance) {
  ASSIGN_OR_RETURN(PhyloTarget scoring,
                   MakePhyloTarget(instance.environment, "parsimony"));
  ASSIGN_OR_RETURN(
      PhyloTarget training,
      MakePhyloTarget(instance.environment, absl::GetFlag(FLAGS_train_reward)));
  Row row{instance.label, scoring.num_taxa(), scoring.site_masks.size(1)};
  std::printf("\n## %s: %d taxa, %lld sites\n", row.label.c_str(), row.taxa,
              (long long)row.sites);
  ASSIGN_OR_RETURN(std::string phylip, PhylipAlignment(scoring.site_masks));
  DnaparsOptions options;
  options.jumbles = absl::GetFlag(FLAGS_dnapars_jumbles);
  options.seed = absl::GetFlag(FLAGS_seed) * 2 + 1;
  ASSIGN_OR_RETURN(row.dnapars, RunDnapars(phylip, options));
  ASSIGN_OR_RETURN(row.gflownet, TrainAndSearch(training, scoring));
  return row;
}

void PrintSummary(const std::vector<Row>& rows) {
  std::printf(
      "\n## Summary: dnapars (%d jumbles) against a GFlowNet trained on "
      "'%s' for %.0f s\n\n| instance | taxa | sites | dnapars best (trees, "
      "s) | GFlowNet best of %lld final samples (mean) | best seen in "
      "training (samples drawn) | iterations | gap to dnapars | FCS |\n"
      "|---|---|---|---|---|---|---|---|---|\n",
      absl::GetFlag(FLAGS_dnapars_jumbles),
      absl::GetFlag(FLAGS_train_reward).c_str(), absl::GetFlag(FLAGS_seconds),
      (long long)absl::GetFlag(FLAGS_samples));
  for (const Row& row : rows) {
    const SearchResult& g = row.gflownet;
    const int64_t best = std::min(g.final_samples.best, g.best_during_training);
    std::printf(
        "| %s | %d | %lld | %.0f (%d, %.1f s) | %lld (%.1f) | %lld (%lld) | "
        "%lld | %+.1f%% | %s |\n",
        row.label.c_str(), row.taxa, (long long)row.sites,
        row.dnapars.best_score, row.dnapars.trees_found, row.dnapars.seconds,
        (long long)g.final_samples.best, g.final_samples.mean,
        (long long)g.best_during_training, (long long)g.checkpoints_drawn,
        (long long)g.iterations,
        100.0 * (best - row.dnapars.best_score) / row.dnapars.best_score,
        g.fcs.c_str());
  }
  std::printf("\nFCS: %s\n", FcsLegend().c_str());
}

absl::Status Main() {
  torch::set_num_threads(1);
  std::printf("# Parsimony search: GFlowNet vs dnapars\n\n%s\n",
              MachineReportLine().c_str());
  ASSIGN_OR_RETURN(std::vector<Instance> instances, Instances());
  std::vector<Row> rows;
  for (const Instance& instance : instances) {
    ASSIGN_OR_RETURN(Row row, RunInstance(instance));
    rows.push_back(std::move(row));
  }
  PrintSummary(rows);
  std::printf("\nload average at end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The best parsimony score among a GFlowNet's samples (trained on the "
      "parsimony reward) against dnapars's, on DS1-DS8.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("parsimony_search", epgfn::Main());
}
