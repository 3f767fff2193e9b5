#include "tests/demo/edge_marginal_scoring.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/env/dag/dag.h"
#include "common/util/status_macros.h"
#include "tests/demo/dag_edge_reference.h"

namespace epgfn {

absl::StatusOr<EdgeMarginalError> PrintEdgeError(
    const std::string& what, const std::vector<double>& estimate,
    const EdgeMarginals& exact, const std::string& target) {
  ASSIGN_OR_RETURN(
      EdgeMarginalError error,
      CompareEdgeMarginals(exact.nodes, estimate, exact.probabilities));
  std::printf(
      "edge marginals, %s vs exact DP of the %s: max abs error %.4f, mean abs "
      "error %.4f\n",
      what.c_str(), target.c_str(), error.max_abs, error.mean_abs);
  return error;
}

absl::Status ScoreEdgeMarginals(Evaluation& evaluation) {
  const auto* dag =
      dynamic_cast<const DagEnvironment*>(evaluation.environment.get());
  if (dag == nullptr) return absl::OkStatus();
  const int64_t d = dag->nodes();
  std::vector<const LogReward*> factors;
  for (const auto& reward : evaluation.rewards) factors.push_back(reward.get());
  ASSIGN_OR_RETURN(const EdgeMarginals product,
                   ExactEdgeMarginals(*dag, factors));
  const TerminalDistribution& target = evaluation.target;
  ASSIGN_OR_RETURN(
      const EdgeMarginalError check,
      CompareEdgeMarginals(
          d, EdgeMarginalsOf(target.states, target.probabilities, d),
          product.probabilities));
  evaluation.dp_vs_enumeration = check.max_abs;
  std::printf(
      "exact edge marginals by the Tian-He DP (product target; normalizer "
      "check %.1e): max |DP - enumeration| = %.3g\n",
      product.normalizer_check, check.max_abs);
  std::optional<EdgeMarginals> full;
  if (evaluation.full_reward != nullptr) {
    ASSIGN_OR_RETURN(full,
                     ExactEdgeMarginals(*dag, {evaluation.full_reward.get()}));
    ASSIGN_OR_RETURN(
        const EdgeMarginalError full_check,
        CompareEdgeMarginals(
            d,
            EdgeMarginalsOf(target.states, evaluation.full->probabilities, d),
            full->probabilities));
    evaluation.dp_vs_enumeration =
        std::max(evaluation.dp_vs_enumeration, full_check.max_abs);
    ASSIGN_OR_RETURN(
        const EdgeMarginalError gap,
        CompareEdgeMarginals(d, product.probabilities, full->probabilities));
    std::printf(
        "exact edge marginals by the DP (full-data posterior): max |DP - "
        "enumeration| = %.3g; product vs full data: max %.4f, mean %.4f\n",
        full_check.max_abs, gap.max_abs, gap.mean_abs);
  }
  const std::vector<double> learned =
      EdgeMarginalsOf(target.states, evaluation.learned, d);
  ASSIGN_OR_RETURN(evaluation.edge_learned,
                   PrintEdgeError("global model (exact)", learned, product,
                                  "product target"));
  if (full.has_value()) {
    ASSIGN_OR_RETURN(evaluation.edge_learned_full,
                     PrintEdgeError("global model (exact)", learned, *full,
                                    "full-data posterior"));
  }
  if (!evaluation.samples.defined()) return absl::OkStatus();
  const std::vector<double> sampled =
      SampledEdgeMarginals(evaluation.samples, d);
  const std::string what = absl::StrCat(evaluation.num_samples, " samples");
  double noise = 0;  // the largest Monte Carlo standard error
  for (double p : product.probabilities) {
    noise = std::max(noise, std::sqrt(p * (1 - p) / evaluation.num_samples));
  }
  ASSIGN_OR_RETURN(evaluation.edge_empirical,
                   PrintEdgeError(what, sampled, product, "product target"));
  std::printf("  (sampling noise alone: standard error up to %.4f)\n", noise);
  if (full.has_value()) {
    ASSIGN_OR_RETURN(
        evaluation.edge_empirical_full,
        PrintEdgeError(what, sampled, *full, "full-data posterior"));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
