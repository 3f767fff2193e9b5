// Exact references for Bayesian-network structure learning on the Sachs
// protein-signalling data (11 variables, 7,466 rows), beyond enumeration:
//  (a) exact edge marginals (Tian & He's DP, edge_marginals.h) of the
//      full-data BGe posterior and of the federated product target (4
//      clients), and their difference;
//  (b) E-SHD, AUROC and AUPRC of both against the curators' ground truth;
//  (c) the BGe product gap against rows per client: edge-marginal
//      differences at d = 11, exact TV by enumeration on a 5-variable subset,
//      with a well-specified synthetic control;
//  (d) the same with the options that try to close the gap without sharing
//      data: the Laplace edge correction (product_correction.h) and clients
//      using alpha_mu / N;
//  (e) GFlowNets trained in process on a variable subset (centralized on
//      the full-data reward, centralized on the product reward, and
//      federated: clients + EP-GFlowNet aggregation), their sampled edge
//      frequencies against the DP and the ground truth.
//
//   bazel run -c opt //tests/bench:bn_exact_reference
//
// The data are read from --sachs_dir (never copied into the repository);
// without them the binary says so and exits 0. Columns are standardised
// over all rows before any split.
#include <ATen/Parallel.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/dag/data.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/bn_full_data_report.h"
#include "tests/bench/bn_gap_sweep.h"
#include "tests/bench/bn_training_report.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/sachs_data.h"

ABSL_FLAG(std::string, sachs_dir, "/work/shared/data/sachs",
          "Folder with sachs.2005.continuous.txt and "
          "sachs.2005.ground.truth.graph.txt.");
ABSL_FLAG(int32_t, clients, 4, "Clients the rows are split among.");
ABSL_FLAG(int64_t, seed, 0,
          "Seed of the random client split of the full data (and base seed "
          "of the subsamples and the training).");
ABSL_FLAG(std::string, rows_per_client, "15,50,200,1000,1866",
          "Rows per client of the product-gap sweep (each a fixed-seed "
          "subsample of clients x rows, split at random).");
ABSL_FLAG(int32_t, replicates, 5,
          "Subsamples per rows-per-client value; the gap is their mean.");
ABSL_FLAG(std::string, tv_variables, "pka,pkc,raf,mek,erk",
          "Variables (at most 5) of the subset on which the exact TV between "
          "the targets is computed by enumeration.");
ABSL_FLAG(double, edge_penalty, 1.0,
          "Penalty of the edge prior (log prior = -edge_penalty |E|) in the "
          "rows that use it.");
ABSL_FLAG(int64_t, train_iterations, 2000,
          "Training iterations of the GFlowNet comparison (0 skips it).");
ABSL_FLAG(std::string, train_variables, "pka,pkc,raf,mek,erk",
          "Variables of the training comparison (at most the DP's 15; all "
          "11 Sachs proteins are within reach).");
ABSL_FLAG(double, train_temperature, 1.0,
          "Temperature T of the training comparison: every target (clients', "
          "product, full data) is the BGe posterior to the power 1/T, which "
          "stays modular, so the DP is exact for it too. T > 1 flattens a "
          "posterior that is too peaked to learn in the iterations given.");
ABSL_FLAG(bool, sweeps, true,
          "Run sections (a)-(d) (full-data targets and the product-gap "
          "sweeps); false runs the training comparison (e) only.");
ABSL_FLAG(int64_t, train_rows, 200,
          "Rows (a fixed-seed subsample) of the training comparison's data; "
          "fewer rows give a flatter posterior.");
ABSL_FLAG(int64_t, train_samples, 20000,
          "Samples drawn from each trained GFlowNet.");
ABSL_FLAG(std::string, train_loss, "cb",
          "Loss of every training of (e): tb, db or cb.");
ABSL_FLAG(double, train_learning_rate, 1e-3,
          "Adam learning rate of the policies of (e).");
ABSL_FLAG(double, train_log_z_learning_rate, 1e-1,
          "Learning rate of log Z in (e) (tb only).");
ABSL_FLAG(double, train_epsilon, 0.05,
          "Uniform exploration probability of (e)'s training rollouts.");
ABSL_FLAG(int64_t, train_batch_size, 128, "Trajectories per step in (e).");
ABSL_FLAG(double, train_max_gradient_norm, 0.0,
          "Clip the policy weights' gradient to this L2 norm before each "
          "step of (e)'s trainings (0: off).");
ABSL_FLAG(std::string, train_methods, "full,product,federated",
          "Rows of (e) to train: any of full (centralized on the full-data "
          "reward), product (centralized on the product), federated.");
ABSL_FLAG(int64_t, train_progress_every, 0,
          "Print each training's loss and log Z to stderr every this many "
          "iterations (0: never).");

namespace epgfn {
namespace {

// (a)-(d): the full-data targets and the product-gap sweeps, on Sachs and on
// a synthetic control the BGe model describes exactly.
absl::Status Sweeps(const Dataset& data, const std::vector<int64_t>& truth,
                    const std::vector<int64_t>& tv_columns, int clients,
                    int64_t seed) {
  FullDataReportOptions full;
  full.clients = clients;
  full.seed = seed;
  full.edge_penalty = absl::GetFlag(FLAGS_edge_penalty);
  RETURN_IF_ERROR(ReportFullData(data, truth, full));
  GapSweepOptions sweep;
  ASSIGN_OR_RETURN(sweep.rows_per_client,
                   ParseRowsPerClient(absl::GetFlag(FLAGS_rows_per_client)));
  sweep.replicates = absl::GetFlag(FLAGS_replicates);
  sweep.clients = clients;
  sweep.seed = seed;
  RETURN_IF_ERROR(ReportGapSweep("Sachs", data, tv_columns, sweep));
  ASSIGN_OR_RETURN(
      LinearGaussianNetwork synthetic,
      SampleLinearGaussianNetwork(data.columns(), 0.3, data.rows, 3));
  ASSIGN_OR_RETURN(Dataset control, Standardise(synthetic.data));
  return ReportGapSweep(
      "Synthetic linear-Gaussian control (d = 11, edge_prob 0.3, data_seed 3)",
      control, {0, 1, 2, 3, 4}, sweep);
}

// (e), with the flags' settings.
absl::Status Training(const Dataset& data, const std::vector<int64_t>& truth,
                      int clients, int64_t seed) {
  TrainingReportOptions options;
  options.variables = absl::GetFlag(FLAGS_train_variables);
  options.rows = absl::GetFlag(FLAGS_train_rows);
  options.iterations = absl::GetFlag(FLAGS_train_iterations);
  options.samples = absl::GetFlag(FLAGS_train_samples);
  options.temperature = absl::GetFlag(FLAGS_train_temperature);
  options.clients = clients;
  options.seed = seed;
  options.loss = absl::GetFlag(FLAGS_train_loss);
  options.learning_rate = absl::GetFlag(FLAGS_train_learning_rate);
  options.log_z_learning_rate = absl::GetFlag(FLAGS_train_log_z_learning_rate);
  options.epsilon = absl::GetFlag(FLAGS_train_epsilon);
  options.batch_size = absl::GetFlag(FLAGS_train_batch_size);
  options.max_gradient_norm = absl::GetFlag(FLAGS_train_max_gradient_norm);
  options.methods = absl::GetFlag(FLAGS_train_methods);
  options.progress_every = absl::GetFlag(FLAGS_train_progress_every);
  return ReportTraining(data, truth, options);
}

void PrintPreamble(const std::string& data_path, const std::string& truth_path,
                   const Dataset& data, int clients, int64_t seed) {
  std::printf(
      "Command: `bazel run -c opt //tests/bench:bn_exact_reference -- "
      "--clients=%d --seed=%lld --replicates=%d --rows_per_client=%s "
      "--train_iterations=%lld --train_rows=%lld --train_samples=%lld "
      "--train_variables=%s --train_temperature=%g --sweeps=%s`\n",
      clients, static_cast<long long>(seed), absl::GetFlag(FLAGS_replicates),
      absl::GetFlag(FLAGS_rows_per_client).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_train_iterations)),
      static_cast<long long>(absl::GetFlag(FLAGS_train_rows)),
      static_cast<long long>(absl::GetFlag(FLAGS_train_samples)),
      absl::GetFlag(FLAGS_train_variables).c_str(),
      absl::GetFlag(FLAGS_train_temperature),
      absl::GetFlag(FLAGS_sweeps) ? "true" : "false");
  std::printf("%s\n", MachineReportLine().c_str());
  std::printf("Data: %s, %lld rows x %lld variables, standardised; truth: %s\n",
              data_path.c_str(), static_cast<long long>(data.rows),
              static_cast<long long>(data.columns()), truth_path.c_str());
  std::printf(
      "BGe: alpha_mu 1, alpha_w d + 2; prior uniform over DAGs unless "
      "stated\n");
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_sachs_dir);
  const std::string data_path = dir + "/sachs.2005.continuous.txt";
  const std::string truth_path = dir + "/sachs.2005.ground.truth.graph.txt";
  absl::StatusOr<Dataset> raw = ReadTabSeparated(data_path);
  if (absl::IsNotFound(raw.status())) {
    std::printf(
        "SKIPPED: the Sachs data are not at %s (set --sachs_dir; the "
        "repository never holds a copy).\n",
        data_path.c_str());
    return absl::OkStatus();
  }
  if (!raw.ok()) return raw.status();
  ASSIGN_OR_RETURN(Dataset data, Standardise(*std::move(raw)));
  ASSIGN_OR_RETURN(std::vector<int64_t> truth,
                   ReadGroundTruth(truth_path, data));
  const int clients = absl::GetFlag(FLAGS_clients);
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  if (clients < 1) return absl::InvalidArgumentError("--clients must be >= 1");
  ASSIGN_OR_RETURN(std::vector<int64_t> tv_columns,
                   ParseColumns(data, absl::GetFlag(FLAGS_tv_variables)));

  at::set_num_threads(1);
  PrintPreamble(data_path, truth_path, data, clients, seed);
  if (absl::GetFlag(FLAGS_sweeps)) {
    RETURN_IF_ERROR(Sweeps(data, truth, tv_columns, clients, seed));
  }
  if (absl::GetFlag(FLAGS_train_iterations) > 0) {
    RETURN_IF_ERROR(Training(data, truth, clients, seed));
  }
  std::printf("\nLoad average at the end: %s\n", LoadAverage().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exact BN references on the Sachs data: DP edge marginals of the "
      "full-data and federated product BGe targets, E-SHD/AUROC/AUPRC against "
      "the ground truth, the product gap against rows per client, and a "
      "trained GFlowNet against the DP.");
  absl::ParseCommandLine(argc, argv);
  // Line-buffered, so that a run stopped part-way keeps its finished tables.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return epgfn::ExitCode("bn_exact_reference", epgfn::Run());
}
