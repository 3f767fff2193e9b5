#include "tests/bench/bn_gap_sweep.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/product_correction.h"
#include "common/util/status_macros.h"
#include "tests/bench/bge_targets.h"
#include "tests/bench/sachs_data.h"

namespace epgfn {
namespace {

// The three ways of combining the clients, in the table's column order:
// plain product, Laplace correction, clients with alpha_mu / N.
constexpr int kVariants = 3;

using Variant =
    std::pair<const std::vector<double>*, ModularDagPosteriorOptions>;

std::vector<Variant> Variants(const Targets& targets, double kappa) {
  return {{&targets.product, Prior(0)},
          {&targets.product, Prior(-kappa)},
          {&targets.product_alpha_split, Prior(0)}};
}

// One table row's sums over the replicates.
struct GapSums {
  Gap marginals[kVariants];
  double tv[kVariants] = {0, 0, 0};
  double kappa = 0.0;  // of the last replicate (they share the row counts)
};

// Adds one subsample of `rows` rows (split among the clients) to `sums`.
absl::Status AddReplicate(const Dataset& data,
                          const std::vector<int64_t>& tv_columns, int64_t rows,
                          int clients, int64_t replicate_seed, GapSums& sums) {
  const int64_t d = data.columns();
  ASSIGN_OR_RETURN(Dataset sample, Subsample(data, rows, replicate_seed));
  ASSIGN_OR_RETURN(Targets targets,
                   MakeTargets(sample, clients, "random", replicate_seed));
  ASSIGN_OR_RETURN(sums.kappa, LaplaceEdgeCorrection(targets.client_rows));
  ASSIGN_OR_RETURN(EdgeMarginals full,
                   ComputeEdgeMarginals(d, targets.full, Prior(0)));
  const std::vector<Variant> variants = Variants(targets, sums.kappa);
  for (size_t v = 0; v < variants.size(); ++v) {
    ASSIGN_OR_RETURN(
        EdgeMarginals marginals,
        ComputeEdgeMarginals(d, *variants[v].first, variants[v].second));
    const Gap gap = MarginalGap(marginals.probabilities, full.probabilities, d);
    sums.marginals[v].max_abs += gap.max_abs;
    sums.marginals[v].mean_abs += gap.mean_abs;
  }
  // The same federation restricted to the TV subset's columns.
  ASSIGN_OR_RETURN(Targets small,
                   MakeTargets(SelectColumns(sample, tv_columns), clients,
                               "random", replicate_seed));
  const std::vector<Variant> small_variants = Variants(small, sums.kappa);
  const int64_t tv_d = static_cast<int64_t>(tv_columns.size());
  for (size_t v = 0; v < small_variants.size(); ++v) {
    ASSIGN_OR_RETURN(double tv,
                     EnumeratedTotalVariation(tv_d, *small_variants[v].first,
                                              small_variants[v].second,
                                              small.full, Prior(0)));
    sums.tv[v] += tv;
  }
  return absl::OkStatus();
}

void PrintHeader(const std::string& label, const Dataset& data,
                 const std::vector<int64_t>& tv_columns, int clients,
                 int replicates) {
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
      static_cast<long long>(data.columns()),
      absl::StrJoin(tv_names, ", ").c_str());
  std::printf(
      "| rows per client | kappa | product max | product mean | Laplace max | "
      "Laplace mean | alpha_mu/N max | alpha_mu/N mean | TV product | TV "
      "Laplace | TV alpha_mu/N |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

void PrintRow(int64_t rows, const GapSums& sums, int replicates) {
  std::printf("| %lld | %.2f |", static_cast<long long>(rows), sums.kappa);
  for (const Gap& sum : sums.marginals) {
    std::printf(" %.4f | %.4f |", sum.max_abs / replicates,
                sum.mean_abs / replicates);
  }
  for (double tv : sums.tv) std::printf(" %.4f |", tv / replicates);
  std::printf("\n");
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> ParseRowsPerClient(
    const std::string& list) {
  std::vector<int64_t> sizes;
  for (absl::string_view field : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    int64_t rows = 0;
    if (!absl::SimpleAtoi(field, &rows) || rows < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rows_per_client: bad entry '", field, "'"));
    }
    sizes.push_back(rows);
  }
  return sizes;
}

absl::Status ReportGapSweep(const std::string& label, const Dataset& data,
                            const std::vector<int64_t>& tv_columns,
                            const GapSweepOptions& options) {
  const int replicates = std::max(1, options.replicates);
  const int clients = options.clients;
  PrintHeader(label, data, tv_columns, clients, replicates);
  for (int64_t rows : options.rows_per_client) {
    if (rows * clients > data.rows) {
      std::printf("| %lld | (needs %lld rows, the data have %lld) |\n",
                  static_cast<long long>(rows),
                  static_cast<long long>(rows * clients),
                  static_cast<long long>(data.rows));
      continue;
    }
    GapSums sums;
    for (int r = 0; r < replicates; ++r) {
      RETURN_IF_ERROR(AddReplicate(data, tv_columns, rows * clients, clients,
                                   options.seed * 1000 + 17 * r + 1, sums));
    }
    PrintRow(rows, sums, replicates);
  }
  return absl::OkStatus();
}

}  // namespace epgfn
