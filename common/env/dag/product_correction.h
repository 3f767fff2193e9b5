#ifndef EPGFN_COMMON_ENV_DAG_PRODUCT_CORRECTION_H_
#define EPGFN_COMMON_ENV_DAG_PRODUCT_CORRECTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace epgfn {

// An optional correction of the federated BGe product target toward the
// full-data posterior that needs only the clients' row counts (no data).
//
// The product prior(G) prod_i BGe(D_i | G) is not prior(G) BGe(D | G) (see
// bge.h). To first order (Laplace / BIC), log BGe(D | G) = loglik(theta_hat)
// - (k / 2) log n + O(1) with k = |E| + 2d free parameters of a linear-
// Gaussian network, and for clients whose rows come from one distribution
// sum_i loglik_i(theta_hat_i) - loglik(theta_hat) is chi^2 / 2 with k (N - 1)
// degrees of freedom, of mean k (N - 1) / 2. Both differences are linear in
// |E|, so
//   sum_i log BGe(D_i | G) - log BGe(D | G) ~ const - kappa |E|,
//   kappa = (sum_i log n_i - log n) / 2 - (N - 1) / 2,
// and the product target times exp(kappa |E|), i.e. the edge prior with
// edge_penalty - kappa, is the full-data posterior to that order. It is a
// modular change, so it fits ComputeEdgeMarginals and the "bge" reward's
// edge prior. The O(1) terms it leaves (the Normal-Wishart prior counted N
// times, data-dependent) are not small: BENCHMARKS.md measures where it helps
// (Sachs, >= 1000 rows per client) and where it hurts (well-specified
// synthetic data, where the plain product is already close). The default
// target stays the plain product.
//
// kappa for clients holding `client_rows` rows each (n = their sum); 0 for
// one client. InvalidArgument for no clients or a count < 1.
absl::StatusOr<double> LaplaceEdgeCorrection(
    const std::vector<int64_t>& client_rows);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_PRODUCT_CORRECTION_H_
