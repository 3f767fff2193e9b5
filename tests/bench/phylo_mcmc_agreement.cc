// Issue 12's check of a federation's global phylogenetics model where
// nothing can be enumerated (DS1: 27 taxa): its clade frequencies against a
// Metropolis-Hastings reference on the same (full-data) target, run until
// the chains' ASDSF is at most 0.01 (MrBayes' criterion) or the budget ends.
// Prints the chains' convergence trace with the model's max abs clade
// difference to the pooled chains at each check, the time to ASDSF <= 0.01,
// and the leading clades side by side.
//
//   phylo_mcmc_agreement --config=spec.textproto --model=global.model
//     --alignment=full.fasta --reward=jc69:temperature=100
//
// The model's taxa are the spec's; --alignment must hold them all (it is
// the reference that sees all the data: the MCMC is the centralized
// baseline).
#include <google/protobuf/text_format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/env/phylo/phylo_target.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_mcmc.h"
#include "common/eval/phylo/tree_state.h"
#include "common/model/model_codec.h"
#include "common/sampling/trajectories.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "proto/federation_spec.pb.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/mcmc_report.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, config, "",
          "The federation's FederationSpec textproto.");
ABSL_FLAG(std::string, model, "", "The model file to check (a global model).");
ABSL_FLAG(std::string, alignment, "",
          "The full-data alignment (every taxon of the spec).");
ABSL_FLAG(std::string, reward, "jc69:temperature=100",
          "The full-data reward the model aims at (the product of the "
          "clients' rewards), without alignment=.");
ABSL_FLAG(int64_t, samples, 10000, "Trees drawn from the model.");
ABSL_FLAG(int, chains, 2, "Independent MCMC chains.");
ABSL_FLAG(int64_t, check_every, 4000, "MCMC steps per chain between checks.");
ABSL_FLAG(double, mcmc_seconds, 1200, "Wall-clock budget of the MCMC.");
ABSL_FLAG(int, top_clades, 12, "Leading clades printed side by side.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the chains and of the model's draws.");

namespace epgfn {
namespace {

using Tree = std::vector<Clade>;

absl::StatusOr<std::string> SpecTaxa(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, 1 << 20));
  v1::FederationSpec spec;
  if (!google::protobuf::TextFormat::ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a FederationSpec textproto"));
  }
  const auto& params = spec.environment().params();
  if (spec.environment().kind() != "phylo" || !params.contains("taxa")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a phylo federation with named taxa"));
  }
  return params.at("taxa");
}

absl::StatusOr<CladeFrequencies> ModelClades(const PhyloTarget& target) {
  ASSIGN_OR_RETURN(v1::ModelWeights weights,
                   ReadModelFile(absl::GetFlag(FLAGS_model)));
  ASSIGN_OR_RETURN(PolicyNet policy,
                   ImportModel(weights, *target.environment, torch::kCPU));
  // Against the full-data reward: the same target the chains sample.
  std::printf("model FCS against the full-data reward: %s\n(%s)\n",
              FcsCell(policy, *target.environment, *target.reward,
                      absl::GetFlag(FLAGS_seed) + 2)
                  .c_str(),
              FcsLegend().c_str());
  torch::NoGradGuard no_grad;
  RandomSource random(absl::GetFlag(FLAGS_seed) + 1);
  const auto start = Clock::now();
  std::vector<Tree> trees;
  for (int64_t done = 0; done < absl::GetFlag(FLAGS_samples);) {
    const int64_t batch =
        std::min<int64_t>(1000, absl::GetFlag(FLAGS_samples) - done);
    const Trajectories draws =
        SampleTrajectories(policy, *target.environment, batch, {}, random);
    ASSIGN_OR_RETURN(std::vector<Tree> more,
                     TreesOfStates(draws.terminal_states, target.num_taxa()));
    trees.insert(trees.end(), more.begin(), more.end());
    done += batch;
  }
  std::printf("%lld trees drawn from the model in %.1f s\n",
              (long long)trees.size(), SecondsSince(start));
  return CountClades(target.num_taxa(), trees);
}

absl::Status Main() {
  torch::set_num_threads(1);
  std::printf("# Model vs MCMC clade frequencies\n\n%s\n",
              MachineReportLine().c_str());
  ASSIGN_OR_RETURN(const std::string taxa,
                   SpecTaxa(absl::GetFlag(FLAGS_config)));
  ASSIGN_OR_RETURN(PhyloTarget target,
                   MakePhyloTarget(absl::StrCat("phylo:alignment=",
                                                absl::GetFlag(FLAGS_alignment),
                                                ",taxa=", taxa),
                                   absl::GetFlag(FLAGS_reward)));
  std::printf("target: %d taxa, %lld sites, %s\n", target.num_taxa(),
              (long long)target.site_masks.size(1),
              absl::GetFlag(FLAGS_reward).c_str());
  ASSIGN_OR_RETURN(CladeFrequencies model, ModelClades(target));
  TreeMcmcOptions options;
  options.num_chains = absl::GetFlag(FLAGS_chains);
  options.seed = absl::GetFlag(FLAGS_seed);
  ASSIGN_OR_RETURN(
      std::unique_ptr<TreeMcmc> mcmc,
      TreeMcmc::Create(target.num_taxa(), target.reward.get(), options));
  McmcRunOptions run;
  run.budget_seconds = absl::GetFlag(FLAGS_mcmc_seconds);
  run.check_every = absl::GetFlag(FLAGS_check_every);
  run.difference_column = "model vs pooled chains: max abs clade diff";
  run.stop_at_asdsf = true;
  run.row_every_check = true;
  ASSIGN_OR_RETURN(McmcCurve reference, RunMcmc(*mcmc, &model, run));
  std::printf(
      "\nASDSF <= 0.01: %s; final ASDSF %.4f after %lld steps/chain (%.1f "
      "s); model vs pooled chains, max abs clade difference: %.4f\n",
      reference.seconds_to_asdsf < 0
          ? "not reached"
          : absl::StrCat("reached after ", reference.steps_to_asdsf,
                         " steps/chain, ", reference.seconds_to_asdsf, " s")
                .c_str(),
      reference.last.asdsf.value, (long long)reference.last.steps,
      reference.last.seconds, reference.last_error);
  PrintCladeComparison(reference.pooled, model, target.taxa,
                       absl::GetFlag(FLAGS_top_clades), "MCMC (pooled)",
                       "model");
  std::printf("\nload average at end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A phylo model's clade frequencies against an MCMC reference run to "
      "ASDSF <= 0.01.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("phylo_mcmc_agreement", epgfn::Main());
}
