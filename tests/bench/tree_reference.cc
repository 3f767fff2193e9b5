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
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/phylo_target.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/phylo/consensus.h"
#include "common/eval/phylo/dnapars.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_mcmc.h"
#include "common/eval/phylo/tree_state.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/gfn_clade_tracking.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/mcmc_report.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/stopwatch.h"

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
          "The large instance: a NEXUS, FASTA, PHYLIP or BEAST XML "
          "alignment, gzipped or not. Empty: skip.");
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

using Tree = std::vector<Clade>;

// The phylo reader takes NEXUS, FASTA, PHYLIP and BEAST XML, gzipped or not
// (common/env/phylo/alignment.h), so DS1-DS8 are read as Debian ships them.
std::string LargeEnvironment() {
  return absl::StrCat("phylo:alignment=", absl::GetFlag(FLAGS_large_alignment),
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

McmcRunOptions McmcRunFlags() {
  McmcRunOptions options;
  options.budget_seconds = absl::GetFlag(FLAGS_mcmc_seconds);
  options.agreement = absl::GetFlag(FLAGS_agreement);
  options.check_every = absl::GetFlag(FLAGS_check_every);
  return options;
}

// Section 1's summary: time to agreement of each method.
void PrintSmallSummary(const McmcCurve& mcmc, const GfnTrack* gfn) {
  std::printf(
      "\n| method | time to max abs clade diff <= %.3f vs exact | final max "
      "abs diff vs exact | ASDSF <= 0.01 |\n|---|---|---|---|\n",
      absl::GetFlag(FLAGS_agreement));
  std::printf(
      "| MCMC (%d chains, NNI+SPR) | %s | %.4f | %s (%lld steps/chain) |\n",
      absl::GetFlag(FLAGS_chains), Time(mcmc.seconds_to_agreement).c_str(),
      mcmc.last_error, Time(mcmc.seconds_to_asdsf).c_str(),
      (long long)mcmc.steps_to_asdsf);
  if (gfn == nullptr) return;
  std::printf("| GFlowNet, exact p_T | %s (training) | %.4f | - |\n",
              Time(gfn->seconds_to_agreement).c_str(), gfn->final_error);
  std::printf(
      "| GFlowNet, %lld samples | %s (training + sampling) | %.4f "
      "(%.4f vs MCMC) | - |\n",
      (long long)absl::GetFlag(FLAGS_gfn_samples),
      Time(gfn->sampled_seconds_to_agreement).c_str(), gfn->final_sampled,
      gfn->vs_mcmc);
  std::printf("\nGFlowNet's FCS against the full reward: %s\n%s\n",
              gfn->fcs.c_str(), FcsLegend().c_str());
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
  ASSIGN_OR_RETURN(McmcCurve mcmc_curve,
                   RunMcmc(*mcmc, &exact_clades, McmcRunFlags()));
  PrintTopClades(mcmc_curve.pooled, &exact_clades, target.taxa, 8);
  const int64_t iterations = absl::GetFlag(FLAGS_gfn_iterations);
  if (iterations <= 0) {
    PrintSmallSummary(mcmc_curve, nullptr);
    return absl::OkStatus();
  }
  GfnTrackOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.iterations = iterations;
  options.check_every = absl::GetFlag(FLAGS_gfn_check_every);
  options.samples = absl::GetFlag(FLAGS_gfn_samples);
  options.agreement = absl::GetFlag(FLAGS_agreement);
  ASSIGN_OR_RETURN(GfnTrack gfn, TrackGfn(target, exact, exact_clades,
                                          mcmc_curve.pooled, options));
  PrintSmallSummary(mcmc_curve, &gfn);
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
  ASSIGN_OR_RETURN(McmcCurve curve, RunMcmc(*mcmc, nullptr, McmcRunFlags()));
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
                   MakeTrainer(target, iterations, absl::GetFlag(FLAGS_seed),
                               &policy, &reward_target));
  const auto start = Clock::now();
  RETURN_IF_ERROR(trainer->Run());
  const double training_seconds = SecondsSince(start);
  RandomSource random(absl::GetFlag(FLAGS_seed) + 3);
  const auto sample_start = Clock::now();
  ASSIGN_OR_RETURN(
      CladeFrequencies sampled,
      SampledClades(target, policy, absl::GetFlag(FLAGS_gfn_samples), random));
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
    large = LargeEnvironment();
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
    RETURN_IF_ERROR(ParsimonyRow(
        absl::StrCat("phylo:alignment=", absl::GetFlag(FLAGS_benchmark_dir),
                     "/", named.second, ".xml.gz"),
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
  return epgfn::ExitCode("tree_reference", epgfn::Main());
}
