#ifndef EPGFN_TESTS_BENCH_LOCAL_SCORE_REWARD_H_
#define EPGFN_TESTS_BENCH_LOCAL_SCORE_REWARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/env/environment.h"

namespace epgfn {

// log R(G) = sum_j local_scores[j][Pa_j] - shift, from the double-precision
// table, for the dag environment's raw states: the benches train on a
// modular target that the DP knows exactly.
class LocalScoreReward : public LogReward {
 public:
  LocalScoreReward(int64_t nodes, std::vector<double> local_scores,
                   double shift, std::string description);

  at::Tensor LogRewardFloat64(const at::Tensor& terminal_states) const override;
  std::string Describe() const override { return description_; }

 private:
  int64_t nodes_;
  std::vector<double> local_scores_;
  double shift_;  // log Z, so that the rewards are log-probabilities
  std::string description_;
};

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_LOCAL_SCORE_REWARD_H_
