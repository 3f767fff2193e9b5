// Independent references for the phylo environment's tree posteriors
// (issue 12): a Metropolis-Hastings sampler on the same target as the
// GFlowNet, the clade frequencies and ASDSF of its chains, and PHYLIP's
// dnapars as an external check of the best parsimony score.
//
//  1. Enumerable instance (default: 7 primates, tempered JC69): exact clade
//     marginals by enumeration; the MCMC's and a GFlowNet's clade
//     frequencies against them as training / sampling goes on, and the time
//     each needs to agree with the exact ones within --agreement.
//  2. Large instance (default: DS1 of Lakner et al. 2008 from Debian's
//     beast2-mcmc-examples, its first --large_taxa taxa): MCMC until ASDSF
//     <= 0.01 (or the budget), its clade frequencies and majority-rule
//     consensus tree.
//  3. Parsimony: dnapars's best score against the best Fitch score among
//     the MCMC's samples on the parsimony reward, on every instance.
//
// Run as (flags after --):
//   bazel run -c opt //tests/bench:tree_reference
#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/alignment.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/phylo/consensus.h"
#include "common/eval/phylo/dnapars.h"
#include "common/eval/phylo/phylo_target.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_mcmc.h"
#include "common/eval/phylo/tree_state.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/model_fcs.h"

ABSL_FLAG(std::string, small_environment,
          "phylo:alignment=common/env/phylo/testdata/primates.nex,num_taxa=7",
          "The enumerable instance (at most 8 taxa).");
ABSL_FLAG(
    std::string, jc69_reward, "jc69:temperature=20",
    "The JC69 reward of the MCMC / GFlowNet comparison (both instances).");
ABSL_FLAG(double, agreement, 0.02,
          "Max |clade frequency - exact| that counts as agreement.");
ABSL_FLAG(int, chains, 2, "Independent MCMC chains.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the chains and of the GFlowNet.");
ABSL_FLAG(int64_t, check_every, 2000,
          "MCMC steps per chain between ASDSF / agreement checks.");
ABSL_FLAG(double, mcmc_seconds, 120, "Wall-clock budget of each MCMC run.");
ABSL_FLAG(int64_t, gfn_iterations, 2000,
          "GFlowNet training iterations (0: no GFlowNet).");
ABSL_FLAG(int64_t, gfn_check_every, 250, "Iterations between GFlowNet checks.");
ABSL_FLAG(int64_t, gfn_samples, 4096,
          "GFlowNet samples whose clade frequencies are compared.");
ABSL_FLAG(std::string, large_alignment,
          "/usr/share/doc/beast2-mcmc/examples/benchmark/1/testHKY336.xml.gz",
          "The large instance: a NEXUS/FASTA alignment, or a BEAST XML "
          "(.xml or .xml.gz) that this benchmark converts to FASTA itself. "
          "Empty: skip.");
ABSL_FLAG(int, large_taxa, 27,
          "Taxa of the large alignment used (its first ones; the phylo "
          "environment takes at most 64, PhyloEnvironment::kMaxTaxa). "
          "DS1 has 27.");
ABSL_FLAG(std::string, large_jc69_reward, "jc69:temperature=20",
          "The JC69 reward of the large instance's MCMC run.");
ABSL_FLAG(int64_t, large_gfn_iterations, 400,
          "Iterations of the GFlowNet trained on the large instance's full "
          "reward (the target a federation of site-split clients aims at); "
          "0: none.");
ABSL_FLAG(int, dnapars_jumbles, 10, "dnapars random addition orders.");
ABSL_FLAG(std::string, parsimony_alignments,
          "DS1=testHKY336,DS2=testHKY501,DS3=testHKY1510,DS4=testHKY1366,"
          "DS5=testHKY3475,DS6=testHKY1044,DS7=testHKY1809,DS8=testHKY755",
          "NAME=FILE pairs of the parsimony comparison: FILE.xml.gz under "
          "--benchmark_dir, all its taxa (at most 64). Empty: none.");
ABSL_FLAG(std::string, benchmark_dir,
          "/usr/share/doc/beast2-mcmc/examples/benchmark/1",
          "Folder of the BEAST XML files --parsimony_alignments names.");
ABSL_FLAG(double, parsimony_seconds, 60, "MCMC budget of each parsimony row.");

namespace epgfn {
namespace {

using Clock = std::chrono::steady_clock;
using Tree = std::vector<Clade>;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// BEAST 1 XML (DS1-DS8 as Debian ships them): <sequence> <taxon
// idref="NAME"/> SEQUENCE </sequence>. Written as FASTA to a temporary file.
struct Converted {
  std::string path;
  int taxa = 0;
};

absl::StatusOr<Converted> BeastXmlAsFasta(const std::string& path,
                                          const std::string& out) {
  std::string xml;
  if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
    FILE* pipe = popen(absl::StrCat("zcat '", path, "'").c_str(), "r");
    if (pipe == nullptr) return absl::InternalError("cannot run zcat");
    char buffer[1 << 16];
    size_t got;
    while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      xml.append(buffer, got);
    }
    if (pclose(pipe) != 0) {
      return absl::NotFoundError(absl::StrCat("zcat ", path, " failed"));
    }
  } else {
    ASSIGN_OR_RETURN(xml, ReadFileToString(path, int64_t{1} << 30));
  }
  const std::regex sequence(
      "<sequence[^>]*>\\s*<taxon\\s+idref=\"([^\"]+)\"\\s*/>\\s*([^<]+)</"
      "sequence>");
  std::string fasta;
  int count = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), sequence);
       it != std::sregex_iterator(); ++it, ++count) {
    std::string residues;
    for (char c : (*it)[2].str()) {
      if (!std::isspace(static_cast<unsigned char>(c))) residues.push_back(c);
    }
    absl::StrAppend(&fasta, ">", (*it)[1].str(), "\n", residues, "\n");
  }
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no <sequence><taxon idref=.../>...</sequence>"));
  }
  RETURN_IF_ERROR(WriteFileAtomically(out, fasta));
  return Converted{out, count};
}

absl::StatusOr<std::string> LargeEnvironment() {
  std::string path = absl::GetFlag(FLAGS_large_alignment);
  if (path.find(".xml") != std::string::npos) {
    ASSIGN_OR_RETURN(
        Converted converted,
        BeastXmlAsFasta(path, "/tmp/epgfn-tree-reference-large.fasta"));
    path = converted.path;
  }
  return absl::StrCat("phylo:alignment=", path,
                      ",num_taxa=", absl::GetFlag(FLAGS_large_taxa));
}

absl::StatusOr<CladeFrequencies> ExactCladeFrequencies(
    const PhyloTarget& target, TerminalDistribution* exact) {
  ASSIGN_OR_RETURN(
      *exact, ExactTargetDistribution(*target.environment, *target.reward));
  ASSIGN_OR_RETURN(std::vector<Tree> trees,
                   TreesOfStates(exact->states, target.num_taxa()));
  const at::Tensor p = exact->probabilities.contiguous();
  return WeightedCladeFrequencies(
      target.num_taxa(), trees,
      std::vector<double>(p.data_ptr<double>(),
                          p.data_ptr<double>() + p.numel()));
}

TreeMcmcOptions McmcOptions() {
  TreeMcmcOptions options;
  options.num_chains = absl::GetFlag(FLAGS_chains);
  options.seed = absl::GetFlag(FLAGS_seed);
  return options;
}

std::string Time(double seconds) {
  return seconds < 0 ? std::string("not reached")
                     : absl::StrFormat("%.1f s", seconds);
}

struct McmcCurve {
  double seconds_to_asdsf = -1;      // ASDSF <= 0.01
  double seconds_to_agreement = -1;  // max |f - exact| <= agreement
  int64_t steps_to_asdsf = -1;
  ConvergencePoint last;
  double last_error = -1;
  CladeFrequencies pooled;
};

// Runs the MCMC in chunks until both thresholds are met (or the budget),
// timing the sampler only (the checks are excluded).
absl::StatusOr<McmcCurve> RunMcmc(TreeMcmc& mcmc,
                                  const CladeFrequencies* exact) {
  McmcCurve curve;
  double sampler_seconds = 0;
  const double budget = absl::GetFlag(FLAGS_mcmc_seconds);
  const double agreement = absl::GetFlag(FLAGS_agreement);
  std::printf("\n| steps/chain | sampler s | ASDSF | clades | max sd |%s\n",
              exact != nullptr ? " max abs diff to exact |" : "");
  std::printf("|---|---|---|---|---|%s\n", exact != nullptr ? "---|" : "");
  int64_t steps = 0;
  int64_t next_print = absl::GetFlag(FLAGS_check_every);
  while (sampler_seconds < budget) {
    const auto start = Clock::now();
    RETURN_IF_ERROR(mcmc.Run(absl::GetFlag(FLAGS_check_every)));
    sampler_seconds += SecondsSince(start);
    steps += absl::GetFlag(FLAGS_check_every);
    ASSIGN_OR_RETURN(Asdsf asdsf, mcmc.AsdsfAfterBurnIn(0.25, 0.1));
    curve.last = {steps, sampler_seconds, asdsf};
    const bool asdsf_met = asdsf.value <= 0.01;
    if (asdsf_met && curve.seconds_to_asdsf < 0) {
      curve.seconds_to_asdsf = sampler_seconds;
      curve.steps_to_asdsf = steps;
    }
    bool agreed = exact == nullptr;
    if (exact != nullptr) {
      curve.last_error =
          MaxAbsCladeDifference(mcmc.Frequencies(-1, 0.25), *exact);
      agreed = curve.last_error <= agreement;
      if (agreed && curve.seconds_to_agreement < 0) {
        curve.seconds_to_agreement = sampler_seconds;
      }
    }
    const bool done = curve.seconds_to_asdsf >= 0 &&
                      (exact == nullptr || curve.seconds_to_agreement >= 0);
    if (steps >= next_print || done || sampler_seconds >= budget) {
      std::printf("| %lld | %.1f | %.4f | %lld | %.4f |", (long long)steps,
                  sampler_seconds, asdsf.value, (long long)asdsf.num_clades,
                  asdsf.max_sd);
      if (exact != nullptr) std::printf(" %.4f |", curve.last_error);
      std::printf("\n");
      next_print = std::max(next_print * 2, steps + 1);
    }
    if (done) break;
  }
  curve.pooled = mcmc.Frequencies(-1, 0.25);
  int64_t accepted = 0, total = 0, evaluated = 0;
  for (int c = 0; c < mcmc.num_chains(); ++c) {
    accepted += mcmc.stats(c).accepted;
    total += mcmc.stats(c).steps;
    evaluated += mcmc.stats(c).evaluated;
  }
  std::printf(
      "\n%d chains x %lld steps, acceptance %.3f, %lld trees scored in %lld "
      "reward calls (%.0f trees/s)\n",
      mcmc.num_chains(), (long long)steps, double(accepted) / total,
      (long long)evaluated, (long long)mcmc.reward_calls(),
      evaluated / std::max(1e-9, sampler_seconds));
  return curve;
}

void PrintTopClades(const CladeFrequencies& f, const CladeFrequencies* exact,
                    const std::vector<std::string>& names, int count,
                    const char* label = "MCMC", const char* other = "exact") {
  std::vector<std::pair<double, Clade>> order;
  for (const auto& [clade, freq] : f.frequency) order.push_back({freq, clade});
  std::sort(order.rbegin(), order.rend());
  std::printf("\n| clade | %s |%s\n|---|---|%s\n", label,
              exact != nullptr ? absl::StrCat(" ", other, " |").c_str() : "",
              exact != nullptr ? "---|" : "");
  for (int i = 0; i < count && i < static_cast<int>(order.size()); ++i) {
    std::string members;
    for (int k = 0; k < f.num_taxa; ++k) {
      if (order[i].second >> k & 1) {
        absl::StrAppend(&members, members.empty() ? "" : " ", names[k]);
      }
    }
    std::printf("| %s | %.4f |", members.c_str(), order[i].first);
    if (exact != nullptr) std::printf(" %.4f |", exact->Of(order[i].second));
    std::printf("\n");
  }
}

absl::StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const PhyloTarget& target,
                                                     int64_t iterations,
                                                     PolicyNet* policy,
                                                     RewardTarget* reward) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  ASSIGN_OR_RETURN(*policy, MakePolicy(*target.environment, architecture,
                                       absl::GetFlag(FLAGS_seed), torch::kCPU));
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = 64;
  options.exploration.epsilon = 0.05;
  options.seed = absl::GetFlag(FLAGS_seed) + 1;
  options.progress_every = 1 << 30;
  return Trainer::Create(target.environment.get(), *policy, reward, options);
}

absl::StatusOr<CladeFrequencies> SampledClades(const PhyloTarget& target,
                                               PolicyNet policy,
                                               RandomSource& random) {
  Trajectories draws =
      SampleTrajectories(policy, *target.environment,
                         absl::GetFlag(FLAGS_gfn_samples), {}, random);
  ASSIGN_OR_RETURN(std::vector<Tree> sampled,
                   TreesOfStates(draws.terminal_states, target.num_taxa()));
  return CountClades(target.num_taxa(), sampled);
}

// Section 1: the enumerable instance.
absl::Status SmallInstance() {
  const std::string env = absl::GetFlag(FLAGS_small_environment);
  const std::string reward = absl::GetFlag(FLAGS_jc69_reward);
  ASSIGN_OR_RETURN(PhyloTarget target, MakePhyloTarget(env, reward));
  TerminalDistribution exact;
  ASSIGN_OR_RETURN(CladeFrequencies exact_clades,
                   ExactCladeFrequencies(target, &exact));
  std::printf(
      "\n## 1. Enumerable: %s, %s (%lld trees, mode probability "
      "%.4f, %zu clades)\n",
      env.c_str(), reward.c_str(), (long long)exact.states.size(0),
      exact.probabilities.max().item<double>(), exact_clades.frequency.size());
  ASSIGN_OR_RETURN(
      std::unique_ptr<TreeMcmc> mcmc,
      TreeMcmc::Create(target.num_taxa(), target.reward.get(), McmcOptions()));
  ASSIGN_OR_RETURN(McmcCurve mcmc_curve, RunMcmc(*mcmc, &exact_clades));
  PrintTopClades(mcmc_curve.pooled, &exact_clades, target.taxa, 8);

  double gfn_seconds_to_agreement = -1;
  double gfn_sampled_seconds_to_agreement = -1;
  double gfn_final_error = -1, gfn_final_sampled = -1, gfn_vs_mcmc = -1;
  double gfn_seconds = 0;
  std::string gfn_fcs = "-";
  const int64_t iterations = absl::GetFlag(FLAGS_gfn_iterations);
  if (iterations > 0) {
    PolicyNet policy{nullptr};
    RewardTarget reward_target(target.reward.get());
    ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                     MakeTrainer(target, iterations, &policy, &reward_target));
    RandomSource random(absl::GetFlag(FLAGS_seed) + 2);
    std::printf(
        "\nGFlowNet (MLP 128x2, contrastive balance, batch 64):\n\n| "
        "iterations | training s | max abs diff exact p_T vs exact | %lld "
        "samples vs exact | samples vs MCMC |\n|---|---|---|---|---|\n",
        (long long)absl::GetFlag(FLAGS_gfn_samples));
    const double agreement = absl::GetFlag(FLAGS_agreement);
    for (int64_t done = 0; done < iterations;) {
      done = std::min(iterations, done + absl::GetFlag(FLAGS_gfn_check_every));
      const auto start = Clock::now();
      RETURN_IF_ERROR(trainer->RunUntil(done));
      gfn_seconds += SecondsSince(start);
      ASSIGN_OR_RETURN(
          at::Tensor learned,
          ExactLearnedProbabilities(policy, *target.environment, exact.states));
      ASSIGN_OR_RETURN(std::vector<Tree> trees,
                       TreesOfStates(exact.states, target.num_taxa()));
      const at::Tensor q = learned.to(torch::kFloat64).contiguous();
      ASSIGN_OR_RETURN(
          CladeFrequencies learned_clades,
          WeightedCladeFrequencies(
              target.num_taxa(), trees,
              std::vector<double>(q.data_ptr<double>(),
                                  q.data_ptr<double>() + q.numel())));
      // Time to draw the samples counts: a user needs them.
      const auto sample_start = Clock::now();
      Trajectories draws =
          SampleTrajectories(policy, *target.environment,
                             absl::GetFlag(FLAGS_gfn_samples), {}, random);
      const double sample_seconds = SecondsSince(sample_start);
      ASSIGN_OR_RETURN(std::vector<Tree> sampled,
                       TreesOfStates(draws.terminal_states, target.num_taxa()));
      const CladeFrequencies sampled_clades =
          CountClades(target.num_taxa(), sampled);
      gfn_final_error = MaxAbsCladeDifference(learned_clades, exact_clades);
      gfn_final_sampled = MaxAbsCladeDifference(sampled_clades, exact_clades);
      gfn_vs_mcmc = MaxAbsCladeDifference(sampled_clades, mcmc_curve.pooled);
      if (gfn_final_error <= agreement && gfn_seconds_to_agreement < 0) {
        gfn_seconds_to_agreement = gfn_seconds;
      }
      if (gfn_final_sampled <= agreement &&
          gfn_sampled_seconds_to_agreement < 0) {
        gfn_sampled_seconds_to_agreement = gfn_seconds + sample_seconds;
      }
      std::printf("| %lld | %.1f | %.4f | %.4f | %.4f |\n", (long long)done,
                  gfn_seconds, gfn_final_error, gfn_final_sampled, gfn_vs_mcmc);
    }
    gfn_fcs = FcsCell(policy, *target.environment, *target.reward,
                      absl::GetFlag(FLAGS_seed) + 4);
  }
  std::printf(
      "\n| method | time to max abs clade diff <= %.3f vs exact | final max "
      "abs diff vs exact | ASDSF <= 0.01 |\n|---|---|---|---|\n",
      absl::GetFlag(FLAGS_agreement));
  std::printf(
      "| MCMC (%d chains, NNI+SPR) | %s | %.4f | %s (%lld steps/chain) |\n",
      absl::GetFlag(FLAGS_chains),
      Time(mcmc_curve.seconds_to_agreement).c_str(), mcmc_curve.last_error,
      Time(mcmc_curve.seconds_to_asdsf).c_str(),
      (long long)mcmc_curve.steps_to_asdsf);
  if (iterations > 0) {
    std::printf("| GFlowNet, exact p_T | %s (training) | %.4f | - |\n",
                Time(gfn_seconds_to_agreement).c_str(), gfn_final_error);
    std::printf(
        "| GFlowNet, %lld samples | %s (training + sampling) | %.4f "
        "(%.4f vs MCMC) | - |\n",
        (long long)absl::GetFlag(FLAGS_gfn_samples),
        Time(gfn_sampled_seconds_to_agreement).c_str(), gfn_final_sampled,
        gfn_vs_mcmc);
    std::printf("\nGFlowNet's FCS against the full reward: %s\n%s\n",
                gfn_fcs.c_str(), FcsLegend().c_str());
  }
  return absl::OkStatus();
}

// Section 2: the large instance's MCMC reference.
absl::Status LargeInstance(const std::string& env) {
  const std::string reward = absl::GetFlag(FLAGS_large_jc69_reward);
  ASSIGN_OR_RETURN(PhyloTarget target, MakePhyloTarget(env, reward));
  std::printf("\n## 2. Large: %s, %s (%d taxa, %lld sites)\n", env.c_str(),
              reward.c_str(), target.num_taxa(),
              (long long)target.site_masks.size(1));
  ASSIGN_OR_RETURN(
      std::unique_ptr<TreeMcmc> mcmc,
      TreeMcmc::Create(target.num_taxa(), target.reward.get(), McmcOptions()));
  ASSIGN_OR_RETURN(McmcCurve curve, RunMcmc(*mcmc, nullptr));
  std::printf(
      "\nASDSF <= 0.01: %s (%lld steps/chain); final ASDSF %.4f "
      "after %lld steps/chain, %.1f s\n",
      Time(curve.seconds_to_asdsf).c_str(), (long long)curve.steps_to_asdsf,
      curve.last.asdsf.value, (long long)curve.last.steps, curve.last.seconds);
  PrintTopClades(curve.pooled, nullptr, target.taxa, 12);
  ASSIGN_OR_RETURN(ConsensusTree consensus,
                   MajorityRuleConsensus(curve.pooled, target.taxa));
  std::printf("\nMajority-rule consensus: %s\n", consensus.newick.c_str());
  const int64_t iterations = absl::GetFlag(FLAGS_large_gfn_iterations);
  if (iterations <= 0) return absl::OkStatus();
  PolicyNet policy{nullptr};
  RewardTarget reward_target(target.reward.get());
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   MakeTrainer(target, iterations, &policy, &reward_target));
  const auto start = Clock::now();
  RETURN_IF_ERROR(trainer->Run());
  const double training_seconds = SecondsSince(start);
  RandomSource random(absl::GetFlag(FLAGS_seed) + 3);
  const auto sample_start = Clock::now();
  ASSIGN_OR_RETURN(CladeFrequencies sampled,
                   SampledClades(target, policy, random));
  const double sample_seconds = SecondsSince(sample_start);
  std::printf(
      "\nGFlowNet on the full reward (MLP 128x2, CB, batch 64, %lld "
      "iterations, %.1f s; %lld samples in %.1f s): max abs clade "
      "difference to the MCMC's pooled frequencies %.4f; clades >= 0.1: "
      "GFlowNet %d, MCMC %d\n",
      (long long)iterations, training_seconds,
      (long long)absl::GetFlag(FLAGS_gfn_samples), sample_seconds,
      MaxAbsCladeDifference(sampled, curve.pooled),
      static_cast<int>(
          std::count_if(sampled.frequency.begin(), sampled.frequency.end(),
                        [](const auto& entry) { return entry.second >= 0.1; })),
      static_cast<int>(std::count_if(
          curve.pooled.frequency.begin(), curve.pooled.frequency.end(),
          [](const auto& entry) { return entry.second >= 0.1; })));
  std::printf("GFlowNet's FCS against the full reward: %s\n%s\n",
              FcsCell(policy, *target.environment, *target.reward,
                      absl::GetFlag(FLAGS_seed) + 5)
                  .c_str(),
              FcsLegend().c_str());
  PrintTopClades(sampled, &curve.pooled, target.taxa, 12, "GFlowNet", "MCMC");
  return absl::OkStatus();
}

// Section 3: dnapars's best against the MCMC's on the parsimony reward.
absl::Status ParsimonyRow(const std::string& env, std::string label = "") {
  if (label.empty()) label = env;
  ASSIGN_OR_RETURN(PhyloTarget target, MakePhyloTarget(env, "parsimony"));
  ASSIGN_OR_RETURN(std::string phylip, PhylipAlignment(target.site_masks));
  DnaparsOptions options;
  options.jumbles = absl::GetFlag(FLAGS_dnapars_jumbles);
  options.seed = absl::GetFlag(FLAGS_seed) * 2 + 1;
  ASSIGN_OR_RETURN(DnaparsResult dnapars, RunDnapars(phylip, options));
  ASSIGN_OR_RETURN(
      std::unique_ptr<TreeMcmc> mcmc,
      TreeMcmc::Create(target.num_taxa(), target.reward.get(), McmcOptions()));
  // A fixed budget: the parsimony posterior exp(-score) is nearly a point
  // mass, so ASDSF is not the question here; the best score is.
  const double budget = absl::GetFlag(FLAGS_parsimony_seconds);
  const auto start = Clock::now();
  while (SecondsSince(start) < budget) RETURN_IF_ERROR(mcmc->Run(500));
  const double seconds = SecondsSince(start);
  std::set<Tree> distinct;
  int64_t samples = 0;
  for (int c = 0; c < mcmc->num_chains(); ++c) {
    samples += mcmc->samples(c).size();
    distinct.insert(mcmc->samples(c).begin(), mcmc->samples(c).end());
  }
  ASSIGN_OR_RETURN(
      std::vector<int64_t> scores,
      ParsimonyScores(target, StatesOfTrees(std::vector<Tree>(
                                  distinct.begin(), distinct.end()))));
  const int64_t best = *std::min_element(scores.begin(), scores.end());
  std::printf(
      "| %s | %d | %lld | %.0f (%d trees, %.1f s) | %lld (%lld samples, "
      "%zu distinct, %.1f s) |\n",
      label.c_str(), target.num_taxa(), (long long)target.site_masks.size(1),
      dnapars.best_score, dnapars.trees_found, dnapars.seconds, (long long)best,
      (long long)samples, distinct.size(), seconds);
  return absl::OkStatus();
}

absl::Status Main() {
  torch::set_num_threads(1);
  std::printf("# Tree references\n\n%s\n", MachineReportLine().c_str());
  RETURN_IF_ERROR(SmallInstance());
  std::string large;
  if (!absl::GetFlag(FLAGS_large_alignment).empty()) {
    ASSIGN_OR_RETURN(large, LargeEnvironment());
    RETURN_IF_ERROR(LargeInstance(large));
  }
  std::printf(
      "\n## 3. Parsimony: dnapars (%d jumbles) vs MCMC on the "
      "parsimony reward\n\n| instance | taxa | sites | dnapars best | "
      "MCMC best |\n|---|---|---|---|---|\n",
      absl::GetFlag(FLAGS_dnapars_jumbles));
  RETURN_IF_ERROR(ParsimonyRow(absl::GetFlag(FLAGS_small_environment)));
  RETURN_IF_ERROR(ParsimonyRow(
      "phylo:alignment=common/env/phylo/testdata/primates.nex,num_taxa=12"));
  if (!large.empty()) RETURN_IF_ERROR(ParsimonyRow(large));
  for (absl::string_view entry : absl::StrSplit(
           absl::GetFlag(FLAGS_parsimony_alignments), ',', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> named =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    ASSIGN_OR_RETURN(
        Converted converted,
        BeastXmlAsFasta(
            absl::StrCat(absl::GetFlag(FLAGS_benchmark_dir), "/", named.second,
                         ".xml.gz"),
            absl::StrCat("/tmp/epgfn-tree-reference-", named.first, ".fasta")));
    RETURN_IF_ERROR(
        ParsimonyRow(absl::StrCat("phylo:alignment=", converted.path,
                                  ",num_taxa=", converted.taxa),
                     absl::StrCat(named.first, " (", named.second, ")")));
  }
  std::printf("\nload average at end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "MCMC / exact / GFlowNet clade frequencies, ASDSF, and dnapars vs our "
      "best parsimony.");
  absl::ParseCommandLine(argc, argv);
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    // Relative alignment paths name files of the workspace.
    if (chdir(workspace) != 0) std::perror("chdir");
  }
  absl::Status status = epgfn::Main();
  if (!status.ok()) {
    std::fprintf(stderr, "tree_reference: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
