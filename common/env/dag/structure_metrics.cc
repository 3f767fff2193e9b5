#include "common/env/dag/structure_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

// Validates scores and labels; returns the number of positives.
absl::StatusOr<int64_t> CheckRanking(const std::vector<double>& scores,
                                     const std::vector<int64_t>& labels) {
  if (scores.size() != labels.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(scores.size(), " scores but ", labels.size(), " labels"));
  }
  int64_t positives = 0;
  for (size_t k = 0; k < scores.size(); ++k) {
    if (!std::isfinite(scores[k])) {
      return absl::InvalidArgumentError(
          absl::StrCat("score ", k, " is not finite: ", scores[k]));
    }
    if (labels[k] != 0 && labels[k] != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", k, " must be 0 or 1, got ", labels[k]));
    }
    positives += labels[k];
  }
  if (positives == 0 || positives == static_cast<int64_t>(labels.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ranking score needs positive and negative labels, got ",
                     positives, " positives of ", labels.size()));
  }
  return positives;
}

// The tied groups of `scores` from the highest score down: each group's
// size and number of positive labels.
struct TiedGroup {
  double size = 0.0;
  double positives = 0.0;
};

std::vector<TiedGroup> TiedGroupsByDecreasingScore(
    const std::vector<double>& scores, const std::vector<int64_t>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<TiedGroup> groups;
  for (size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || scores[order[k]] != scores[order[k - 1]]) {
      groups.emplace_back();
    }
    groups.back().size += 1.0;
    groups.back().positives += static_cast<double>(labels[order[k]]);
  }
  return groups;
}

}  // namespace

absl::StatusOr<double> Auroc(const std::vector<double>& scores,
                             const std::vector<int64_t>& labels) {
  absl::StatusOr<int64_t> positives = CheckRanking(scores, labels);
  if (!positives.ok()) return positives.status();
  const double n_positive = static_cast<double>(*positives);
  const double n_negative = static_cast<double>(scores.size()) - n_positive;
  // Walk the tied groups from the top: each positive beats the negatives
  // below its group and ties with the negatives inside it.
  double negatives_below = n_negative;
  double wins = 0.0;
  for (const TiedGroup& group : TiedGroupsByDecreasingScore(scores, labels)) {
    const double group_negatives = group.size - group.positives;
    negatives_below -= group_negatives;
    wins += group.positives * (negatives_below + 0.5 * group_negatives);
  }
  return wins / (n_positive * n_negative);
}

absl::StatusOr<double> AveragePrecision(const std::vector<double>& scores,
                                        const std::vector<int64_t>& labels) {
  absl::StatusOr<int64_t> positives = CheckRanking(scores, labels);
  if (!positives.ok()) return positives.status();
  double true_positives = 0.0;
  double predicted = 0.0;
  double average_precision = 0.0;
  for (const TiedGroup& group : TiedGroupsByDecreasingScore(scores, labels)) {
    true_positives += group.positives;
    predicted += group.size;
    // Recall rises by positives / all positives at precision tp / predicted.
    average_precision += (true_positives / predicted) * group.positives;
  }
  return average_precision / static_cast<double>(*positives);
}

absl::StatusOr<StructureMetrics> EvaluateEdgeMarginals(
    int64_t nodes, const std::vector<double>& edge_probabilities,
    const std::vector<int64_t>& truth) {
  const size_t cells = static_cast<size_t>(nodes * nodes);
  if (nodes < 2 || edge_probabilities.size() != cells ||
      truth.size() != cells) {
    return absl::InvalidArgumentError(
        absl::StrCat("need two d x d matrices with d >= 2; d = ", nodes, ", ",
                     edge_probabilities.size(), " probabilities, ",
                     truth.size(), " truth entries"));
  }
  constexpr double kSlack = 1e-9;
  std::vector<double> scores;
  std::vector<int64_t> labels;
  StructureMetrics metrics;
  for (int64_t i = 0; i < nodes; ++i) {
    for (int64_t j = 0; j < nodes; ++j) {
      const double p = edge_probabilities[i * nodes + j];
      const int64_t a = truth[i * nodes + j];
      if (!(p >= 0.0 && p <= 1.0 + kSlack)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "P(", i, " -> ", j, ") = ", p, " is not a probability"));
      }
      if (a != 0 && a != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "truth entry (", i, ", ", j, ") must be 0 or 1, got ", a));
      }
      if (i == j) {
        if (p != 0.0 || a != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "diagonal entry (", i, ", ", i, ") must be 0 (no self-loops)"));
        }
        continue;
      }
      scores.push_back(p);
      labels.push_back(a);
      metrics.expected_hamming += std::abs(p - static_cast<double>(a));
      if (j < i) continue;
      const double q = edge_probabilities[j * nodes + i];
      const int64_t b = truth[j * nodes + i];
      if (p + q > 1.0 + kSlack) {
        return absl::InvalidArgumentError(absl::StrCat(
            "P(", i, " -> ", j, ") + P(", j, " -> ", i, ") = ", p + q,
            " exceeds 1 (the two edges cannot coexist in a DAG)"));
      }
      if (a == 1 && b == 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "truth has both ", i, " -> ", j, " and ", j, " -> ", i));
      }
      const double p_truth_state = a == 1 ? p : (b == 1 ? q : 1.0 - p - q);
      metrics.expected_shd += std::max(0.0, 1.0 - p_truth_state);
    }
  }
  absl::StatusOr<double> auroc = Auroc(scores, labels);
  if (!auroc.ok()) return auroc.status();
  absl::StatusOr<double> auprc = AveragePrecision(scores, labels);
  if (!auprc.ok()) return auprc.status();
  metrics.auroc = *auroc;
  metrics.auprc = *auprc;
  return metrics;
}

absl::StatusOr<EdgeMarginalError> CompareEdgeMarginals(
    int64_t nodes, const std::vector<double>& estimate,
    const std::vector<double>& exact) {
  const size_t cells = static_cast<size_t>(nodes * nodes);
  if (nodes < 2 || estimate.size() != cells || exact.size() != cells) {
    return absl::InvalidArgumentError(
        absl::StrCat("need two d x d matrices with d >= 2; d = ", nodes, ", ",
                     estimate.size(), " and ", exact.size(), " entries"));
  }
  EdgeMarginalError error;
  for (int64_t i = 0; i < nodes; ++i) {
    for (int64_t j = 0; j < nodes; ++j) {
      if (i == j) continue;
      const double difference =
          std::abs(estimate[i * nodes + j] - exact[i * nodes + j]);
      error.max_abs = std::max(error.max_abs, difference);
      error.mean_abs += difference;
    }
  }
  error.mean_abs /= static_cast<double>(nodes * (nodes - 1));
  return error;
}

}  // namespace epgfn
