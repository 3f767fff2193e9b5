#include "tests/bench/method_score.h"

#include <tuple>

#include "common/eval/flow_consistency.h"
#include "common/eval/sample_quality.h"

namespace epgfn {

MethodScore Score(const std::string& method, const torch::Tensor& q,
                  const TerminalDistribution& target,
                  const torch::Tensor& target_log_reward,
                  const torch::Tensor& modes, int64_t num_samples,
                  RandomSource& random) {
  MethodScore score;
  score.method = method;
  score.total_variation = TotalVariation(q, target.probabilities);
  const int64_t n = num_samples;
  torch::Tensor draws = random.Categorical(
      q.to(torch::kFloat32).unsqueeze(0).expand({n, q.size(0)}).contiguous());
  torch::Tensor samples = target.states.index_select(0, draws);
  torch::Tensor distinct = std::get<0>(at::_unique(draws));
  score.top_k_log_reward =
      TopKMeanLogReward(target_log_reward.index_select(0, distinct), 10);
  score.modes_found = CountModesFound(samples, modes);
  if (distinct.size(0) >= 8) {
    score.fcs = FlowConsistencyInSubgraphs(
        q.index_select(0, distinct).log(),
        target_log_reward.index_select(0, distinct), 8, 512, random);
  }
  return score;
}

}  // namespace epgfn
