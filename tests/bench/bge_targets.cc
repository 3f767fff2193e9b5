#include "tests/bench/bge_targets.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/env/dag/bge.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<Targets> MakeTargets(const Dataset& data, int clients,
                                    const std::string& split, int64_t seed) {
  Targets targets;
  ASSIGN_OR_RETURN(BGeScore full, BGeScore::Create(data, 1.0, 0.0));
  targets.full = full.local_scores();
  std::vector<BGeScore> scores;
  std::vector<BGeScore> split_scores;
  for (int i = 0; i < clients; ++i) {
    ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                     ClientRows(data.rows, i, clients, split, seed));
    const Dataset share = data.Subset(rows);
    targets.client_rows.push_back(share.rows);
    ASSIGN_OR_RETURN(BGeScore score, BGeScore::Create(share, 1.0, 0.0));
    scores.push_back(std::move(score));
    ASSIGN_OR_RETURN(BGeScore shared_prior,
                     BGeScore::Create(share, 1.0 / clients, 0.0));
    split_scores.push_back(std::move(shared_prior));
  }
  ASSIGN_OR_RETURN(targets.product, SumLocalScores(scores));
  ASSIGN_OR_RETURN(targets.product_alpha_split, SumLocalScores(split_scores));
  return targets;
}

ModularDagPosteriorOptions Prior(double edge_penalty) {
  ModularDagPosteriorOptions options;
  options.edge_penalty = edge_penalty;
  return options;
}

Gap MarginalGap(const std::vector<double>& a, const std::vector<double>& b,
                int64_t d) {
  return *CompareEdgeMarginals(d, a, b);
}

double ExpectedEdges(const EdgeMarginals& marginals) {
  double sum = 0.0;
  for (double p : marginals.probabilities) sum += p;
  return sum;
}

absl::StatusOr<double> EnumeratedTotalVariation(
    int64_t d, const std::vector<double>& a,
    const ModularDagPosteriorOptions& prior_a, const std::vector<double>& b,
    const ModularDagPosteriorOptions& prior_b) {
  ASSIGN_OR_RETURN(std::vector<double> log_a,
                   LogTargetOfEveryDag(d, a, prior_a));
  ASSIGN_OR_RETURN(std::vector<double> log_b,
                   LogTargetOfEveryDag(d, b, prior_b));
  auto normalise = [](std::vector<double>& log_p) {
    const double top = *std::max_element(log_p.begin(), log_p.end());
    double total = 0.0;
    for (double& value : log_p) total += (value = std::exp(value - top));
    for (double& value : log_p) value /= total;
  };
  normalise(log_a);
  normalise(log_b);
  double tv = 0.0;
  for (size_t g = 0; g < log_a.size(); ++g) tv += std::abs(log_a[g] - log_b[g]);
  return 0.5 * tv;
}

std::string Fixed(double value, int digits) {
  return absl::StrFormat("%.*f", digits, value);
}

}  // namespace epgfn
