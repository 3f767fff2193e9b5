#include "tests/bench/local_score_reward.h"

#include <torch/types.h>

#include <utility>

namespace epgfn {

LocalScoreReward::LocalScoreReward(int64_t nodes,
                                   std::vector<double> local_scores,
                                   double shift, std::string description)
    : nodes_(nodes),
      local_scores_(std::move(local_scores)),
      shift_(shift),
      description_(std::move(description)) {}

at::Tensor LocalScoreReward::LogRewardFloat64(
    const at::Tensor& terminal_states) const {
  const torch::Tensor states =
      terminal_states.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t batch = states.size(0);
  const int64_t width = states.size(1);
  const int64_t* data = states.data_ptr<int64_t>();
  const int64_t subsets = int64_t{1} << nodes_;
  std::vector<double> values(batch);
  for (int64_t b = 0; b < batch; ++b) {
    double total = -shift_;
    for (int64_t j = 0; j < nodes_; ++j) {
      int64_t parents = 0;
      for (int64_t i = 0; i < nodes_; ++i) {
        if (data[b * width + i * nodes_ + j] != 0) parents |= int64_t{1} << i;
      }
      total += local_scores_[j * subsets + parents];
    }
    values[b] = total;
  }
  return torch::tensor(values, torch::kFloat64).to(terminal_states.device());
}

}  // namespace epgfn
