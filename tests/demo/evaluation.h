#ifndef EPGFN_TESTS_DEMO_EVALUATION_H_
#define EPGFN_TESTS_DEMO_EVALUATION_H_

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/env/dag/structure_metrics.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"

namespace epgfn {

// Everything the demo's evaluator compares, filled in by its steps
// (evaluate.cc), and printed at the end as one RESULT line.
struct Evaluation {
  std::unique_ptr<Environment> environment;
  std::vector<std::unique_ptr<LogReward>> rewards;  // client i's at i
  TerminalDistribution target;                      // the exact product
  std::optional<TerminalDistribution> full;         // --full_data_reward's
  std::unique_ptr<LogReward> full_reward;           // the same reward
  torch::Tensor learned;    // the global model's exact distribution
  torch::Tensor empirical;  // of --samples; undefined without them
  torch::Tensor samples;    // their raw states
  int64_t num_samples = 0;
  // -1 where the inputs are missing, as the RESULT line prints them.
  double tv_learned = -1;
  double tv_learned_full = -1;
  double tv_empirical = -1;
  double tv_empirical_full = -1;
  // Edge marginals against the exact DP (dag only): the samples' max and
  // mean absolute error to the product target and to the full-data
  // posterior, and the DP's own agreement with the enumeration.
  EdgeMarginalError edge_empirical{-1, -1};
  EdgeMarginalError edge_empirical_full{-1, -1};
  EdgeMarginalError edge_learned{-1, -1};
  EdgeMarginalError edge_learned_full{-1, -1};
  double dp_vs_enumeration = -1;
};

// The machine-readable line for scripts (run_demo.sh, the e2e tests):
// "RESULT tv_learned=... dp_vs_enumeration=...". The edge_* fields (-1 but
// for DAGs): max and mean absolute error of the edge marginals against the
// exact DP of the product (and _full: of the full-data posterior);
// dp_vs_enumeration: the DP's largest difference from the enumerated
// marginals.
void PrintResultLine(const Evaluation& evaluation);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_EVALUATION_H_
