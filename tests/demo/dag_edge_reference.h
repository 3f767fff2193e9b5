#ifndef EPGFN_TESTS_DEMO_DAG_EDGE_REFERENCE_H_
#define EPGFN_TESTS_DEMO_DAG_EDGE_REFERENCE_H_

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/dag.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/environment.h"

namespace epgfn {

// The evaluator's exact edge marginals for the dag task: the Tian-He DP
// (edge_marginals.h) of the product of `factors` (one factor: a single
// posterior such as the full-data one), with no enumeration of DAGs, so it
// holds beyond d = 5 (d = 11 in 0.03 s).
//
// The DP needs local scores; the evaluator holds only the rewards, so they
// are read off the rewards themselves: with G(j, S) the DAG whose only edges
// are S -> j,
//   log f_j(S) = sum_k [log R_k(G(j, S)) - log R_k(empty)].
// For a reward that is a sum of per-node terms (BGe under the uniform or the
// edge prior, any data, any temperature) prod_j f_j(Pa_j) is then R(G) /
// R(empty) exactly, i.e. the same posterior. Parent sets beyond the
// environment's max_parents are never evaluated (the DP gives them prior 0).
// A non-modular reward would give wrong marginals, which is why the
// evaluator also compares them with the enumeration where d <= 5.
absl::StatusOr<EdgeMarginals> ExactEdgeMarginals(
    const DagEnvironment& environment,
    const std::vector<const LogReward*>& factors);

// P(i -> j) = sum_x weights[x] A_x[i][j] over raw DAG states [X, 2 d^2]
// (weights [X], summing to 1; e.g. an exact terminal distribution), as
// [d * d] row-major.
std::vector<double> EdgeMarginalsOf(const torch::Tensor& states,
                                    const torch::Tensor& weights, int64_t d);

// The edge frequencies of sampled raw states [B, 2 d^2].
std::vector<double> SampledEdgeMarginals(const torch::Tensor& samples,
                                         int64_t d);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_DAG_EDGE_REFERENCE_H_
