#include "common/env/environment_testing.h"

#include <torch/types.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/env/environment_registry.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::vector<int64_t> RowOf(const torch::Tensor& states, int64_t i) {
  torch::Tensor row = states[i].contiguous();
  return std::vector<int64_t>(row.data_ptr<int64_t>(),
                              row.data_ptr<int64_t>() + row.numel());
}

}  // namespace

StateGraphCounts CheckStateGraph(const Environment& environment) {
  StateGraphCounts counts;
  const int64_t exit_action = environment.exit_action();
  std::set<std::vector<int64_t>> seen;
  std::set<std::vector<int64_t>> terminals;
  torch::Tensor frontier = environment.InitialStates(1, torch::kCPU);
  EXPECT_FALSE(environment.BackwardMask(frontier).any().item<bool>())
      << "s0 must have no parent";
  seen.insert(RowOf(frontier, 0));
  int64_t depth = 0;
  while (frontier.size(0) > 0) {
    torch::Tensor mask = environment.ForwardMask(frontier);
    EXPECT_EQ(mask.size(1), environment.num_forward_actions());
    EXPECT_TRUE(mask.any(1).all().item<bool>()) << "a state allows no action";
    torch::Tensor encoded = environment.Encode(frontier);
    EXPECT_EQ(encoded.size(1), environment.encoding_dim());
    EXPECT_TRUE(torch::isfinite(encoded).all().item<bool>());
    for (int64_t i = 0; i < frontier.size(0); ++i) {
      if (mask[i][exit_action].item<bool>())
        terminals.insert(RowOf(frontier, i));
    }
    torch::Tensor moves = mask.clone();
    moves.select(1, exit_action).fill_(false);
    torch::Tensor pairs = moves.nonzero();
    if (pairs.size(0) == 0) break;
    ++depth;
    EXPECT_LT(depth, environment.max_trajectory_length())
        << "a path is longer than max_trajectory_length()";
    if (depth >= environment.max_trajectory_length()) break;
    torch::Tensor parents = frontier.index_select(0, pairs.select(1, 0));
    torch::Tensor actions = pairs.select(1, 1).contiguous();
    torch::Tensor children = environment.Step(parents, actions);
    counts.edges += children.size(0);
    // Backward consistency on every edge.
    torch::Tensor backward = environment.BackwardActionOf(children, actions);
    torch::Tensor backward_mask = environment.BackwardMask(children);
    EXPECT_TRUE(
        backward_mask.gather(1, backward.unsqueeze(1)).all().item<bool>())
        << "the backward action undoing an edge is not allowed";
    EXPECT_TRUE(environment.BackwardStep(children, backward).equal(parents))
        << "BackwardStep does not undo Step";
    EXPECT_TRUE(environment.ForwardActionOf(children, backward).equal(actions))
        << "ForwardActionOf does not invert BackwardActionOf";
    std::vector<torch::Tensor> fresh;
    for (int64_t e = 0; e < children.size(0); ++e) {
      if (seen.insert(RowOf(children, e)).second) fresh.push_back(children[e]);
    }
    frontier = fresh.empty() ? torch::empty({0, environment.raw_state_dim()},
                                            torch::kInt64)
                             : torch::stack(fresh);
  }
  counts.states = static_cast<int64_t>(seen.size());
  counts.terminals = static_cast<int64_t>(terminals.size());

  absl::StatusOr<torch::Tensor> enumerated =
      environment.EnumerateTerminalStates();
  EXPECT_TRUE(enumerated.ok()) << enumerated.status();
  if (enumerated.ok()) {
    std::set<std::vector<int64_t>> listed;
    for (int64_t i = 0; i < enumerated->size(0); ++i) {
      listed.insert(RowOf(*enumerated, i));
    }
    EXPECT_EQ(listed.size(), static_cast<size_t>(enumerated->size(0)))
        << "EnumerateTerminalStates lists a state twice";
    EXPECT_TRUE(listed == terminals)
        << "EnumerateTerminalStates differs from the states that allow exit";
  }
  return counts;
}

RewardConfig ParseRewardConfig(const std::string& text) {
  auto config = RewardConfig::Parse(text);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : RewardConfig{};
}

std::unique_ptr<Environment> MakeTestEnvironment(const std::string& config) {
  auto parsed = EnvironmentConfig::Parse(config);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return nullptr;
  auto environment = MakeEnvironment(*parsed);
  EXPECT_TRUE(environment.ok()) << environment.status();
  return environment.ok() ? std::move(environment).value() : nullptr;
}

void ExpectRefusedNaming(const absl::Status& status, const std::string& text,
                         const std::string& name) {
  ASSERT_FALSE(status.ok()) << text;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(name), std::string::npos) << status;
}

void ExpectCanonicalRegistration(const std::string& kind,
                                 const std::string& spelled_out,
                                 const std::string& canonical) {
  auto by_default = MakeEnvironment(*EnvironmentConfig::Parse(kind));
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  auto spelled = MakeEnvironment(*EnvironmentConfig::Parse(spelled_out));
  ASSERT_TRUE(spelled.ok()) << spelled.status();
  EXPECT_EQ((*by_default)->config(), (*spelled)->config());
  EXPECT_EQ((*by_default)->config().ToString(), canonical);
  auto reward = MakeSplitLogReward(**by_default, ParseRewardConfig("utility"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_NE((*reward)->Describe().find(kind), std::string::npos);
}

void ExpectUtilityRewardsRefuseBadParameters(const Environment& environment) {
  for (const auto& [text, name] :
       std::vector<std::pair<std::string, std::string>>{
           {"utility:seed=-1", "seed"},
           {"utility:scale=-2", "scale"},
           {"utility:sed=3", "sed"},
           {"client:index=4,count=4", "index"},
           {"client:index=0,count=0", "count"},
           {"client:index=0,count=2,r0=1", "r0"},
           {"standard", "standard"}}) {
    auto reward = MakeSplitLogReward(environment, ParseRewardConfig(text));
    ExpectRefusedNaming(reward.status(), text, name);
  }
}

void ExpectClientRewardsDifferByIndexAndRepeatForASeed(
    const Environment& environment) {
  absl::StatusOr<torch::Tensor> states = environment.EnumerateTerminalStates();
  ASSERT_TRUE(states.ok()) << states.status();
  auto client = [&](int index, int seed) {
    auto reward = MakeSplitLogReward(
        environment,
        ParseRewardConfig("client:index=" + std::to_string(index) +
                          ",count=3,seed=" + std::to_string(seed)));
    EXPECT_TRUE(reward.ok()) << reward.status();
    return (**reward)(*states);
  };
  torch::Tensor first = client(0, 11);
  EXPECT_TRUE(first.equal(client(0, 11)));
  EXPECT_FALSE(first.equal(client(1, 11)));
  EXPECT_FALSE(client(1, 11).equal(client(2, 11)));
  EXPECT_FALSE(first.equal(client(0, 12)));
}

}  // namespace epgfn
