#include "common/sampling/trajectories.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::unique_ptr<Environment> MakeEnv(const std::string& spec) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(spec));
  EXPECT_TRUE(environment.ok()) << environment.status();
  return std::move(environment).value();
}

PolicyNet MakeNet(const Environment& environment, bool learned_backward,
                  uint64_t seed) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 32;
  architecture.learned_backward = learned_backward;
  return *MakePolicy(environment, architecture, seed, torch::kCPU);
}

// Zero weights give equal logits: p_F uniform over the allowed actions.
PolicyNet MakeUniformNet(const Environment& environment) {
  PolicyNet policy = MakeNet(environment, false, 0);
  torch::NoGradGuard no_grad;
  for (auto& parameter : policy->parameters()) parameter.zero_();
  return policy;
}

// Checks that each trajectory is a path of the state graph from s0 that ends
// with exit at its length, and that padding repeats the terminal state.
void ExpectWellFormed(const Environment& environment,
                      const Trajectories& trajectories) {
  const int64_t batch = trajectories.batch_size();
  EXPECT_TRUE(trajectories.states[0].equal(
      environment.InitialStates(batch, torch::kCPU)));
  EXPECT_TRUE((trajectories.lengths >= 1).all().item<bool>());
  EXPECT_TRUE((trajectories.lengths <= environment.max_trajectory_length())
                  .all()
                  .item<bool>());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t length = trajectories.lengths[b].item<int64_t>();
    for (int64_t t = 0; t < trajectories.max_steps(); ++t) {
      torch::Tensor state = trajectories.states[t][b].unsqueeze(0);
      const int64_t action = trajectories.actions[t][b].item<int64_t>();
      EXPECT_EQ(trajectories.step_mask[t][b].item<bool>(), t < length);
      if (t >= length) continue;
      ASSERT_TRUE(environment.ForwardMask(state)[0][action].item<bool>())
          << "trajectory " << b << " took a forbidden action at step " << t;
      if (t == length - 1) {
        EXPECT_EQ(action, environment.exit_action());
        EXPECT_TRUE(
            trajectories.states[t][b].equal(trajectories.terminal_states[b]));
      } else {
        EXPECT_NE(action, environment.exit_action());
        torch::Tensor next =
            environment.Step(state, torch::tensor({action}, torch::kInt64));
        EXPECT_TRUE(next[0].equal(trajectories.states[t + 1][b]));
      }
    }
  }
}

TEST(TrajectoriesTest, ForwardSamplesAreCompletePathsEndingInExit) {
  auto environment = MakeEnv("hypergrid:dim=2,side=5");
  PolicyNet policy = MakeNet(*environment, false, 1);
  RandomSource random(7);
  Trajectories trajectories = SampleTrajectories(
      policy, *environment, 64, ExplorationOptions{0.2, 1.5}, random);
  ExpectWellFormed(*environment, trajectories);
}

TEST(TrajectoriesTest,
     ADivergedPolicyFailsClearlyInsteadOfTakingAForbiddenAction) {
  auto environment = MakeEnv("dag:nodes=4");
  PolicyNet policy = MakeNet(*environment, false, 1);
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : policy->parameters()) {
      parameter.fill_(std::numeric_limits<float>::quiet_NaN());
    }
  }
  RandomSource random(7);
  try {
    SampleTrajectories(policy, *environment, 8, {}, random);
    FAIL() << "sampling from a NaN policy succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos)
        << e.what();
  }
}

TEST(TrajectoriesTest, SamplingIsDeterministicForASeed) {
  auto environment = MakeEnv("hypergrid:dim=2,side=5");
  PolicyNet policy = MakeNet(*environment, false, 1);
  RandomSource first(11), second(11), other(12);
  auto a = SampleTrajectories(policy, *environment, 32, {}, first);
  auto b = SampleTrajectories(policy, *environment, 32, {}, second);
  auto c = SampleTrajectories(policy, *environment, 32, {}, other);
  EXPECT_TRUE(a.terminal_states.equal(b.terminal_states));
  EXPECT_FALSE(a.terminal_states.equal(c.terminal_states));
}

TEST(TrajectoriesTest, BackwardSamplesReverseIntoForwardPaths) {
  auto environment = MakeEnv("hypergrid:dim=3,side=4");
  for (bool learned : {false, true}) {
    PolicyNet policy = MakeNet(*environment, learned, 3);
    RandomSource random(5);
    torch::Tensor terminals = *environment->EnumerateTerminalStates();
    Trajectories trajectories =
        SampleBackwardTrajectories(policy, *environment, terminals, random);
    ExpectWellFormed(*environment, trajectories);
    EXPECT_TRUE(trajectories.terminal_states.equal(terminals));
    // Hypergrid paths have exactly sum(x) moves, then exit.
    EXPECT_TRUE(trajectories.lengths.equal(terminals.sum(1) + 1));
  }
}

TEST(TrajectoriesTest, UniformPolicyLogProbsCountAllowedActions) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeUniformNet(*environment);
  RandomSource random(3);
  Trajectories trajectories =
      SampleTrajectories(policy, *environment, 16, {}, random);
  TrajectoryLogProbs log_probs =
      ComputeTrajectoryLogProbs(policy, *environment, trajectories);
  for (int64_t b = 0; b < 16; ++b) {
    double expected_pf = 0.0, expected_pb = 0.0;
    for (int64_t t = 0; t < trajectories.lengths[b].item<int64_t>(); ++t) {
      torch::Tensor state = trajectories.states[t][b].unsqueeze(0);
      expected_pf -=
          std::log(environment->ForwardMask(state).sum().item<double>());
      if (trajectories.actions[t][b].item<int64_t>() !=
          environment->exit_action()) {
        torch::Tensor child = trajectories.states[t + 1][b].unsqueeze(0);
        expected_pb -=
            std::log(environment->BackwardMask(child).sum().item<double>());
      }
    }
    EXPECT_NEAR(log_probs.SumLogPf()[b].item<double>(), expected_pf, 1e-4);
    EXPECT_NEAR(log_probs.SumLogPb()[b].item<double>(), expected_pb, 1e-4);
  }
}

TEST(TrajectoriesTest, ExactMarginalOfUniformPolicyMatchesMonteCarlo) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeUniformNet(*environment);
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  auto exact = ExactLearnedProbabilities(policy, *environment, terminals);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_NEAR(exact->sum().item<double>(), 1.0, 1e-9);
  // p(exit at s0) = 1/3 for a uniform policy on a 2-D grid.
  EXPECT_NEAR((*exact)[0].item<double>(), 1.0 / 3.0, 1e-9);
  RandomSource random(1);
  Trajectories trajectories =
      SampleTrajectories(policy, *environment, 200000, {}, random);
  torch::Tensor empirical =
      EmpiricalDistribution(trajectories.terminal_states, terminals);
  // 16 cells, 200k samples: the expected TV of the empirical law is ~0.003.
  EXPECT_LT(TotalVariation(*exact, empirical), 0.01);
}

}  // namespace
}  // namespace epgfn
