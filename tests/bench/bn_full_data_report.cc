#include "tests/bench/bn_full_data_report.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/product_correction.h"
#include "common/env/dag/structure_metrics.h"
#include "common/util/status_macros.h"
#include "tests/bench/bge_targets.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {
namespace {

// One target of the table, and the full-data one it is compared with.
struct Row {
  std::string target;
  const std::vector<double>* scores;
  double edge_penalty;
  const std::vector<double>* reference;  // the full-data scores
  double reference_penalty;
};

std::vector<Row> Rows(const Targets& random_split, const Targets& by_condition,
                      double kappa, double penalty) {
  return {
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
}

// Prints `row`'s line of the table; returns its exact edge marginals.
absl::StatusOr<EdgeMarginals> PrintRow(const Row& row, int64_t d,
                                       const std::vector<int64_t>& truth) {
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
    ASSIGN_OR_RETURN(
        EdgeMarginals reference,
        ComputeEdgeMarginals(d, *row.reference, Prior(row.reference_penalty)));
    const Gap gap =
        MarginalGap(marginals.probabilities, reference.probabilities, d);
    max_diff = Fixed(gap.max_abs);
    mean_diff = Fixed(gap.mean_abs);
  }
  std::printf("| %s | %.2f | %.2f | %.2f | %.3f | %.3f | %s | %s | %.0f ms |\n",
              row.target.c_str(), ExpectedEdges(marginals),
              metrics.expected_shd, metrics.expected_hamming, metrics.auroc,
              metrics.auprc, max_diff.c_str(), mean_diff.c_str(),
              1e3 * seconds);
  return marginals;
}

// P(row -> column) as a markdown matrix, the ground truth's edges in bold.
void PrintMatrix(const char* title, const EdgeMarginals& marginals,
                 const Dataset& data, const std::vector<int64_t>& truth) {
  const int64_t d = data.columns();
  std::printf("\nP(row -> column), %s (normaliser check %.1e):\n\n| |", title,
              marginals.normalizer_check);
  for (const std::string& name : data.names) std::printf(" %s |", name.c_str());
  std::printf("\n|---|");
  for (int64_t j = 0; j < d; ++j) std::printf("---:|");
  std::printf("\n");
  for (int64_t i = 0; i < d; ++i) {
    std::printf("| %s |", data.names[i].c_str());
    for (int64_t j = 0; j < d; ++j) {
      std::printf(" %s%.2f%s |", truth[i * d + j] ? "**" : "",
                  marginals.at(i, j), truth[i * d + j] ? "**" : "");
    }
    std::printf("\n");
  }
}

}  // namespace

absl::Status ReportFullData(const Dataset& data,
                            const std::vector<int64_t>& truth,
                            const FullDataReportOptions& options) {
  const int64_t d = data.columns();
  ASSIGN_OR_RETURN(Targets random_split,
                   MakeTargets(data, options.clients, "random", options.seed));
  ASSIGN_OR_RETURN(
      Targets by_condition,
      MakeTargets(data, options.clients, "contiguous", options.seed));
  ASSIGN_OR_RETURN(double kappa,
                   LaplaceEdgeCorrection(random_split.client_rows));
  std::printf(
      "\n### (a, b) Sachs, all %lld rows, %d clients: exact edge marginals "
      "(DP)\n\n",
      static_cast<long long>(data.rows), options.clients);
  std::printf(
      "Laplace correction kappa = %.3f nats per edge (client rows %s)\n\n",
      kappa, absl::StrJoin(random_split.client_rows, ", ").c_str());
  std::printf(
      "| target | E[edges] | E-SHD | E-Hamming | AUROC | AUPRC | max abs diff "
      "to full | mean abs diff to full | DP time |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<EdgeMarginals> shown;
  for (const Row& row :
       Rows(random_split, by_condition, kappa, options.edge_penalty)) {
    ASSIGN_OR_RETURN(EdgeMarginals marginals, PrintRow(row, d, truth));
    if (shown.size() < 2) shown.push_back(std::move(marginals));
  }
  // The two matrices themselves, for the record.
  const char* titles[] = {"full-data posterior", "product, random split"};
  for (size_t m = 0; m < shown.size(); ++m) {
    PrintMatrix(titles[m], shown[m], data, truth);
  }
  std::printf("\n(bold: the ground truth's edges)\n");
  return absl::OkStatus();
}

}  // namespace epgfn
