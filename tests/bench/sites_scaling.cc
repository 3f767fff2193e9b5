// The EP-GFlowNets paper's sites-scaling experiment on resampled real data:
// wall-clock of federated inference (clients in parallel, so the slowest
// client, plus the aggregation) against a centralized GFlowNet trained on
// the full-data posterior, as the number of alignment sites grows.
//
// For each site count S, S columns of the alignment are drawn with
// replacement (a seeded bootstrap) for a taxon subset small enough to
// enumerate, and written as FASTA. Client i of N holds a contiguous 1/N of
// the sites (reward jc69:index=i,count=N); the centralized model trains on
// jc69 over all S sites, which is exactly the product of the client rewards
// (JC69 with fixed branch lengths factorises over sites). The likelihood is
// evaluated per site (compress=0), as in the paper's implementation, so its
// cost is linear in S; with pattern compression it would saturate at the
// subset's distinct columns (186 for the first 6 primates taxa). The rewards
// are tempered in proportion to S (temperature = reference_temperature x S /
// reference_sites) so that every S has a posterior of the same sharpness and
// the TVs are comparable.
//
// Times are the training thread's CPU seconds (one intra-op thread, clients
// one after another): what each phase takes on a dedicated core, which is
// what a client on its own machine has, and robust to a shared machine's
// load. TV is exact, against all (2n-3)!! rooted topologies.
//
//   bazel run -c opt //tests/bench:sites_scaling -- --sites=2000,4000
//
// With --target_tv > 0 each method instead trains until its exact TV to the
// full-data target is at most the target (sites_accuracy.h), and the table
// compares the times to that equal accuracy.
#include <time.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/aggregate/aggregator.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/alignment.h"
#include "common/eval/exact_distribution.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/sites_accuracy.h"
#include "tests/bench/sites_accuracy_flags.h"
#include "tests/bench/sites_problem.h"
#include "tests/bench/stopwatch.h"
#include "tests/demo/figure.h"

ABSL_FLAG(std::string, alignment, "common/env/phylo/testdata/primates.nex",
          "NEXUS or FASTA alignment to resample.");
ABSL_FLAG(int, num_taxa, 6, "Use the alignment's first k taxa (k <= 8).");
ABSL_FLAG(std::string, sites, "2000,4000,6000,8000,10000",
          "Comma-separated resampled site counts.");
ABSL_FLAG(int, clients, 5, "Number of clients N (each holds S/N sites).");
ABSL_FLAG(int64_t, local_iterations, 500, "Training iterations per client.");
ABSL_FLAG(int64_t, aggregation_iterations, 500, "Aggregation iterations.");
ABSL_FLAG(int64_t, centralized_iterations, 500,
          "Iterations of the centralized GFlowNet.");
ABSL_FLAG(int64_t, batch_size, 64, "Trajectories per iteration.");
ABSL_FLAG(double, reference_temperature, 20.0,
          "Reward temperature at reference_sites sites; scaled by S.");
ABSL_FLAG(double, reference_sites, 898.0, "See reference_temperature.");
ABSL_FLAG(int, compress, 0,
          "1: fold identical columns into weighted patterns (then the cost "
          "stops growing with S); 0: per-site likelihood.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the bootstrap, models and sampling.");
ABSL_FLAG(std::string, work_dir, "",
          "Where the resampled FASTA files go (default: $TEST_TMPDIR, else "
          "a fresh $TMPDIR/epgfn_sites_scaling.XXXXXX (/tmp without "
          "$TMPDIR) of this run's own, so "
          "that runs side by side never share their files).");
ABSL_FLAG(std::string, png_dir, "",
          "Directory for time_vs_sites.png; default out/sites_scaling in the "
          "workspace under bazel run, none otherwise.");

namespace epgfn {
namespace {

absl::StatusOr<std::vector<int64_t>> ParseList(const std::string& text) {
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sites: not a positive integer: '", part, "'"));
    }
    values.push_back(value);
  }
  if (values.empty()) return absl::InvalidArgumentError("--sites is empty");
  return values;
}

struct Timed {
  double cpu_seconds = 0;
  PolicyNet policy = nullptr;
};

absl::StatusOr<Timed> Train(const Environment& environment,
                            const LogReward& reward, int64_t iterations,
                            uint64_t seed) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  Timed timed;
  const double start = ThreadCpuSeconds();
  ASSIGN_OR_RETURN(timed.policy,
                   MakePolicy(environment, architecture, seed, torch::kCPU));
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = 0.05;
  options.seed = seed + 1;
  options.progress_every = 1 << 30;
  RewardTarget target(&reward);
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, timed.policy, &target, options));
  RETURN_IF_ERROR(trainer->Run());
  timed.cpu_seconds = ThreadCpuSeconds() - start;
  return timed;
}

struct Row {
  int64_t sites = 0;
  int64_t client_patterns = 0;  // of client 0
  double slowest_client = 0;
  double aggregation = 0;
  double centralized = 0;
  double tv_federated = 0;
  double tv_centralized = 0;
  double top_probability = 0;
};

std::string DefaultDir(const std::string& flag, const char* name) {
  if (!flag.empty()) return flag;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return workspace == nullptr ? "" : absl::StrCat(workspace, "/out/", name);
}

// --work_dir (created when missing), else the test's temporary directory,
// else a fresh one: two runs that wrote their client files to one fixed
// directory overwrote each other's.
absl::StatusOr<std::string> WorkDirectory() {
  const std::string work_dir = absl::GetFlag(FLAGS_work_dir);
  if (!work_dir.empty()) {
    RETURN_IF_ERROR(MakeDirectories(work_dir));
    return work_dir;
  }
  if (const char* tmp = std::getenv("TEST_TMPDIR"); tmp != nullptr) {
    return std::string(tmp);
  }
  return MakeTemporaryDirectory("epgfn_sites_scaling.");
}

void PrintSettings(int taxa, int clients) {
  std::printf(
      "# sites scaling: %s, first %d taxa, %d clients, iterations local %lld "
      "/ aggregation %lld / centralized %lld, batch %lld, compress=%d, "
      "temperature %g x S / %g\n",
      absl::GetFlag(FLAGS_alignment).c_str(), taxa, clients,
      static_cast<long long>(absl::GetFlag(FLAGS_local_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_aggregation_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_centralized_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_batch_size)),
      absl::GetFlag(FLAGS_compress), absl::GetFlag(FLAGS_reference_temperature),
      absl::GetFlag(FLAGS_reference_sites));
  std::fflush(stdout);
}

// The local models of `clients` clients, each trained on its own block of
// the alignment's sites; the slowest one's CPU time goes to `row`.
absl::StatusOr<std::vector<LocalModel>> TrainClients(
    const Environment& environment, const std::string& params, int clients,
    uint64_t seed, Row& row) {
  std::vector<LocalModel> locals;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        MakeSplitLogReward(environment, *RewardConfig::Parse(absl::StrCat(
                                            "jc69:index=", i,
                                            ",count=", clients, ",", params))));
    if (i == 0)
      std::printf("#   S=%lld: %s\n", static_cast<long long>(row.sites),
                  reward->Describe().c_str());
    ASSIGN_OR_RETURN(Timed local, Train(environment, *reward,
                                        absl::GetFlag(FLAGS_local_iterations),
                                        seed * 1000 + 10 * i));
    row.slowest_client = std::max(row.slowest_client, local.cpu_seconds);
    locals.push_back(LocalModel{absl::StrCat("client-", i),
                                environment.config(), local.policy,
                                std::nullopt});
  }
  return locals;
}

// Aggregates `locals`; its CPU time and the global model's exact TV go to
// `row`.
absl::Status Aggregate(const Environment& environment,
                       const std::vector<LocalModel>& locals,
                       const TerminalDistribution& target, uint64_t seed,
                       Row& row) {
  AggregationOptions aggregation;
  aggregation.architecture.hidden_width = 128;
  aggregation.training.iterations = absl::GetFlag(FLAGS_aggregation_iterations);
  aggregation.training.batch_size = absl::GetFlag(FLAGS_batch_size);
  aggregation.training.exploration.epsilon = 0.05;
  aggregation.training.seed = seed * 1000 + 500;
  aggregation.training.progress_every = 1 << 30;
  aggregation.evaluate_exact = false;
  const double aggregation_start = ThreadCpuSeconds();
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(&environment, locals, aggregation));
  RETURN_IF_ERROR(aggregator->Run());
  row.aggregation = ThreadCpuSeconds() - aggregation_start;
  PolicyNet global = aggregator->global_policy();
  ASSIGN_OR_RETURN(row.tv_federated,
                   ExactTotalVariation(global, environment, target));
  return absl::OkStatus();
}

SitesProblemOptions ProblemOptions(int taxa, const std::string& work_dir,
                                   uint64_t seed) {
  SitesProblemOptions options;
  options.taxa = taxa;
  options.reference_temperature = absl::GetFlag(FLAGS_reference_temperature);
  options.reference_sites = absl::GetFlag(FLAGS_reference_sites);
  options.compress = absl::GetFlag(FLAGS_compress);
  options.seed = seed;
  options.work_dir = work_dir;
  return options;
}

// One row: the federation and the centralized run on one alignment.
absl::StatusOr<Row> RunSites(const Alignment& alignment, int taxa, int clients,
                             int64_t sites, const std::string& work_dir,
                             uint64_t seed) {
  Row row;
  row.sites = sites;
  ASSIGN_OR_RETURN(
      SitesProblem problem,
      MakeSitesProblem(alignment, sites, ProblemOptions(taxa, work_dir, seed)));
  const Environment& environment = *problem.environment;
  row.top_probability = problem.target.probabilities.max().item<double>();
  ASSIGN_OR_RETURN(
      const std::vector<LocalModel> locals,
      TrainClients(environment, problem.params, clients, seed, row));
  RETURN_IF_ERROR(Aggregate(environment, locals, problem.target, seed, row));
  ASSIGN_OR_RETURN(
      Timed central,
      Train(environment, *problem.full,
            absl::GetFlag(FLAGS_centralized_iterations), seed * 1000 + 700));
  row.centralized = central.cpu_seconds;
  ASSIGN_OR_RETURN(
      row.tv_centralized,
      ExactTotalVariation(central.policy, environment, problem.target));
  std::printf(
      "#   S=%lld done: slowest client %.1f s, aggregation %.1f s, "
      "centralized %.1f s, TV %.4f / %.4f\n",
      static_cast<long long>(sites), row.slowest_client, row.aggregation,
      row.centralized, row.tv_federated, row.tv_centralized);
  std::fflush(stdout);
  return row;
}

void PrintTable(const std::vector<Row>& rows, int clients) {
  std::printf(
      "\n| sites | sites per client | target max p | slowest client (s) | "
      "aggregation (s) | federated total (s) | centralized (s) | TV "
      "federated | TV centralized |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
      "---:|\n");
  for (const Row& row : rows) {
    std::printf(
        "| %lld | %lld | %.3f | %.1f | %.1f | %.1f | %.1f | %.4f | "
        "%.4f |\n",
        static_cast<long long>(row.sites),
        static_cast<long long>(row.sites / clients), row.top_probability,
        row.slowest_client, row.aggregation,
        row.slowest_client + row.aggregation, row.centralized, row.tv_federated,
        row.tv_centralized);
  }
}

absl::Status WriteTimeFigure(const std::vector<Row>& rows,
                             const std::string& png_dir) {
  LineFigure figure{"Federated vs centralized training time (phylo, JC69)",
                    "alignment sites",
                    "CPU time (s)",
                    false,
                    false,
                    {}};
  LineSeries federated{"federated: slowest client + aggregation", {}, {}};
  LineSeries centralized{"centralized", {}, {}};
  for (const Row& row : rows) {
    federated.x.push_back(row.sites);
    federated.y.push_back(row.slowest_client + row.aggregation);
    centralized.x.push_back(row.sites);
    centralized.y.push_back(row.centralized);
  }
  figure.series = {federated, centralized};
  RETURN_IF_ERROR(WriteFigure(figure, png_dir + "/time_vs_sites"));
  std::printf(
      "\nfigure: %s/time_vs_sites.png (CPU seconds vs sites), data in "
      "time_vs_sites.tsv next to it\n",
      png_dir.c_str());
  return absl::OkStatus();
}

absl::Status Run() {
  torch::set_num_threads(1);
  const int clients = absl::GetFlag(FLAGS_clients);
  const int taxa = absl::GetFlag(FLAGS_num_taxa);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be >= 1");
  if (taxa < 3 || taxa > 8) {
    return absl::InvalidArgumentError("--num_taxa must be in 3..8");
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> site_counts,
                   ParseList(absl::GetFlag(FLAGS_sites)));
  ASSIGN_OR_RETURN(const Alignment alignment,
                   ReadAlignment(absl::GetFlag(FLAGS_alignment)));
  if (alignment.num_taxa() < taxa) {
    return absl::InvalidArgumentError("the alignment has too few taxa");
  }
  ASSIGN_OR_RETURN(const std::string work_dir, WorkDirectory());
  PrintSettings(taxa, clients);
  std::printf("# work directory %s\n", work_dir.c_str());
  std::printf("# %s\n", MachineReportLine().c_str());
  const std::string png_dir =
      DefaultDir(absl::GetFlag(FLAGS_png_dir), "sites_scaling");
  if (AccuracyModeRequested()) {
    ASSIGN_OR_RETURN(
        const AccuracyOptions options,
        AccuracyOptionsFromFlags(absl::GetFlag(FLAGS_batch_size), seed));
    std::vector<SitesAccuracyRow> rows;
    for (int64_t sites : site_counts) {
      ASSIGN_OR_RETURN(const SitesProblem problem,
                       MakeSitesProblem(alignment, sites,
                                        ProblemOptions(taxa, work_dir, seed)));
      ASSIGN_OR_RETURN(rows.emplace_back(),
                       RunSitesToAccuracy(problem, sites, clients, options));
    }
    PrintAccuracyTable(rows);
    if (!png_dir.empty()) RETURN_IF_ERROR(WriteAccuracyFigure(rows, png_dir));
    return absl::OkStatus();
  }
  std::vector<Row> rows;
  for (int64_t sites : site_counts) {
    ASSIGN_OR_RETURN(Row row,
                     RunSites(alignment, taxa, clients, sites, work_dir, seed));
    rows.push_back(row);
  }
  PrintTable(rows, clients);
  if (!png_dir.empty()) RETURN_IF_ERROR(WriteTimeFigure(rows, png_dir));
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Federated vs centralized training time as the number of alignment "
      "sites grows (resampled columns); prints a markdown table.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("sites_scaling", epgfn::Run());
}
