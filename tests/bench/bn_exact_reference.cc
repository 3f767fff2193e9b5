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
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/local_model.h"
#include "common/env/dag/bge.h"
#include "common/env/dag/data.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/product_correction.h"
#include "common/env/dag/structure_metrics.h"
#include "common/env/environment_registry.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/model_fcs.h"

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

namespace epgfn {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The Sachs file is tab-separated; ParseCsv reads commas.
absl::StatusOr<Dataset> ReadTabSeparated(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, int64_t{1} << 30));
  return ParseCsv(absl::StrReplaceAll(text, {{"\t", ","}}), path);
}

// Each column shifted and scaled to mean 0 and (population) variance 1.
absl::StatusOr<Dataset> Standardise(Dataset data) {
  const int64_t d = data.columns();
  for (int64_t c = 0; c < d; ++c) {
    double mean = 0.0;
    for (int64_t r = 0; r < data.rows; ++r) mean += data.at(r, c);
    mean /= static_cast<double>(data.rows);
    double variance = 0.0;
    for (int64_t r = 0; r < data.rows; ++r) {
      variance += (data.at(r, c) - mean) * (data.at(r, c) - mean);
    }
    const double sd = std::sqrt(variance / static_cast<double>(data.rows));
    if (!(sd > 0.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", data.names[c], " is constant"));
    }
    for (int64_t r = 0; r < data.rows; ++r) {
      data.values[r * d + c] = (data.at(r, c) - mean) / sd;
    }
  }
  return data;
}

absl::StatusOr<int64_t> ColumnIndex(const Dataset& data,
                                    absl::string_view name) {
  for (int64_t c = 0; c < data.columns(); ++c) {
    if (data.names[c] == name) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no variable '", name, "'; the data have ",
                   absl::StrJoin(data.names, ", ")));
}

// The curators' graph: lines "N. from --> to" after "Graph Edges:", as a
// row-major adjacency over the data's columns.
absl::StatusOr<std::vector<int64_t>> ReadGroundTruth(const std::string& path,
                                                     const Dataset& data) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 1 << 20));
  const int64_t d = data.columns();
  std::vector<int64_t> truth(d * d, 0);
  int64_t line_number = 0;
  int64_t edges = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const size_t arrow = line.find("-->");
    if (arrow == absl::string_view::npos) continue;
    absl::string_view from = line.substr(0, arrow);
    const size_t dot = from.find('.');
    if (dot != absl::string_view::npos) from.remove_prefix(dot + 1);
    from = absl::StripAsciiWhitespace(from);
    const absl::string_view to =
        absl::StripAsciiWhitespace(line.substr(arrow + 3));
    absl::StatusOr<int64_t> i = ColumnIndex(data, from);
    absl::StatusOr<int64_t> j = ColumnIndex(data, to);
    if (!i.ok() || !j.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", line_number, ": ",
                       (i.ok() ? j.status() : i.status()).message()));
    }
    truth[*i * d + *j] = 1;
    ++edges;
  }
  if (edges == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no 'a --> b' edge lines"));
  }
  return truth;
}

Dataset SelectColumns(const Dataset& data,
                      const std::vector<int64_t>& columns) {
  Dataset selected;
  selected.rows = data.rows;
  for (int64_t c : columns) selected.names.push_back(data.names[c]);
  selected.values.reserve(data.rows * columns.size());
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t c : columns) selected.values.push_back(data.at(r, c));
  }
  return selected;
}

std::vector<int64_t> SelectTruth(const std::vector<int64_t>& truth, int64_t d,
                                 const std::vector<int64_t>& columns) {
  const int64_t k = static_cast<int64_t>(columns.size());
  std::vector<int64_t> selected(k * k);
  for (int64_t a = 0; a < k; ++a) {
    for (int64_t b = 0; b < k; ++b) {
      selected[a * k + b] = truth[columns[a] * d + columns[b]];
    }
  }
  return selected;
}

absl::StatusOr<std::vector<int64_t>> ParseColumns(const Dataset& data,
                                                  const std::string& list) {
  std::vector<int64_t> columns;
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(int64_t column, ColumnIndex(data, name));
    columns.push_back(column);
  }
  return columns;
}

// The first `rows` rows of a permutation drawn from `seed`.
absl::StatusOr<Dataset> Subsample(const Dataset& data, int64_t rows,
                                  int64_t seed) {
  ASSIGN_OR_RETURN(std::vector<int64_t> order,
                   ClientRows(data.rows, 0, 1, "random", seed));
  if (rows > data.rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("asked for ", rows, " rows of ", data.rows));
  }
  order.resize(rows);
  return data.Subset(order);
}

// The local-score tables of one federation over `data`.
struct Targets {
  std::vector<double> full;     // BGe of all rows
  std::vector<double> product;  // sum over clients of their BGe
  // The same with each client's alpha_mu divided by the client count.
  std::vector<double> product_alpha_split;
  std::vector<int64_t> client_rows;
};

absl::StatusOr<Targets> MakeTargets(const Dataset& data, int clients,
                                    const std::string& split, int64_t seed) {
  Targets targets;
  ASSIGN_OR_RETURN(BGeScore full, BGeScore::Create(data, 1.0, 0.0));
  targets.full = full.local_scores();
  std::vector<BGeScore> scores;
  std::vector<BGeScore> split_scores;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                     ClientRows(data.rows, i, clients, split, seed));
    const Dataset share = data.Subset(rows);
    targets.client_rows.push_back(share.rows);
    ASSIGN_OR_RETURN(BGeScore score, BGeScore::Create(share, 1.0, 0.0));
    scores.push_back(std::move(score));
    ASSIGN_OR_RETURN(BGeScore shared_prior,
                     BGeScore::Create(share, 1.0 / clients, 0.0));
    split_scores.push_back(std::move(shared_prior));
  }
  ASSIGN_OR_RETURN(targets.product, SumLocalScores(scores));
  ASSIGN_OR_RETURN(targets.product_alpha_split, SumLocalScores(split_scores));
  return targets;
}

ModularDagPosteriorOptions Prior(double edge_penalty) {
  ModularDagPosteriorOptions options;
  options.edge_penalty = edge_penalty;
  return options;
}

using Gap = EdgeMarginalError;

// Max and mean over the d(d-1) ordered pairs of |P_a(i -> j) - P_b(i -> j)|
// (the sizes always match here).
Gap MarginalGap(const std::vector<double>& a, const std::vector<double>& b,
                int64_t d) {
  return *CompareEdgeMarginals(d, a, b);
}

double ExpectedEdges(const EdgeMarginals& marginals) {
  double sum = 0.0;
  for (double p : marginals.probabilities) sum += p;
  return sum;
}

// Exact TV between two modular targets by enumerating every DAG (d <= 5).
absl::StatusOr<double> TotalVariation(
    int64_t d, const std::vector<double>& a,
    const ModularDagPosteriorOptions& prior_a, const std::vector<double>& b,
    const ModularDagPosteriorOptions& prior_b) {
  ASSIGN_OR_RETURN(std::vector<double> log_a,
                   LogTargetOfEveryDag(d, a, prior_a));
  ASSIGN_OR_RETURN(std::vector<double> log_b,
                   LogTargetOfEveryDag(d, b, prior_b));
  auto normalise = [](std::vector<double>& log_p) {
    const double top = *std::max_element(log_p.begin(), log_p.end());
    double total = 0.0;
    for (double& value : log_p) total += (value = std::exp(value - top));
    for (double& value : log_p) value /= total;
  };
  normalise(log_a);
  normalise(log_b);
  double tv = 0.0;
  for (size_t g = 0; g < log_a.size(); ++g) tv += std::abs(log_a[g] - log_b[g]);
  return 0.5 * tv;
}

std::string Fixed(double value, int digits = 4) {
  return absl::StrFormat("%.*f", digits, value);
}

// (a) + (b) + (d) at full size: one row per target.
absl::Status ReportFullData(const Dataset& data,
                            const std::vector<int64_t>& truth, int clients,
                            int64_t seed) {
  const int64_t d = data.columns();
  const double penalty = absl::GetFlag(FLAGS_edge_penalty);
  ASSIGN_OR_RETURN(Targets random_split,
                   MakeTargets(data, clients, "random", seed));
  ASSIGN_OR_RETURN(Targets by_condition,
                   MakeTargets(data, clients, "contiguous", seed));
  ASSIGN_OR_RETURN(double kappa,
                   LaplaceEdgeCorrection(random_split.client_rows));

  struct Row {
    std::string target;
    const std::vector<double>* scores;
    double edge_penalty;
    const std::vector<double>* reference;  // the full-data scores
    double reference_penalty;
  };
  const std::vector<Row> rows = {
      {"full-data posterior", &random_split.full, 0.0, nullptr, 0.0},
      {"product, random split", &random_split.product, 0.0, &random_split.full,
       0.0},
      {"product, random split, Laplace correction", &random_split.product,
       -kappa, &random_split.full, 0.0},
      {"product, random split, clients alpha_mu/N",
       &random_split.product_alpha_split, 0.0, &random_split.full, 0.0},
      {"product, contiguous split (by condition)", &by_condition.product, 0.0,
       &random_split.full, 0.0},
      {absl::StrCat("full-data posterior, edge prior ", penalty),
       &random_split.full, penalty, nullptr, 0.0},
      {absl::StrCat("product, random split, edge prior ", penalty),
       &random_split.product, penalty, &random_split.full, penalty},
  };
  std::printf(
      "\n### (a, b) Sachs, all %lld rows, %d clients: exact edge marginals "
      "(DP)\n\n",
      static_cast<long long>(data.rows), clients);
  std::printf(
      "Laplace correction kappa = %.3f nats per edge (client rows %s)\n\n",
      kappa, absl::StrJoin(random_split.client_rows, ", ").c_str());
  std::printf(
      "| target | E[edges] | E-SHD | E-Hamming | AUROC | AUPRC | max abs diff "
      "to full | mean abs diff to full | DP time |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<EdgeMarginals> shown;
  for (const Row& row : rows) {
    const auto start = Clock::now();
    ASSIGN_OR_RETURN(
        EdgeMarginals marginals,
        ComputeEdgeMarginals(d, *row.scores, Prior(row.edge_penalty)));
    const double seconds = SecondsSince(start);
    ASSIGN_OR_RETURN(StructureMetrics metrics,
                     EvaluateEdgeMarginals(d, marginals.probabilities, truth));
    std::string max_diff = "-";
    std::string mean_diff = "-";
    if (row.reference != nullptr) {
      ASSIGN_OR_RETURN(EdgeMarginals reference,
                       ComputeEdgeMarginals(d, *row.reference,
                                            Prior(row.reference_penalty)));
      const Gap gap =
          MarginalGap(marginals.probabilities, reference.probabilities, d);
      max_diff = Fixed(gap.max_abs);
      mean_diff = Fixed(gap.mean_abs);
    }
    std::printf(
        "| %s | %.2f | %.2f | %.2f | %.3f | %.3f | %s | %s | %.0f ms |\n",
        row.target.c_str(), ExpectedEdges(marginals), metrics.expected_shd,
        metrics.expected_hamming, metrics.auroc, metrics.auprc,
        max_diff.c_str(), mean_diff.c_str(), 1e3 * seconds);
    if (shown.size() < 2) shown.push_back(std::move(marginals));
  }
  // The two matrices themselves, for the record.
  const char* titles[] = {"full-data posterior", "product, random split"};
  for (size_t m = 0; m < shown.size(); ++m) {
    std::printf("\nP(row -> column), %s (normaliser check %.1e):\n\n| |",
                titles[m], shown[m].normalizer_check);
    for (const std::string& name : data.names)
      std::printf(" %s |", name.c_str());
    std::printf("\n|---|");
    for (int64_t j = 0; j < d; ++j) std::printf("---:|");
    std::printf("\n");
    for (int64_t i = 0; i < d; ++i) {
      std::printf("| %s |", data.names[i].c_str());
      for (int64_t j = 0; j < d; ++j) {
        std::printf(" %s%.2f%s |", truth[i * d + j] ? "**" : "",
                    shown[m].at(i, j), truth[i * d + j] ? "**" : "");
      }
      std::printf("\n");
    }
  }
  std::printf("\n(bold: the ground truth's edges)\n");
  return absl::OkStatus();
}

// (c) + (d): the gap against rows per client, mean over replicates.
absl::Status ReportGapSweep(const std::string& label, const Dataset& data,
                            const std::vector<int64_t>& tv_columns, int clients,
                            int64_t seed) {
  std::vector<int64_t> sizes;
  for (absl::string_view field : absl::StrSplit(
           absl::GetFlag(FLAGS_rows_per_client), ',', absl::SkipEmpty())) {
    int64_t rows = 0;
    if (!absl::SimpleAtoi(field, &rows) || rows < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rows_per_client: bad entry '", field, "'"));
    }
    sizes.push_back(rows);
  }
  const int replicates = std::max(1, absl::GetFlag(FLAGS_replicates));
  const int64_t d = data.columns();
  const int64_t tv_d = static_cast<int64_t>(tv_columns.size());
  std::vector<std::string> tv_names;
  for (int64_t c : tv_columns) tv_names.push_back(data.names[c]);
  std::printf(
      "\n### (c, d) %s: product gap against rows per client (%d clients, "
      "mean over %d subsamples)\n\n",
      label.c_str(), clients, replicates);
  std::printf(
      "Edge-marginal |difference| to the full-data posterior at d = %lld "
      "(max / mean over pairs), and exact TV to it on {%s} (enumeration of "
      "all DAGs); uniform prior.\n\n",
      static_cast<long long>(d), absl::StrJoin(tv_names, ", ").c_str());
  std::printf(
      "| rows per client | kappa | product max | product mean | Laplace max | "
      "Laplace mean | alpha_mu/N max | alpha_mu/N mean | TV product | TV "
      "Laplace | TV alpha_mu/N |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int64_t rows : sizes) {
    if (rows * clients > data.rows) {
      std::printf("| %lld | (needs %lld rows, the data have %lld) |\n",
                  static_cast<long long>(rows),
                  static_cast<long long>(rows * clients),
                  static_cast<long long>(data.rows));
      continue;
    }
    Gap sums[3];
    double tv_sums[3] = {0, 0, 0};
    double kappa = 0.0;
    for (int r = 0; r < replicates; ++r) {
      const int64_t replicate_seed = seed * 1000 + 17 * r + 1;
      ASSIGN_OR_RETURN(Dataset sample,
                       Subsample(data, rows * clients, replicate_seed));
      ASSIGN_OR_RETURN(Targets targets,
                       MakeTargets(sample, clients, "random", replicate_seed));
      ASSIGN_OR_RETURN(kappa, LaplaceEdgeCorrection(targets.client_rows));
      const ModularDagPosteriorOptions corrected = Prior(-kappa);
      ASSIGN_OR_RETURN(EdgeMarginals full,
                       ComputeEdgeMarginals(d, targets.full, Prior(0)));
      const std::vector<
          std::pair<const std::vector<double>*, ModularDagPosteriorOptions>>
          variants = {{&targets.product, Prior(0)},
                      {&targets.product, corrected},
                      {&targets.product_alpha_split, Prior(0)}};
      for (size_t v = 0; v < variants.size(); ++v) {
        ASSIGN_OR_RETURN(
            EdgeMarginals marginals,
            ComputeEdgeMarginals(d, *variants[v].first, variants[v].second));
        const Gap gap =
            MarginalGap(marginals.probabilities, full.probabilities, d);
        sums[v].max_abs += gap.max_abs;
        sums[v].mean_abs += gap.mean_abs;
      }
      // The same federation restricted to the TV subset's columns.
      ASSIGN_OR_RETURN(Targets small,
                       MakeTargets(SelectColumns(sample, tv_columns), clients,
                                   "random", replicate_seed));
      const std::vector<
          std::pair<const std::vector<double>*, ModularDagPosteriorOptions>>
          small_variants = {{&small.product, Prior(0)},
                            {&small.product, corrected},
                            {&small.product_alpha_split, Prior(0)}};
      for (size_t v = 0; v < small_variants.size(); ++v) {
        ASSIGN_OR_RETURN(
            double tv,
            TotalVariation(tv_d, *small_variants[v].first,
                           small_variants[v].second, small.full, Prior(0)));
        tv_sums[v] += tv;
      }
    }
    std::printf("| %lld | %.2f |", static_cast<long long>(rows), kappa);
    for (const Gap& sum : sums) {
      std::printf(" %.4f | %.4f |", sum.max_abs / replicates,
                  sum.mean_abs / replicates);
    }
    for (double tv : tv_sums) std::printf(" %.4f |", tv / replicates);
    std::printf("\n");
  }
  return absl::OkStatus();
}

// log R(G) = sum_j local_scores[j][Pa_j] - edge_penalty |E| - shift, from
// the double-precision table, for the dag environment's raw states.
class LocalScoreReward : public LogReward {
 public:
  LocalScoreReward(int64_t nodes, std::vector<double> local_scores,
                   double shift, std::string description)
      : nodes_(nodes),
        local_scores_(std::move(local_scores)),
        shift_(shift),
        description_(std::move(description)) {}

  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    const torch::Tensor states =
        terminal_states.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t batch = states.size(0);
    const int64_t width = states.size(1);
    const int64_t* data = states.data_ptr<int64_t>();
    const int64_t subsets = int64_t{1} << nodes_;
    std::vector<double> values(batch);
    for (int64_t b = 0; b < batch; ++b) {
      double total = -shift_;
      for (int64_t j = 0; j < nodes_; ++j) {
        int64_t parents = 0;
        for (int64_t i = 0; i < nodes_; ++i) {
          if (data[b * width + i * nodes_ + j] != 0) parents |= int64_t{1} << i;
        }
        total += local_scores_[j * subsets + parents];
      }
      values[b] = total;
    }
    return torch::tensor(values, torch::kFloat64).to(terminal_states.device());
  }
  std::string Describe() const override { return description_; }

 private:
  int64_t nodes_;
  std::vector<double> local_scores_;
  double shift_;  // log Z, so that the rewards are log-probabilities
  std::string description_;
};

struct TrainedModel {
  PolicyNet policy{nullptr};
  double seconds = 0.0;
};

TrainingOptions TrainingSetup(int64_t seed) {
  TrainingOptions options;
  options.iterations = absl::GetFlag(FLAGS_train_iterations);
  options.batch_size = 128;
  options.exploration.epsilon = 0.05;
  options.seed = seed;
  options.progress_every = 1 << 30;
  return options;
}

// A GFlowNet trained (CB) on the modular target with these local scores.
absl::StatusOr<TrainedModel> TrainOnScores(const Environment& environment,
                                           int64_t d,
                                           const std::vector<double>& scores,
                                           const std::string& name,
                                           int64_t seed) {
  ASSIGN_OR_RETURN(EdgeMarginals exact,
                   ComputeEdgeMarginals(d, scores, Prior(0)));
  LocalScoreReward reward(d, scores, exact.log_normalizer, name);
  TrainedModel model;
  ASSIGN_OR_RETURN(model.policy, MakePolicy(environment, PolicyArchitecture(),
                                            seed, torch::kCPU));
  RewardTarget target(&reward);
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   Trainer::Create(&environment, model.policy, &target,
                                   TrainingSetup(seed + 1)));
  const auto start = Clock::now();
  RETURN_IF_ERROR(trainer->Run());
  model.seconds = SecondsSince(start);
  return model;
}

// Edge frequencies of `samples` terminal states of `policy`.
std::vector<double> SampledEdgeMarginals(PolicyNet policy,
                                         const Environment& environment,
                                         int64_t d, int64_t samples,
                                         int64_t seed) {
  RandomSource random(seed);
  const torch::Tensor frequencies =
      SampleTrajectories(policy, environment, samples, {}, random)
          .terminal_states.slice(1, 0, d * d)
          .to(torch::kFloat64)
          .mean(0)
          .contiguous();
  return std::vector<double>(frequencies.data_ptr<double>(),
                             frequencies.data_ptr<double>() + d * d);
}

// (e) GFlowNets trained in process: centralized on the full-data reward,
// centralized on the product reward, and federated (clients on their own
// rewards, then EP-GFlowNet aggregation); sampled edge frequencies against
// the DP of the target each one aims at, and against the ground truth.
absl::Status ReportTraining(const Dataset& data,
                            const std::vector<int64_t>& truth, int clients,
                            int64_t seed) {
  ASSIGN_OR_RETURN(std::vector<int64_t> columns,
                   ParseColumns(data, absl::GetFlag(FLAGS_train_variables)));
  const int64_t d = static_cast<int64_t>(columns.size());
  const std::vector<int64_t> sub_truth =
      SelectTruth(truth, data.columns(), columns);
  ASSIGN_OR_RETURN(Dataset sample, Subsample(SelectColumns(data, columns),
                                             absl::GetFlag(FLAGS_train_rows),
                                             seed * 1000 + 999));
  ASSIGN_OR_RETURN(EnvironmentConfig config,
                   EnvironmentConfig::Parse(absl::StrCat("dag:nodes=", d)));
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(config));
  const int64_t iterations = absl::GetFlag(FLAGS_train_iterations);
  const int64_t samples = absl::GetFlag(FLAGS_train_samples);
  std::vector<std::string> names;
  for (int64_t c : columns) names.push_back(data.names[c]);

  // Client shares and the two targets.
  ASSIGN_OR_RETURN(BGeScore full_score, BGeScore::Create(sample, 1.0, 0.0));
  std::vector<BGeScore> client_scores;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                     ClientRows(sample.rows, i, clients, "random", seed));
    ASSIGN_OR_RETURN(BGeScore score,
                     BGeScore::Create(sample.Subset(rows), 1.0, 0.0));
    client_scores.push_back(std::move(score));
  }
  // Tempering divides each local score by T: the product of the tempered
  // clients' targets is the tempered product, so the federation still aims
  // at `product`.
  const double temperature = absl::GetFlag(FLAGS_train_temperature);
  if (!(temperature > 0)) {
    return absl::InvalidArgumentError("--train_temperature must be > 0");
  }
  const auto tempered = [temperature](std::vector<double> scores) {
    for (double& s : scores) s /= temperature;
    return scores;
  };
  const std::vector<double> full_scores = tempered(full_score.local_scores());
  std::vector<std::vector<double>> client_tables;
  for (const BGeScore& score : client_scores) {
    client_tables.push_back(tempered(score.local_scores()));
  }
  ASSIGN_OR_RETURN(std::vector<double> product, SumLocalScores(client_scores));
  product = tempered(std::move(product));
  ASSIGN_OR_RETURN(EdgeMarginals exact_full,
                   ComputeEdgeMarginals(d, full_scores, Prior(0)));
  ASSIGN_OR_RETURN(EdgeMarginals exact_product,
                   ComputeEdgeMarginals(d, product, Prior(0)));

  struct Method {
    std::string name;
    PolicyNet policy{nullptr};
    double seconds = 0.0;
    const EdgeMarginals* aim = nullptr;     // the DP of the target it aims at
    const LogReward* aim_reward = nullptr;  // the same target, for the FCS
  };
  // (FCS ignores the log normaliser; it is there for symmetry.)
  const LocalScoreReward full_reward(d, full_scores, exact_full.log_normalizer,
                                     "full data");
  const LocalScoreReward product_reward(d, product,
                                        exact_product.log_normalizer,
                                        "product of the client rewards");
  std::vector<Method> methods;
  ASSIGN_OR_RETURN(TrainedModel central_full,
                   TrainOnScores(*environment, d, full_scores, "full data",
                                 seed * 1000 + 300));
  methods.push_back({"centralized, full-data reward", central_full.policy,
                     central_full.seconds, &exact_full, &full_reward});
  ASSIGN_OR_RETURN(
      TrainedModel central_product,
      TrainOnScores(*environment, d, product, "product", seed * 1000 + 310));
  methods.push_back({"centralized, product reward", central_product.policy,
                     central_product.seconds, &exact_product, &product_reward});
  // Federated: each client trains on prior^(1/N) x its own BGe (the uniform
  // prior's share is a constant), then the aggregation sees only the
  // clients' policies.
  std::vector<LocalModel> locals;
  double slowest_client = 0.0;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(
        TrainedModel local,
        TrainOnScores(*environment, d, client_tables[i],
                      absl::StrCat("client ", i), seed * 1000 + 320 + 2 * i));
    slowest_client = std::max(slowest_client, local.seconds);
    locals.push_back(LocalModel{absl::StrCat("client-", i), config,
                                local.policy, std::nullopt});
  }
  AggregationOptions aggregation;
  aggregation.training = TrainingSetup(seed * 1000 + 390);
  aggregation.evaluate_exact = false;
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(environment.get(), locals, aggregation));
  const auto aggregation_start = Clock::now();
  RETURN_IF_ERROR(aggregator->Run());
  methods.push_back({absl::StrCat("federated (EP-GFlowNet: ", clients,
                                  " clients + aggregation)"),
                     aggregator->global_policy(),
                     slowest_client + SecondsSince(aggregation_start),
                     &exact_product, &product_reward});

  std::printf(
      "\n### (e) Trained GFlowNets against the DP: {%s}, %lld rows (%d "
      "clients of %lld), temperature %g\n\n",
      absl::StrJoin(names, ", ").c_str(), static_cast<long long>(sample.rows),
      clients, static_cast<long long>(sample.rows / clients), temperature);
  std::printf(
      "CB loss, 2x256 MLP, batch 128, epsilon 0.05, %lld iterations per "
      "training (clients and aggregation alike), 1 thread; %lld samples per "
      "model. The error is against the exact edge marginals of the target the "
      "method aims at (full-data posterior or product).\n\n",
      static_cast<long long>(iterations), static_cast<long long>(samples));
  std::printf(
      "| method | aims at | max abs error | mean abs error | max MC std error "
      "| E-SHD (exact) | AUROC sampled (exact) | AUPRC sampled (exact) | FCS "
      "| time |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t m = 0; m < methods.size(); ++m) {
    const std::vector<double> sampled = SampledEdgeMarginals(
        methods[m].policy, *environment, d, samples, seed * 1000 + 600 + m);
    const Gap error = MarginalGap(sampled, methods[m].aim->probabilities, d);
    double max_std_error = 0.0;
    for (double p : methods[m].aim->probabilities) {
      max_std_error = std::max(max_std_error, std::sqrt(p * (1 - p) / samples));
    }
    ASSIGN_OR_RETURN(StructureMetrics got,
                     EvaluateEdgeMarginals(d, sampled, sub_truth));
    ASSIGN_OR_RETURN(
        StructureMetrics exact,
        EvaluateEdgeMarginals(d, methods[m].aim->probabilities, sub_truth));
    std::printf(
        "| %s | %s | %.4f | %.4f | %.4f | %.2f (%.2f) | %.3f (%.3f) | %.3f "
        "(%.3f) | %s | %.0f s |\n",
        methods[m].name.c_str(),
        methods[m].aim == &exact_full ? "full data" : "product", error.max_abs,
        error.mean_abs, max_std_error, got.expected_shd, exact.expected_shd,
        got.auroc, exact.auroc, got.auprc, exact.auprc,
        FcsCell(methods[m].policy, *environment, *methods[m].aim_reward,
                seed * 1000 + 700 + m)
            .c_str(),
        methods[m].seconds);
  }
  std::printf("\n%s\n", FcsLegend().c_str());
  const Gap targets_gap =
      MarginalGap(exact_product.probabilities, exact_full.probabilities, d);
  std::printf("\nThe two exact targets differ by max %.4f / mean %.4f here.\n",
              targets_gap.max_abs, targets_gap.mean_abs);
  return absl::OkStatus();
}

// (a)-(d): the full-data targets and the product-gap sweeps, on Sachs and on
// a synthetic control the BGe model describes exactly.
absl::Status Sweeps(const Dataset& data, const std::vector<int64_t>& truth,
                    const std::vector<int64_t>& tv_columns, int clients,
                    int64_t seed) {
  RETURN_IF_ERROR(ReportFullData(data, truth, clients, seed));
  RETURN_IF_ERROR(ReportGapSweep("Sachs", data, tv_columns, clients, seed));
  ASSIGN_OR_RETURN(
      LinearGaussianNetwork synthetic,
      SampleLinearGaussianNetwork(data.columns(), 0.3, data.rows, 3));
  ASSIGN_OR_RETURN(Dataset control, Standardise(synthetic.data));
  RETURN_IF_ERROR(ReportGapSweep(
      "Synthetic linear-Gaussian control (d = 11, edge_prob 0.3, data_seed 3)",
      control, {0, 1, 2, 3, 4}, clients, seed));
  return absl::OkStatus();
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

  if (absl::GetFlag(FLAGS_sweeps)) {
    RETURN_IF_ERROR(Sweeps(data, truth, tv_columns, clients, seed));
  }
  if (absl::GetFlag(FLAGS_train_iterations) > 0) {
    RETURN_IF_ERROR(ReportTraining(data, truth, clients, seed));
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
  const absl::Status status = epgfn::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "bn_exact_reference: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
