#ifndef EPGFN_TESTS_DEMO_EDGE_MARGINAL_SCORING_H_
#define EPGFN_TESTS_DEMO_EDGE_MARGINAL_SCORING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/structure_metrics.h"
#include "tests/demo/evaluation.h"

namespace epgfn {

// Prints "edge marginals, <what> vs exact DP of the <target>: max abs error
// ..., mean abs error ..." and returns the two errors.
absl::StatusOr<EdgeMarginalError> PrintEdgeError(
    const std::string& what, const std::vector<double>& estimate,
    const EdgeMarginals& exact, const std::string& target);

// The evaluator's DAG step (nothing for other environments): the exact edge
// marginals of the product target and of the full-data posterior by the
// Tian-He DP (dag_edge_reference.h), the DP checked against the enumeration,
// and the errors of the global model and of the samples against both, into
// `evaluation`'s edge_* fields and dp_vs_enumeration.
absl::Status ScoreEdgeMarginals(Evaluation& evaluation);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_EDGE_MARGINAL_SCORING_H_
