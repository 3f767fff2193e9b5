// Phylogenetics at field scale: for 8, 16, 27, 41 and 64 taxa (the first 8
// and 16 taxa of DS1, then DS1, DS4 and DS8 as Debian's
// beast2-mcmc-examples ships them), the state encoding's width, the policy's
// parameter count, the process's peak memory, and ms per iteration of local
// training (CB on the client's JC69 reward of the whole alignment) and of
// aggregation (4 local models, no reward), plus the mean log-likelihood of
// on-policy trees before and after the timed local training (does the
// policy learn at this size?) and the trained local model's FCS against the
// reward it trains on (a fixed pool, untimed).
//
//   bazel run -c opt //tests/bench:phylo_scale -- --threads=1
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aggregate/aggregator.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/alignment_writer.h"
#include "common/env/phylo/phylo.h"
#include "common/eval/flow_consistency.h"
#include "common/eval/sample_quality.h"
#include "common/eval/terminal_probability.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(int32_t, threads, 1, "Intra-op threads (set explicitly).");
ABSL_FLAG(std::string, sizes, "8,16,27,41,64", "Taxa counts, increasing.");
ABSL_FLAG(int64_t, iterations, 30, "Timed local training iterations.");
ABSL_FLAG(int64_t, aggregation_iterations, 10, "Timed aggregation iterations.");
ABSL_FLAG(int64_t, batch_size, 64, "Trajectories per iteration.");
ABSL_FLAG(int64_t, hidden_width, 128, "Policy hidden width (2 layers).");
ABSL_FLAG(double, temperature, 20.0, "Reward temperature.");
ABSL_FLAG(std::string, jc69_kernel, "tensor",
          "The jc69 reward's kernel: tensor (default) or loops.");
ABSL_FLAG(int64_t, fcs_samples, 256,
          "On-policy samples of the FCS pool (16 backward samples per tree, "
          "256 subsets of 8), the same at every size; 0: no FCS.");
ABSL_FLAG(std::string, benchmark_dir,
          "/usr/share/doc/beast2-mcmc/examples/benchmark/1",
          "Folder of the testHKY*.xml.gz benchmark alignments.");
ABSL_FLAG(std::string, work_dir, "/tmp/epgfn_phylo_scale",
          "Where the taxon subsets are written.");

namespace epgfn {
namespace {

double PeakRssMib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// The alignment holding at least `taxa` taxa: DS1 (27), DS4 (41), DS8 (64).
std::string SourceFor(int64_t taxa) {
  const std::string dir = absl::GetFlag(FLAGS_benchmark_dir);
  if (taxa <= 27) return dir + "/testHKY336.xml.gz";
  if (taxa <= 41) return dir + "/testHKY1366.xml.gz";
  return dir + "/testHKY755.xml.gz";
}

double MeanLogLikelihood(PolicyNet& policy, const Environment& environment,
                         const LogReward& likelihood, RandomSource& random) {
  torch::NoGradGuard no_grad;
  Trajectories trajectories =
      SampleTrajectories(policy, environment, 256, {}, random);
  return likelihood.LogRewardFloat64(trajectories.terminal_states)
      .mean()
      .item<double>();
}

void PrintHeader() {
  std::printf(
      "# %s\n# %lld timed local / %lld aggregation iterations, batch "
      "%lld, 2x%lld MLP, temperature %g, %d thread(s), jc69 kernel %s\n",
      MachineReportLine().c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_aggregation_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_batch_size)),
      static_cast<long long>(absl::GetFlag(FLAGS_hidden_width)),
      absl::GetFlag(FLAGS_temperature), absl::GetFlag(FLAGS_threads),
      absl::GetFlag(FLAGS_jc69_kernel).c_str());
  std::printf(
      "| taxa | sites (patterns) | encoding width | forward actions | "
      "parameters | local ms/iter | aggregation ms/iter | mean log L "
      "before -> after | FCS after | peak RSS MiB |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
}

// The daemons' cheaper backward estimate: the default 64 backward samples
// of a 64-taxon tree cost minutes.
FcsOptions ScaleFcsOptions() {
  FcsOptions options;
  options.num_samples = absl::GetFlag(FLAGS_fcs_samples);
  options.num_backward_samples = kDaemonFcsBackwardSamples;
  return options;
}

// One size's instance: its first `taxa` taxa written to the work folder, the
// phylo environment over them, the data likelihood and the client reward.
struct SizeInstance {
  int64_t sites = 0;
  std::unique_ptr<Environment> environment;
  RewardParts parts;
  std::unique_ptr<LogReward> reward;
};

absl::StatusOr<SizeInstance> MakeSizeInstance(int64_t taxa) {
  ASSIGN_OR_RETURN(Alignment alignment, ReadAlignment(SourceFor(taxa)));
  alignment.taxa.resize(taxa);
  alignment.states = alignment.states.narrow(0, 0, taxa).contiguous();
  const std::string path =
      absl::StrCat(absl::GetFlag(FLAGS_work_dir), "/taxa", taxa, ".fasta");
  RETURN_IF_ERROR(WriteFileAtomically(
      path, FormatAlignment(alignment, AlignmentFormat::kFasta)));
  const std::string kernel =
      absl::StrCat(",kernel=", absl::GetFlag(FLAGS_jc69_kernel));
  SizeInstance instance;
  instance.sites = alignment.num_sites();
  ASSIGN_OR_RETURN(instance.environment,
                   MakeEnvironment(*EnvironmentConfig::Parse(absl::StrCat(
                       "phylo:taxa=", absl::StrJoin(alignment.taxa, ";")))));
  const auto& phylo =
      dynamic_cast<const PhyloEnvironment&>(*instance.environment);
  ASSIGN_OR_RETURN(
      instance.parts,
      MakePhyloReward(phylo, *RewardConfig::Parse(absl::StrCat(
                                 "jc69:alignment=", path, kernel))));
  ASSIGN_OR_RETURN(
      instance.reward,
      MakeLogReward(*instance.environment,
                    *RewardConfig::Parse(absl::StrCat(
                        "jc69:alignment=", path, kernel,
                        ",temperature=", absl::GetFlag(FLAGS_temperature))),
                    RewardContext{4}));
  return instance;
}

// SampledFlowConsistency with the reward in float64. The backward estimate
// bounds its own passes' memory (BackwardTrajectoriesPerPass), so the peak
// RSS column holds at most one such pass on top of training.
std::string FcsAfter(PolicyNet& policy, const SizeInstance& instance) {
  const Environment& environment = *instance.environment;
  const FcsOptions options = ScaleFcsOptions();
  if (options.num_samples <= 0) return "off";
  RandomSource random(11);
  torch::NoGradGuard no_grad;
  const torch::Tensor pool = UniqueRows(
      SampleTrajectories(policy, environment, options.num_samples, {}, random)
          .terminal_states);
  if (pool.size(0) < options.subset_size) {
    return absl::StrCat("n/a (", pool.size(0), " distinct trees)");
  }
  const torch::Tensor log_pt = EstimateLogTerminalProbability(
      policy, environment, pool, options.num_backward_samples, random);
  const double fcs = FlowConsistencyInSubgraphs(
      log_pt, instance.reward->LogRewardFloat64(pool), options.subset_size,
      options.num_subsets, random);
  return absl::StrFormat("%.4f", fcs);
}

// ms per timed local iteration (after 2 untimed) of CB on the client
// reward, the mean log-likelihood of on-policy trees before and after, and
// the trained model's FCS against that reward.
struct LocalTiming {
  double ms_per_iteration = 0;
  double before = 0;
  double after = 0;
  std::string fcs;
};

absl::StatusOr<LocalTiming> TimeLocalTraining(const SizeInstance& instance,
                                              PolicyNet& policy) {
  const Environment& environment = *instance.environment;
  RandomSource random(7);
  LocalTiming timing;
  timing.before = MeanLogLikelihood(policy, environment,
                                    *instance.parts.log_likelihood, random);
  TrainingOptions options;
  options.iterations = absl::GetFlag(FLAGS_iterations) + 2;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = 0.05;
  options.seed = 3;
  RewardTarget target(instance.reward.get());
  ASSIGN_OR_RETURN(auto trainer,
                   Trainer::Create(&environment, policy, &target, options));
  RETURN_IF_ERROR(trainer->RunUntil(2));  // warm-up, untimed
  const auto start = Clock::now();
  RETURN_IF_ERROR(trainer->Run());
  timing.ms_per_iteration =
      1000.0 * SecondsSince(start) / absl::GetFlag(FLAGS_iterations);
  timing.after = MeanLogLikelihood(policy, environment,
                                   *instance.parts.log_likelihood, random);
  timing.fcs = FcsAfter(policy, instance);
  return timing;
}

// ms per timed aggregation iteration (after 2 untimed) of 4 copies of
// `policy`.
absl::StatusOr<double> TimeAggregation(Environment& environment,
                                       const PolicyArchitecture& architecture,
                                       PolicyNet policy) {
  std::vector<LocalModel> locals;
  for (int i = 0; i < 4; ++i) {
    locals.push_back(LocalModel{absl::StrCat("client-", i),
                                environment.config(), ClonePolicy(policy),
                                std::nullopt});
  }
  AggregationOptions aggregation;
  aggregation.architecture = architecture;
  aggregation.training.iterations =
      absl::GetFlag(FLAGS_aggregation_iterations) + 2;
  aggregation.training.batch_size = absl::GetFlag(FLAGS_batch_size);
  aggregation.evaluate_exact = false;
  ASSIGN_OR_RETURN(
      auto aggregator,
      Aggregator::Create(&environment, std::move(locals), aggregation));
  RETURN_IF_ERROR(aggregator->RunUntil(2));
  const auto start = Clock::now();
  RETURN_IF_ERROR(aggregator->Run());
  return 1000.0 * SecondsSince(start) /
         absl::GetFlag(FLAGS_aggregation_iterations);
}

// One table row.
absl::Status RunSize(int64_t taxa) {
  ASSIGN_OR_RETURN(SizeInstance instance, MakeSizeInstance(taxa));
  Environment& environment = *instance.environment;
  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakePolicy(environment, architecture, 1, torch::kCPU));
  int64_t parameters = 0;
  for (const auto& p : policy->parameters()) parameters += p.numel();
  ASSIGN_OR_RETURN(LocalTiming local, TimeLocalTraining(instance, policy));
  ASSIGN_OR_RETURN(double aggregation_ms,
                   TimeAggregation(environment, architecture, policy));
  std::printf(
      "| %lld | %lld | %lld | %lld | %lld | %.1f | %.1f | %.1f -> "
      "%.1f | %s | %.0f |\n",
      static_cast<long long>(taxa), static_cast<long long>(instance.sites),
      static_cast<long long>(environment.encoding_dim()),
      static_cast<long long>(environment.num_forward_actions()),
      static_cast<long long>(parameters), local.ms_per_iteration,
      aggregation_ms, local.before, local.after, local.fcs.c_str(),
      PeakRssMib());
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::Status Run() {
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  RETURN_IF_ERROR(MakeDirectories(absl::GetFlag(FLAGS_work_dir)));
  PrintHeader();
  for (absl::string_view size_text :
       absl::StrSplit(absl::GetFlag(FLAGS_sizes), ',')) {
    int64_t taxa = 0;
    if (!absl::SimpleAtoi(size_text, &taxa) || taxa < 4 || taxa > 64) {
      return absl::InvalidArgumentError("--sizes: integers in 4..64");
    }
    RETURN_IF_ERROR(RunSize(taxa));
  }
  std::printf("\n%s\n", FcsLegend(ScaleFcsOptions()).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("phylo_scale", epgfn::Run());
}
