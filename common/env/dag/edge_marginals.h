#ifndef EPGFN_COMMON_ENV_DAG_EDGE_MARGINALS_H_
#define EPGFN_COMMON_ENV_DAG_EDGE_MARGINALS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/bge.h"

namespace epgfn {

// Exact posterior edge probabilities of a structure-modular target over DAGs,
// computed without enumerating DAGs.
//
// Target: p(G) proportional to prod_j f_j(Pa_j) with
//   log f_j(S) = local_scores[j * 2^d + S] - edge_penalty |S|
// for parent sets S (bit masks without j) of at most max_parents nodes, and
// f_j(S) = 0 for larger sets. With local scores log p(D^{S+j}) -
// log p(D^S) from BGeScore this is the posterior prior(G) BGe(D | G) under
// the uniform prior (edge_penalty = 0) or the edge prior log prior(G) =
// -edge_penalty |E| of the "bge" reward (dag.h). The federated product
// target prod_i prior(G)^(1/N) BGe(D_i | G) = prior(G) prod_i BGe(D_i | G)
// is modular too, with the clients' summed local scores (SumLocalScores).
//
// Algorithm: the DAG-modular (not order-modular) dynamic programme of Tian &
// He (UAI 2009), "Computing posterior probabilities of structural features
// in Bayesian networks", in O(d 3^d) time and O(d 2^d) memory:
//  1. A_j(W) = sum_{S subset of W} f_j(S)             (zeta transform);
//  2. forward, over node sets U, the sum over DAGs on U (Robinson's
//     inclusion-exclusion over the sinks T):
//       Z(U) = sum_{T nonempty subset of U} (-1)^(|T|+1) Z(U\T)
//              prod_{k in T} A_k(U\T);
//  3. backward, H(W) = the sum over ways of adding the nodes V\W below a
//     DAG on W (inclusion-exclusion over the added sources), and
//       K_j(W) = Z(W) sum_{T contains j} (-1)^(|T|+1) H(W+T)
//                prod_{k in T\j} A_k(W)
//     = Z(W) x (the ways in which W is exactly j's non-descendants);
//  4. Gamma_j(S) = sum_{W superset of S, j not in W} K_j(W), so that
//       P(i -> j) = sum_{S contains i} f_j(S) Gamma_j(S) / Z(V).
// (Step 3 is the reverse-mode derivative dZ(V)/dA_j(W) of step 2.) All
// quantities are sums of non-negative terms except the inclusion-exclusion
// sums, whose positive and negative parts are accumulated separately in log
// space and subtracted once; their cancellation is bounded (each DAG is
// counted at most 2^d times), so double precision keeps ~1e-12 at d = 11.
struct ModularDagPosteriorOptions {
  // log prior(G) = -edge_penalty |E| (any finite value; 0 = uniform over
  // DAGs; negative values favour edges).
  double edge_penalty = 0.0;
  // Parent sets with more nodes have prior 0; -1 = no limit.
  int64_t max_parents = -1;
};

struct EdgeMarginals {
  int64_t nodes = 0;
  // probabilities[i * nodes + j] = P(i -> j); the diagonal is 0.
  std::vector<double> probabilities;
  // log sum_G prod_j f_j(Pa_j): the log normaliser of the (unnormalised)
  // target, e.g. log sum_G exp(-edge_penalty |E|) p(D | G).
  double log_normalizer = 0.0;
  // max_j |log sum_S f_j(S) Gamma_j(S) - log_normalizer|: each node's
  // parent-set marginals must sum to one, so this measures the rounding of
  // the inclusion-exclusion sums (exact arithmetic: 0).
  double normalizer_check = 0.0;

  double at(int64_t from, int64_t to) const {
    return probabilities[from * nodes + to];
  }
};

// `local_scores` is [nodes * 2^nodes] in BGeScore's layout (row j indexed by
// parent mask; entries whose mask contains j are ignored). InvalidArgument
// for nodes outside 1..16, a table of the wrong size, a non-finite score of
// an allowed parent set (naming node and mask), a non-finite edge_penalty or
// max_parents < -1.
absl::StatusOr<EdgeMarginals> ComputeEdgeMarginals(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options);

// The local scores of the federated product target: the entrywise sum of the
// clients' tables (prior counted once, by ComputeEdgeMarginals).
// InvalidArgument for no clients or clients with different node counts.
absl::StatusOr<std::vector<double>> SumLocalScores(
    const std::vector<BGeScore>& clients);

// Reference by brute force, for tests and small experiments (d <= 5): every
// labelled DAG as its nodes' parent masks (DAG g's node j has parents
// dags[g * nodes + j]), in a fixed order (d = 4: 543, d = 5: 29281).
// InvalidArgument outside 1..5.
absl::StatusOr<std::vector<uint32_t>> EnumerateDagParentMasks(int64_t nodes);

// log prod_j f_j(Pa_j) of every DAG of EnumerateDagParentMasks(nodes) (-inf
// where max_parents excludes it), same validation as ComputeEdgeMarginals.
absl::StatusOr<std::vector<double>> LogTargetOfEveryDag(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options);

// ComputeEdgeMarginals by enumeration (d <= 5); normalizer_check is 0.
absl::StatusOr<EdgeMarginals> EdgeMarginalsByEnumeration(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_EDGE_MARGINALS_H_
