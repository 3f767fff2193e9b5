#ifndef EPGFN_COMMON_ENV_DAG_STRUCTURE_METRICS_H_
#define EPGFN_COMMON_ENV_DAG_STRUCTURE_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace epgfn {

// Scores of a posterior over DAGs against a ground-truth graph, computed from
// its edge marginals alone (exact or estimated from samples).
struct StructureMetrics {
  // E[SHD(G, truth)] for G drawn from the posterior, where SHD counts each
  // unordered pair {i, j} whose state (no edge, i -> j, j -> i) differs from
  // the truth's once, so a reversed edge costs 1 (as in Tsamardinos et al.
  // 2006 and DAG-GFlowNet). Exact from marginals: the three states of a pair
  // are disjoint events, so E-SHD = sum_{i < j} (1 - P(truth's state)).
  double expected_shd = 0.0;
  // The same with a reversal costing 2 (missing plus extra edge): the
  // expected Hamming distance of adjacency matrices, sum |P(i -> j) - A_ij|.
  double expected_hamming = 0.0;
  // Ranking of the d(d-1) ordered pairs by P(i -> j) against A_ij:
  // AUROC = P(score of a true edge > score of a non-edge), ties counting
  // one half (Mann-Whitney); AUPRC = average precision over the distinct
  // thresholds (a tied group enters the precision-recall curve as one step,
  // as scikit-learn's average_precision_score does).
  double auroc = 0.0;
  double auprc = 0.0;
};

// AUROC of `scores` against 0/1 `labels` (ties count 1/2). InvalidArgument
// for different lengths, a label other than 0/1, a non-finite score, or no
// positive or no negative label.
absl::StatusOr<double> Auroc(const std::vector<double>& scores,
                             const std::vector<int64_t>& labels);
// Average precision (area under the step precision-recall curve, ties
// grouped); same validation as Auroc.
absl::StatusOr<double> AveragePrecision(const std::vector<double>& scores,
                                        const std::vector<int64_t>& labels);

// `edge_probabilities[i * nodes + j]` = P(i -> j), `truth[i * nodes + j]` =
// 1 iff i -> j in the ground truth. InvalidArgument for wrong sizes, a
// probability outside [0, 1] or P(i -> j) + P(j -> i) > 1 (beyond 1e-9), a
// non-zero diagonal, a truth entry other than 0/1 or a truth with both
// i -> j and j -> i, or a truth without edges or complete (AUROC needs both
// classes).
absl::StatusOr<StructureMetrics> EvaluateEdgeMarginals(
    int64_t nodes, const std::vector<double>& edge_probabilities,
    const std::vector<int64_t>& truth);

// How far estimated edge marginals (e.g. a sampler's edge frequencies) lie
// from exact ones, over the d(d-1) ordered pairs i != j.
struct EdgeMarginalError {
  double max_abs = 0.0;
  double mean_abs = 0.0;
};

// InvalidArgument for nodes < 2 or matrices that are not nodes x nodes.
absl::StatusOr<EdgeMarginalError> CompareEdgeMarginals(
    int64_t nodes, const std::vector<double>& estimate,
    const std::vector<double>& exact);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_STRUCTURE_METRICS_H_
