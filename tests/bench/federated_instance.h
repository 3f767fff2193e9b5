#ifndef EPGFN_TESTS_BENCH_FEDERATED_INSTANCE_H_
#define EPGFN_TESTS_BENCH_FEDERATED_INSTANCE_H_

// The enumerable instance federated_experiment scores every method on: the
// clients' rewards, their exact product target and, for the Bayesian
// workloads, the full-data posterior.

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

struct InstanceOptions {
  // hypergrid, multiset, sequence, phylo or dag (small defaults), or a full
  // spec such as hypergrid:dim=2,side=8.
  std::string env = "hypergrid";
  // Extra parameters of every client's reward; empty: the workload's
  // default (a primates.nex JC69 for phylo, a synthetic BGe for dag).
  std::string reward_params;
  int clients = 4;
  uint64_t seed = 0;
};

struct Instance {
  std::unique_ptr<Environment> environment;
  std::vector<std::unique_ptr<LogReward>> rewards;  // client i's at i
  std::unique_ptr<ProductOfRewards> product;        // of `rewards`
  TerminalDistribution target;
  torch::Tensor target_log_reward;  // float64, over target.states
  torch::Tensor modes;
  std::optional<TerminalDistribution> full;  // one client holding all data
  std::string full_reward_spec;              // the reward of `full`, if any
};

absl::StatusOr<Instance> BuildInstance(const InstanceOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_FEDERATED_INSTANCE_H_
