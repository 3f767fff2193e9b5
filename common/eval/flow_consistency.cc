#include "common/eval/flow_consistency.h"

#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/eval/sample_quality.h"
#include "common/eval/terminal_probability.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

double FlowConsistencyInSubgraphs(const torch::Tensor& log_terminal_probability,
                                  const torch::Tensor& log_reward,
                                  int64_t subset_size, int64_t num_subsets,
                                  RandomSource& random) {
  TORCH_CHECK(log_terminal_probability.dim() == 1 &&
                  log_terminal_probability.sizes() == log_reward.sizes(),
              "FCS needs log p_T and log R of the same [N] shape");
  const int64_t pool = log_terminal_probability.size(0);
  TORCH_CHECK(subset_size >= 1 && subset_size <= pool,
              "FCS needs 1 <= subset_size <= pool size");
  TORCH_CHECK(num_subsets >= 1, "FCS needs num_subsets >= 1");
  torch::Tensor log_pt =
      log_terminal_probability.to(torch::kCPU).to(torch::kFloat64);
  torch::Tensor log_r = log_reward.to(torch::kCPU).to(torch::kFloat64);

  // Ranking i.i.d. uniforms gives a uniformly random permutation per row;
  // its first subset_size entries are a subset without replacement.
  torch::Tensor order = std::get<1>(
      random.Uniform({num_subsets, pool}, torch::kCPU).sort(/*dim=*/1));
  torch::Tensor members = order.narrow(1, 0, subset_size);  // [S, k]
  // Normalising inside each subset in log space keeps tiny probabilities
  // and large rewards from under- or overflowing.
  torch::Tensor pt_in_subset = torch::softmax(log_pt.index({members}), 1);
  torch::Tensor r_in_subset = torch::softmax(log_r.index({members}), 1);
  return (0.5 * (pt_in_subset - r_in_subset).abs().sum(1))
      .mean()
      .item<double>();
}

absl::StatusOr<double> SampledFlowConsistency(PolicyNet& policy,
                                              const Environment& environment,
                                              const LogReward& log_reward,
                                              const FcsOptions& options,
                                              RandomSource& random) {
  if (options.num_samples < 1 || options.subset_size < 1 ||
      options.num_subsets < 1 || options.num_backward_samples < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("FCS options must all be positive; got num_samples=",
                     options.num_samples, ", subset_size=", options.subset_size,
                     ", num_subsets=", options.num_subsets,
                     ", num_backward_samples=", options.num_backward_samples));
  }
  torch::NoGradGuard no_grad;
  Trajectories trajectories = SampleTrajectories(
      policy, environment, options.num_samples, ExplorationOptions{}, random);
  torch::Tensor pool = UniqueRows(trajectories.terminal_states);
  if (pool.size(0) < options.subset_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("FCS subsets of ", options.subset_size,
                     " states need as many distinct objects, but ",
                     options.num_samples, " samples gave ", pool.size(0)));
  }
  torch::Tensor log_pt = EstimateLogTerminalProbability(
      policy, environment, pool, options.num_backward_samples, random);
  torch::Tensor log_r = log_reward(pool).to(torch::kCPU).to(torch::kFloat64);
  return FlowConsistencyInSubgraphs(log_pt, log_r, options.subset_size,
                                    options.num_subsets, random);
}

}  // namespace epgfn
