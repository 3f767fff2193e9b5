#include "tests/demo/dag_edge_reference.h"

#include <bitset>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

std::vector<double> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(),
                             c.data_ptr<double>() + c.numel());
}

}  // namespace

absl::StatusOr<EdgeMarginals> ExactEdgeMarginals(
    const DagEnvironment& environment,
    const std::vector<const LogReward*>& factors) {
  const int64_t d = environment.nodes();
  if (d > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("the edge-marginal DP needs d <= 16, not ", d));
  }
  if (factors.empty()) return absl::InvalidArgumentError("no rewards");
  const int64_t sets = int64_t{1} << d;
  const int64_t max_parents = environment.max_parents();
  // Row 0: the empty graph; then one DAG per (node, allowed parent set).
  std::vector<int64_t> node_of{-1};
  std::vector<int64_t> mask_of{0};
  for (int64_t j = 0; j < d; ++j) {
    for (int64_t mask = 1; mask < sets; ++mask) {
      if ((mask >> j & 1) ||
          static_cast<int64_t>(std::bitset<16>(mask).count()) > max_parents) {
        continue;
      }
      node_of.push_back(j);
      mask_of.push_back(mask);
    }
  }
  const int64_t rows = static_cast<int64_t>(node_of.size());
  torch::Tensor adjacency = torch::zeros({rows, d, d}, torch::kInt64);
  auto a = adjacency.accessor<int64_t, 3>();
  for (int64_t r = 1; r < rows; ++r) {
    for (int64_t i = 0; i < d; ++i) {
      if (mask_of[r] >> i & 1) a[r][i][node_of[r]] = 1;
    }
  }
  const torch::Tensor states = environment.StatesFromAdjacency(adjacency);
  torch::Tensor log_reward = torch::zeros({rows}, torch::kFloat64);
  for (const LogReward* factor : factors) {
    log_reward += factor->LogRewardFloat64(states).to(torch::kFloat64);
  }
  const std::vector<double> values = ToVector(log_reward - log_reward[0]);
  std::vector<double> local_scores(d * sets, 0.0);
  for (int64_t r = 1; r < rows; ++r) {
    local_scores[node_of[r] * sets + mask_of[r]] = values[r];
  }
  ModularDagPosteriorOptions options;
  options.max_parents = max_parents >= d - 1 ? -1 : max_parents;
  return ComputeEdgeMarginals(d, local_scores, options);
}

std::vector<double> EdgeMarginalsOf(const torch::Tensor& states,
                                    const torch::Tensor& weights, int64_t d) {
  const torch::Tensor adjacency = states.slice(1, 0, d * d).to(torch::kFloat64);
  return ToVector(torch::matmul(weights.to(torch::kFloat64), adjacency));
}

std::vector<double> SampledEdgeMarginals(const torch::Tensor& samples,
                                         int64_t d) {
  return ToVector(samples.slice(1, 0, d * d).to(torch::kFloat64).mean(0));
}

}  // namespace epgfn
