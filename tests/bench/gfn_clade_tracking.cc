#include "tests/bench/gfn_clade_tracking.h"

#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/eval/phylo/tree_state.h"
#include "common/sampling/trajectories.h"
#include "common/util/status_macros.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {
namespace {

using Tree = std::vector<Clade>;

// The clade frequencies of `policy`'s exact terminal distribution over the
// enumerated `states`.
absl::StatusOr<CladeFrequencies> LearnedClades(const PhyloTarget& target,
                                               PolicyNet policy,
                                               const at::Tensor& states) {
  ASSIGN_OR_RETURN(
      at::Tensor learned,
      ExactLearnedProbabilities(policy, *target.environment, states));
  ASSIGN_OR_RETURN(std::vector<Tree> trees,
                   TreesOfStates(states, target.num_taxa()));
  const at::Tensor q = learned.to(torch::kFloat64).contiguous();
  return WeightedCladeFrequencies(
      target.num_taxa(), trees,
      std::vector<double>(q.data_ptr<double>(),
                          q.data_ptr<double>() + q.numel()));
}

// One check of the GFlowNet after `done` iterations, as a table row.
absl::Status CheckGfn(const PhyloTarget& target, PolicyNet policy,
                      const TerminalDistribution& exact,
                      const CladeFrequencies& exact_clades,
                      const CladeFrequencies& mcmc_clades, int64_t done,
                      const GfnTrackOptions& options, RandomSource& random,
                      GfnTrack& track) {
  ASSIGN_OR_RETURN(CladeFrequencies learned_clades,
                   LearnedClades(target, policy, exact.states));
  // Time to draw the samples counts: a user needs them.
  const auto sample_start = Clock::now();
  Trajectories draws = SampleTrajectories(policy, *target.environment,
                                          options.samples, {}, random);
  const double sample_seconds = SecondsSince(sample_start);
  ASSIGN_OR_RETURN(std::vector<Tree> sampled,
                   TreesOfStates(draws.terminal_states, target.num_taxa()));
  const CladeFrequencies sampled_clades =
      CountClades(target.num_taxa(), sampled);
  track.final_error = MaxAbsCladeDifference(learned_clades, exact_clades);
  track.final_sampled = MaxAbsCladeDifference(sampled_clades, exact_clades);
  track.vs_mcmc = MaxAbsCladeDifference(sampled_clades, mcmc_clades);
  if (track.final_error <= options.agreement &&
      track.seconds_to_agreement < 0) {
    track.seconds_to_agreement = track.seconds;
  }
  if (track.final_sampled <= options.agreement &&
      track.sampled_seconds_to_agreement < 0) {
    track.sampled_seconds_to_agreement = track.seconds + sample_seconds;
  }
  std::printf("| %lld | %.1f | %.4f | %.4f | %.4f |\n", (long long)done,
              track.seconds, track.final_error, track.final_sampled,
              track.vs_mcmc);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const PhyloTarget& target,
                                                     int64_t iterations,
                                                     uint64_t seed,
                                                     PolicyNet* policy,
                                                     RewardTarget* reward) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  ASSIGN_OR_RETURN(*policy, MakePolicy(*target.environment, architecture, seed,
                                       torch::kCPU));
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = 64;
  options.exploration.epsilon = 0.05;
  options.seed = seed + 1;
  options.progress_every = 1 << 30;
  return Trainer::Create(target.environment.get(), *policy, reward, options);
}

absl::StatusOr<CladeFrequencies> SampledClades(const PhyloTarget& target,
                                               PolicyNet policy,
                                               int64_t samples,
                                               RandomSource& random) {
  Trajectories draws =
      SampleTrajectories(policy, *target.environment, samples, {}, random);
  ASSIGN_OR_RETURN(std::vector<Tree> sampled,
                   TreesOfStates(draws.terminal_states, target.num_taxa()));
  return CountClades(target.num_taxa(), sampled);
}

absl::StatusOr<GfnTrack> TrackGfn(const PhyloTarget& target,
                                  const TerminalDistribution& exact,
                                  const CladeFrequencies& exact_clades,
                                  const CladeFrequencies& mcmc_clades,
                                  const GfnTrackOptions& options) {
  PolicyNet policy{nullptr};
  RewardTarget reward_target(target.reward.get());
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   MakeTrainer(target, options.iterations, options.seed,
                               &policy, &reward_target));
  RandomSource random(options.seed + 2);
  std::printf(
      "\nGFlowNet (MLP 128x2, contrastive balance, batch 64):\n\n| "
      "iterations | training s | max abs diff exact p_T vs exact | %lld "
      "samples vs exact | samples vs MCMC |\n|---|---|---|---|---|\n",
      (long long)options.samples);
  GfnTrack track;
  for (int64_t done = 0; done < options.iterations;) {
    done = std::min(options.iterations, done + options.check_every);
    const auto start = Clock::now();
    RETURN_IF_ERROR(trainer->RunUntil(done));
    track.seconds += SecondsSince(start);
    RETURN_IF_ERROR(CheckGfn(target, policy, exact, exact_clades, mcmc_clades,
                             done, options, random, track));
  }
  track.fcs =
      FcsCell(policy, *target.environment, *target.reward, options.seed + 4);
  return track;
}

}  // namespace epgfn
