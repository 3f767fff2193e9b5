#include "common/eval/exact_distribution.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// States visited per policy evaluation in the DP.
constexpr int64_t kChunkRows = 1 << 14;

using StateKey = std::string;

StateKey KeyOfRow(const int64_t* row, int64_t width) {
  return StateKey(reinterpret_cast<const char*>(row), width * sizeof(int64_t));
}

std::vector<StateKey> KeysOf(const torch::Tensor& states) {
  torch::Tensor cpu = states.to(torch::kCPU).contiguous();
  const int64_t width = cpu.size(1);
  const int64_t* data = cpu.data_ptr<int64_t>();
  std::vector<StateKey> keys;
  keys.reserve(cpu.size(0));
  for (int64_t i = 0; i < cpu.size(0); ++i) {
    keys.push_back(KeyOfRow(data + i * width, width));
  }
  return keys;
}

}  // namespace

absl::StatusOr<TerminalDistribution> ExactTargetDistribution(
    const Environment& environment, const LogReward& log_reward) {
  ASSIGN_OR_RETURN(torch::Tensor states, environment.EnumerateTerminalStates());
  torch::NoGradGuard no_grad;
  // Double precision end to end: float32 log-rewards of -10^4 are off by
  // 1e-3, which the exact reference must not inherit.
  torch::Tensor log_r = log_reward.LogRewardFloat64(states);
  if (!torch::isfinite(log_r).all().item<bool>()) {
    return absl::InternalError("log-reward is not finite on every object");
  }
  return TerminalDistribution{states.to(torch::kCPU),
                              torch::softmax(log_r, 0).to(torch::kCPU)};
}

absl::StatusOr<torch::Tensor> ExactLearnedProbabilities(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, double leak_tolerance) {
  torch::NoGradGuard no_grad;
  const torch::Device device = policy->device();
  const int64_t width = environment.raw_state_dim();
  const int64_t exit_action = environment.exit_action();
  absl::flat_hash_map<StateKey, double> terminal_mass;

  // Mass of being at each state after t steps; summing the exit mass over
  // all t gives p_T exactly, in any DAG with bounded trajectory length.
  torch::Tensor frontier = environment.InitialStates(1, torch::kCPU);
  std::vector<double> frontier_mass = {1.0};
  for (int64_t level = 0; frontier.size(0) > 0; ++level) {
    if (level > environment.max_trajectory_length()) {
      return absl::InternalError(
          "state graph has a path longer than max_trajectory_length");
    }
    absl::flat_hash_map<StateKey, double> next_mass;
    std::vector<StateKey> next_order;
    std::vector<torch::Tensor> next_states;
    for (int64_t begin = 0; begin < frontier.size(0); begin += kChunkRows) {
      const int64_t rows = std::min(kChunkRows, frontier.size(0) - begin);
      torch::Tensor states = frontier.narrow(0, begin, rows).to(device);
      torch::Tensor mask = environment.ForwardMask(states);
      // Softmax in float64 so that the distribution sums to 1 to ~1e-15.
      torch::Tensor probabilities =
          MaskedLogSoftmax(policy->forward(environment.Encode(states))
                               .forward_logits.to(torch::kFloat64),
                           mask)
              .exp()
              .masked_fill(mask.logical_not(), 0.0)
              .to(torch::kCPU);
      torch::Tensor states_cpu = states.to(torch::kCPU);
      std::vector<StateKey> keys = KeysOf(states_cpu);
      auto p = probabilities.accessor<double, 2>();
      for (int64_t i = 0; i < rows; ++i) {
        terminal_mass[keys[i]] += frontier_mass[begin + i] * p[i][exit_action];
      }
      // Children of every allowed non-exit action, stepped in one batch.
      torch::Tensor moves = mask.to(torch::kCPU).clone();
      moves.select(1, exit_action).fill_(false);
      torch::Tensor pairs = moves.nonzero();  // [E, 2]: row, action
      if (pairs.size(0) == 0) continue;
      torch::Tensor parent_rows = pairs.select(1, 0);
      torch::Tensor actions = pairs.select(1, 1);
      torch::Tensor children =
          environment
              .Step(states.index_select(0, parent_rows.to(device)),
                    actions.to(device))
              .to(torch::kCPU);
      std::vector<StateKey> child_keys = KeysOf(children);
      auto parent = parent_rows.accessor<int64_t, 1>();
      auto action = actions.accessor<int64_t, 1>();
      for (int64_t e = 0; e < pairs.size(0); ++e) {
        const double mass =
            frontier_mass[begin + parent[e]] * p[parent[e]][action[e]];
        auto [it, inserted] = next_mass.try_emplace(child_keys[e], 0.0);
        it->second += mass;
        if (inserted) {
          next_order.push_back(child_keys[e]);
          next_states.push_back(children[e]);
        }
      }
    }
    frontier = next_states.empty()
                   ? torch::empty({0, width}, torch::kInt64)
                   : torch::stack(next_states);
    frontier_mass.clear();
    for (const StateKey& key : next_order) frontier_mass.push_back(next_mass[key]);
  }

  std::vector<StateKey> keys = KeysOf(terminal_states);
  torch::Tensor result = torch::zeros({static_cast<int64_t>(keys.size())},
                                      torch::kFloat64);
  auto out = result.accessor<double, 1>();
  double found = 0.0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = terminal_mass.find(keys[i]);
    if (it != terminal_mass.end()) {
      out[i] = it->second;
      found += it->second;
    }
  }
  double total = 0.0;
  for (const auto& [key, mass] : terminal_mass) total += mass;
  if (total - found > leak_tolerance) {
    return absl::InternalError(absl::StrCat(
        "policy puts mass ", total - found,
        " on terminal states outside the enumerated list"));
  }
  return result;
}

double TotalVariation(const torch::Tensor& p, const torch::Tensor& q) {
  return 0.5 * (p.to(torch::kFloat64) - q.to(torch::kFloat64))
                   .abs()
                   .sum()
                   .item<double>();
}

torch::Tensor EmpiricalDistribution(const torch::Tensor& samples,
                                    const torch::Tensor& terminal_states) {
  absl::flat_hash_map<StateKey, int64_t> index;
  std::vector<StateKey> keys = KeysOf(terminal_states);
  for (size_t i = 0; i < keys.size(); ++i) index[keys[i]] = i;
  torch::Tensor counts =
      torch::zeros({static_cast<int64_t>(keys.size())}, torch::kFloat64);
  auto out = counts.accessor<double, 1>();
  for (const StateKey& key : KeysOf(samples)) {
    auto it = index.find(key);
    if (it != index.end()) out[it->second] += 1.0;
  }
  return counts / std::max<int64_t>(samples.size(0), 1);
}

absl::StatusOr<double> ExactTotalVariation(PolicyNet& policy,
                                           const Environment& environment,
                                           const TerminalDistribution& target) {
  ASSIGN_OR_RETURN(torch::Tensor learned,
                   ExactLearnedProbabilities(policy, environment, target.states));
  return TotalVariation(learned, target.probabilities);
}

}  // namespace epgfn
