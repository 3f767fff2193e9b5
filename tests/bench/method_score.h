#ifndef EPGFN_TESTS_BENCH_METHOD_SCORE_H_
#define EPGFN_TESTS_BENCH_METHOD_SCORE_H_

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "common/eval/exact_distribution.h"
#include "common/sampling/random.h"

namespace epgfn {

// One method's row of federated_experiment's table.
struct MethodScore {
  std::string method;
  double total_variation = 0;
  double total_variation_full = -1;  // to the full-data posterior, if any
  double fcs = 0;
  double top_k_log_reward = 0;
  int64_t modes_found = 0;
  std::string wall_clock;
};

// Scores a distribution `q` over the enumerated terminal states against the
// exact target, using `num_samples` draws from q for the sample-based metrics.
// FCS uses the exact q (so it measures q, not estimator noise).
MethodScore Score(const std::string& method, const torch::Tensor& q,
                  const TerminalDistribution& target,
                  const torch::Tensor& target_log_reward,
                  const torch::Tensor& modes, int64_t num_samples,
                  RandomSource& random);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_METHOD_SCORE_H_
