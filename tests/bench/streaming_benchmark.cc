// Issue 13's benchmark: a streaming Bayes update (TrainStreamingUpdate,
// warm-started from the previous model, which is the prior of the new data)
// against retraining a fresh model from scratch on the reward of every block
// so far, per update, to the same accuracy.
//
// The alignment's sites are cut into 1 + --updates contiguous blocks. Block
// 0 trains the first model (MakeStreamingInitialReward); update t trains on
// block t's likelihood only (MakeStreamingLikelihood). After each update the
// streaming model's distance to the posterior of blocks 0..t is measured:
//   exact case: exact TV (every rooted tree enumerated; <= 8 taxa);
//   fcs case:   sampled FCS against the all-blocks reward (too many trees to
//               enumerate).
// Then a fresh model is trained on the all-blocks reward in chunks of
// --retrain_chunk iterations, measuring the same distance after each chunk,
// until it is within --tolerance of the streaming model's and it has had at
// least --first_iterations (the first model's budget: the converse check),
// or --retrain_max_iterations. Times are of training alone (evaluation
// excluded) on --threads intra-op threads.
//
// One FCS figure of a fixed 10-taxa model has a standard deviation of about
// 0.006 (BENCHMARKS.md), as large as the tolerance; --final_fcs_repeats
// makes the figures that decide the comparison means over independent
// pools, with their standard errors. --update_variants runs several update
// option sets (lr schedule, replay) from the same first model against one
// retraining per update.
//
//   bazel run -c opt //tests/bench:streaming_benchmark -- --cases=exact,fcs
#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/env/environment_registry.h"
#include "common/train/learning_rate_schedule.h"
#include "common/train/streaming_update.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/streaming_blocks.h"
#include "tests/bench/streaming_flags.h"
#include "tests/bench/streaming_retrain.h"
#include "tests/bench/streaming_table.h"

namespace epgfn {
namespace {

TrainingOptions Training(int64_t iterations, uint64_t seed) {
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  options.exploration.epsilon = absl::GetFlag(FLAGS_epsilon);
  options.seed = seed;
  options.progress_every = iterations;
  return options;
}

// The first model's and the retrainings' options: Training() with the
// from-scratch schedule.
TrainingOptions FromScratchTraining(int64_t iterations, uint64_t seed) {
  TrainingOptions options = Training(iterations, seed);
  options.learning_rate_schedule = absl::GetFlag(FLAGS_first_lr_schedule);
  options.learning_rate_floor = absl::GetFlag(FLAGS_first_lr_floor);
  return options;
}

// The same pool seed for every model measured.
DistanceOptions Measurement() {
  DistanceOptions options;
  options.fcs_samples = absl::GetFlag(FLAGS_fcs_samples);
  options.fcs_subsets = absl::GetFlag(FLAGS_fcs_subsets);
  options.fcs_seed = absl::GetFlag(FLAGS_seed) + 0xfc5;
  return options;
}

FinalMeasurement Final() {
  return FinalMeasurement{absl::GetFlag(FLAGS_final_fcs_repeats),
                          absl::GetFlag(FLAGS_final_fcs_subsets)};
}

absl::StatusOr<std::vector<UpdateVariant>> Variants() {
  std::string list = absl::GetFlag(FLAGS_update_variants);
  if (list.empty()) {
    list = absl::StrCat(absl::GetFlag(FLAGS_update_lr_schedule), ":",
                        absl::GetFlag(FLAGS_update_replay_fraction));
  }
  return ParseUpdateVariants(list);
}

// What the table's cells are measured against (the flags).
TableSettings Table() {
  TableSettings settings;
  settings.tolerance = absl::GetFlag(FLAGS_tolerance);
  settings.first_iterations = absl::GetFlag(FLAGS_first_iterations);
  settings.update_iterations = absl::GetFlag(FLAGS_update_iterations);
  settings.retrain_max_iterations = absl::GetFlag(FLAGS_retrain_max_iterations);
  return settings;
}

// Retrains a fresh model on blocks 0..update (the flags' settings).
absl::StatusOr<RetrainResult> RetrainOnAllBlocks(const Environment& environment,
                                                 const LogReward& all_data,
                                                 const Distance& distance,
                                                 double streaming_distance,
                                                 int update) {
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  RetrainOptions options;
  options.architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  options.policy_seed = seed + 11;
  options.training = FromScratchTraining(
      absl::GetFlag(FLAGS_retrain_max_iterations), seed + 50 + update);
  options.chunk = absl::GetFlag(FLAGS_retrain_chunk);
  options.first_budget = absl::GetFlag(FLAGS_first_iterations);
  options.tolerance = absl::GetFlag(FLAGS_tolerance);
  options.final_measurement = Final();
  return Retrain(environment, all_data, distance, streaming_distance, options);
}

void PrintCaseHeader(Metric metric, const std::string& taxa, int updates) {
  const int num_taxa = static_cast<int>(
      std::vector<std::string>(absl::StrSplit(taxa, ';')).size());
  std::printf(
      "\n## %d taxa, %s, %d updates (first model %lld iterations, updates "
      "%lld, batch %lld, lr %g, from-scratch lr schedule %s to %g, "
      "temperature %g; final FCS figures: mean "
      "of %d pools of %lld subsets)\n\n%s\nload average: %s\n\n",
      num_taxa, MetricName(metric), updates,
      (long long)absl::GetFlag(FLAGS_first_iterations),
      (long long)absl::GetFlag(FLAGS_update_iterations),
      (long long)absl::GetFlag(FLAGS_batch_size),
      absl::GetFlag(FLAGS_learning_rate),
      LearningRateScheduleName(absl::GetFlag(FLAGS_first_lr_schedule)).c_str(),
      absl::GetFlag(FLAGS_first_lr_floor), absl::GetFlag(FLAGS_temperature),
      absl::GetFlag(FLAGS_final_fcs_repeats),
      (long long)absl::GetFlag(FLAGS_final_fcs_subsets),
      MachineReportLine().c_str(), LoadAverage().c_str());
  std::fflush(stdout);
}

// Trains the first model on block 0. With --first_curve_every it is measured
// every that many iterations (measurements excluded from the time), so that
// the table shows whether its budget reached the plateau.
absl::StatusOr<PolicyNet> TrainFirstModel(Metric metric,
                                          const Environment& environment,
                                          const LogReward& block0) {
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int64_t budget = absl::GetFlag(FLAGS_first_iterations);
  const int64_t every = absl::GetFlag(FLAGS_first_curve_every);
  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  ASSIGN_OR_RETURN(PolicyNet model, MakePolicy(environment, architecture,
                                               seed + 11, torch::kCPU));
  RewardTarget target(&block0);
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   Trainer::Create(&environment, model, &target,
                                   FromScratchTraining(budget, seed + 21)));
  ASSIGN_OR_RETURN(
      const Distance distance,
      Distance::Create(metric, environment, block0, Measurement()));
  double seconds = 0.0;
  while (trainer->iterations_done() < budget) {
    const int64_t next =
        every > 0 ? std::min(budget, trainer->iterations_done() + every)
                  : budget;
    const auto start = Clock::now();
    model->train();
    RETURN_IF_ERROR(trainer->RunUntil(next));
    seconds += SecondsSince(start);
    model->eval();
    ASSIGN_OR_RETURN(const double d, distance.Of(model));
    std::printf(
        "first model (block 0) at %lld iterations: %s %.4f, %.1f s "
        "training\n",
        (long long)next, MetricName(metric), d, seconds);
    std::fflush(stdout);
  }
  if (absl::GetFlag(FLAGS_final_fcs_repeats) > 1) {
    ASSIGN_OR_RETURN(const Estimate final, distance.Precise(model, Final()));
    std::printf("first model (block 0), final measurement: %s %s\n",
                MetricName(metric), WithError(final).c_str());
  }
  if (const int n = absl::GetFlag(FLAGS_fcs_noise_repeats); n > 1) {
    RETURN_IF_ERROR(PrintMeasurementNoise(
        metric, distance, model, n, absl::GetFlag(FLAGS_fcs_samples),
        {absl::GetFlag(FLAGS_fcs_subsets),
         absl::GetFlag(FLAGS_final_fcs_subsets)}));
  }
  std::printf("\n");
  return model;
}

// The streaming update of `model` on block t with one variant's options,
// measured against blocks 0..t.
absl::StatusOr<StreamingStep> TrainUpdate(const Environment& environment,
                                          const LogReward& block,
                                          const LogReward& all_data,
                                          const Distance& distance, int t,
                                          const UpdateVariant& variant,
                                          PolicyNet model) {
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  StreamingUpdateOptions options;
  options.training =
      Training(absl::GetFlag(FLAGS_update_iterations), seed + 30 + t);
  options.diagnostics_trajectories =
      absl::GetFlag(FLAGS_diagnostics_trajectories);
  options.training.learning_rate_schedule = variant.schedule;
  options.training.learning_rate_floor = absl::GetFlag(FLAGS_update_lr_floor);
  options.replay_fraction = variant.replay_fraction;
  StreamingStep step;
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(step.update,
                   TrainStreamingUpdate(environment, model, block, options,
                                        torch::kCPU, nullptr, &all_data));
  step.with_diagnostics_seconds = SecondsSince(start);
  ASSIGN_OR_RETURN(step.distance,
                   distance.Precise(step.update.policy, Final()));
  return step;
}

absl::Status RunCase(Metric metric, const std::string& taxa) {
  const int blocks = 1 + absl::GetFlag(FLAGS_updates);
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(*EnvironmentConfig::Parse(
                       absl::StrCat("phylo:taxa=", taxa))));
  ASSIGN_OR_RETURN(
      std::vector<std::unique_ptr<LogReward>> block_rewards,
      MakeBlockRewards(*environment, blocks, absl::GetFlag(FLAGS_alignment),
                       absl::GetFlag(FLAGS_temperature)));
  PrintCaseHeader(metric, taxa, blocks - 1);
  ASSIGN_OR_RETURN(const std::vector<UpdateVariant> variants, Variants());
  ASSIGN_OR_RETURN(const PolicyNet first_model,
                   TrainFirstModel(metric, *environment, *block_rewards[0]));
  const bool retraining = absl::GetFlag(FLAGS_retrain);
  PrintTableHeader(metric, Table());
  // Each variant's chain of updates from the same first model; one
  // retraining per update serves them all (it does not depend on them).
  std::vector<PolicyNet> models(variants.size(), first_model);
  std::vector<int> goal_met(variants.size(), 0);
  std::vector<const LogReward*> so_far = {block_rewards[0].get()};
  for (int t = 1; t < blocks; ++t) {
    so_far.push_back(block_rewards[t].get());
    ProductOfRewards all_data(so_far);
    ASSIGN_OR_RETURN(
        const Distance distance,
        Distance::Create(metric, *environment, all_data, Measurement()));
    std::vector<StreamingStep> steps;
    double smallest = 1e9;
    for (size_t v = 0; v < variants.size(); ++v) {
      ASSIGN_OR_RETURN(StreamingStep step,
                       TrainUpdate(*environment, *block_rewards[t], all_data,
                                   distance, t, variants[v], models[v]));
      smallest = std::min(smallest, step.distance.mean);
      models[v] = step.update.policy;
      steps.push_back(std::move(step));
    }
    std::optional<RetrainResult> retrain;
    if (retraining) {
      ASSIGN_OR_RETURN(retrain, RetrainOnAllBlocks(*environment, all_data,
                                                   distance, smallest, t));
    }
    for (size_t v = 0; v < variants.size(); ++v) {
      std::printf("| %s:%g ", variants[v].schedule_name.c_str(),
                  variants[v].replay_fraction);
      if (PrintRow(Table(), t, steps[v], retrain ? &*retrain : nullptr))
        ++goal_met[v];
    }
  }
  const double tolerance = absl::GetFlag(FLAGS_tolerance);
  for (size_t v = 0; v < variants.size(); ++v) {
    std::printf(
        "\nvariant %s:%g (learning-rate floor %g): updates with speed-up (to "
        "within %.2f) >= 2.5x and the streaming %s within %.2f of the "
        "%lld-iteration retraining: %d of %d%s",
        variants[v].schedule_name.c_str(), variants[v].replay_fraction,
        absl::GetFlag(FLAGS_update_lr_floor), tolerance, MetricName(metric),
        tolerance, (long long)absl::GetFlag(FLAGS_first_iterations),
        goal_met[v], blocks - 1, retraining ? "" : " (not retrained)");
  }
  std::printf("\nload average at end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

absl::Status Main() {
  torch::set_num_threads(absl::GetFlag(FLAGS_threads));
  std::printf("# Streaming updates against retraining (issue 13)\n");
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_cases), ',', absl::SkipEmpty())) {
    if (name == "exact") {
      RETURN_IF_ERROR(RunCase(Metric::kExactTv, absl::GetFlag(FLAGS_taxa)));
    } else if (name == "fcs") {
      RETURN_IF_ERROR(RunCase(Metric::kFcs, absl::GetFlag(FLAGS_large_taxa)));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown case '", name, "'; expected exact or fcs"));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Streaming Bayes updates against retraining from scratch, per update, "
      "to the same exact TV (or FCS).");
  absl::ParseCommandLine(argc, argv);
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    // Relative alignment paths name files of the workspace.
    if (chdir(workspace) != 0) std::perror("chdir");
  }
  absl::Status status = epgfn::Main();
  if (!status.ok()) {
    std::fprintf(stderr, "streaming_benchmark: %s\n",
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}
