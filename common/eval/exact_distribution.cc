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

namespace {

// The states after t steps and the probability of being at each; summing
// the exit mass over all t gives p_T exactly, in any DAG with bounded
// trajectory length.
struct Level {
  torch::Tensor states;      // [n, width] int64, on the CPU
  std::vector<double> mass;  // [n]
};

// The next level being collected, each child once, in order of discovery.
struct NextLevel {
  absl::flat_hash_map<StateKey, double> mass;
  std::vector<StateKey> order;
  std::vector<torch::Tensor> states;

  Level Take(int64_t width) {
    Level level;
    level.states = states.empty() ? torch::empty({0, width}, torch::kInt64)
                                  : torch::stack(states);
    for (const StateKey& key : order) level.mass.push_back(mass[key]);
    return level;
  }
};

// The policy's forward probabilities at `states` (float64, on the CPU; zero
// where the mask forbids). The softmax is in float64 so that each row sums
// to 1 to ~1e-15.
torch::Tensor ForwardProbabilities(PolicyNet& policy,
                                   const Environment& environment,
                                   const torch::Tensor& states,
                                   const torch::Tensor& mask) {
  return MaskedLogSoftmax(policy->forward(environment.Encode(states))
                              .forward_logits.to(torch::kFloat64),
                          mask)
      .exp()
      .masked_fill(mask.logical_not(), 0.0)
      .to(torch::kCPU);
}

// Rows [begin, begin + rows) of `level`: their exit mass goes to
// `terminal_mass`, the mass of every allowed move to its child in `next`
// (the children stepped in one batch).
void ExpandChunk(PolicyNet& policy, const Environment& environment,
                 const Level& level, int64_t begin, int64_t rows,
                 absl::flat_hash_map<StateKey, double>& terminal_mass,
                 NextLevel& next) {
  const torch::Device device = policy->device();
  const int64_t exit_action = environment.exit_action();
  torch::Tensor states = level.states.narrow(0, begin, rows).to(device);
  torch::Tensor mask = environment.ForwardMask(states);
  torch::Tensor probabilities =
      ForwardProbabilities(policy, environment, states, mask);
  std::vector<StateKey> keys = KeysOf(states.to(torch::kCPU));
  auto p = probabilities.accessor<double, 2>();
  for (int64_t i = 0; i < rows; ++i) {
    terminal_mass[keys[i]] += level.mass[begin + i] * p[i][exit_action];
  }
  torch::Tensor moves = mask.to(torch::kCPU).clone();
  moves.select(1, exit_action).fill_(false);
  torch::Tensor pairs = moves.nonzero();  // [E, 2]: row, action
  if (pairs.size(0) == 0) return;
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
    const double mass = level.mass[begin + parent[e]] * p[parent[e]][action[e]];
    auto [it, inserted] = next.mass.try_emplace(child_keys[e], 0.0);
    it->second += mass;
    if (inserted) {
      next.order.push_back(child_keys[e]);
      next.states.push_back(children[e]);
    }
  }
}

// The mass of each of `terminal_states`; InternalError when more than
// `leak_tolerance` of it lies on terminal states outside that list.
absl::StatusOr<torch::Tensor> MassOnStates(
    const absl::flat_hash_map<StateKey, double>& terminal_mass,
    const torch::Tensor& terminal_states, double leak_tolerance) {
  std::vector<StateKey> keys = KeysOf(terminal_states);
  torch::Tensor result =
      torch::zeros({static_cast<int64_t>(keys.size())}, torch::kFloat64);
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
    return absl::InternalError(
        absl::StrCat("policy puts mass ", total - found,
                     " on terminal states outside the enumerated list"));
  }
  return result;
}

}  // namespace

absl::StatusOr<torch::Tensor> ExactLearnedProbabilities(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, double leak_tolerance) {
  torch::NoGradGuard no_grad;
  absl::flat_hash_map<StateKey, double> terminal_mass;
  Level level{environment.InitialStates(1, torch::kCPU), {1.0}};
  for (int64_t t = 0; level.states.size(0) > 0; ++t) {
    if (t > environment.max_trajectory_length()) {
      return absl::InternalError(
          "state graph has a path longer than max_trajectory_length");
    }
    NextLevel next;
    for (int64_t begin = 0; begin < level.states.size(0); begin += kChunkRows) {
      const int64_t rows = std::min(kChunkRows, level.states.size(0) - begin);
      ExpandChunk(policy, environment, level, begin, rows, terminal_mass, next);
    }
    level = next.Take(environment.raw_state_dim());
  }
  return MassOnStates(terminal_mass, terminal_states, leak_tolerance);
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
  ASSIGN_OR_RETURN(
      torch::Tensor learned,
      ExactLearnedProbabilities(policy, environment, target.states));
  return TotalVariation(learned, target.probabilities);
}

}  // namespace epgfn
