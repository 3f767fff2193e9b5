#ifndef EPGFN_TESTS_BENCH_BGE_TARGETS_H_
#define EPGFN_TESTS_BENCH_BGE_TARGETS_H_

// The modular BGe targets of one federation over a dataset (the full-data
// posterior and the clients' product) and the exact measures the BN benches
// compare them with: edge-marginal gaps (DP) and TV by enumeration.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/data.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/structure_metrics.h"

namespace epgfn {

// The local-score tables of one federation over `data`.
struct Targets {
  std::vector<double> full;     // BGe of all rows
  std::vector<double> product;  // sum over clients of their BGe
  // The same with each client's alpha_mu divided by the client count.
  std::vector<double> product_alpha_split;
  std::vector<int64_t> client_rows;
};

// `clients` clients holding the rows ClientRows(split, seed) gives them.
absl::StatusOr<Targets> MakeTargets(const Dataset& data, int clients,
                                    const std::string& split, int64_t seed);

// The DAG prior log P(G) = -edge_penalty |E|.
ModularDagPosteriorOptions Prior(double edge_penalty);

using Gap = EdgeMarginalError;

// Max and mean over the d(d-1) ordered pairs of |P_a(i -> j) - P_b(i -> j)|
// (the sizes always match here).
Gap MarginalGap(const std::vector<double>& a, const std::vector<double>& b,
                int64_t d);

double ExpectedEdges(const EdgeMarginals& marginals);

// Exact TV between two modular targets by enumerating every DAG (d <= 5).
absl::StatusOr<double> EnumeratedTotalVariation(
    int64_t d, const std::vector<double>& a,
    const ModularDagPosteriorOptions& prior_a, const std::vector<double>& b,
    const ModularDagPosteriorOptions& prior_b);

// `value` with `digits` decimals, for a table cell.
std::string Fixed(double value, int digits = 4);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BGE_TARGETS_H_
