#include "common/sampling/trajectories.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/sampling/small_test_policy.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

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

// The rollout as it was before SampleTrajectoriesWithLogProbs (commit
// 23851af), verbatim: the reference that both samplers must reproduce bit
// for bit.
Trajectories ReferenceSampleTrajectories(PolicyNet& policy,
                                         const Environment& environment,
                                         int64_t batch,
                                         const ExplorationOptions& exploration,
                                         RandomSource& random) {
  torch::NoGradGuard no_grad;
  const torch::Device device = policy->device();
  const int64_t exit_action = environment.exit_action();
  const auto index_options = torch::dtype(torch::kInt64).device(device);
  torch::Tensor states = environment.InitialStates(batch, device);
  torch::Tensor active_rows = torch::arange(batch, index_options);
  torch::Tensor active_states = states;
  std::vector<torch::Tensor> all_states = {states};
  std::vector<torch::Tensor> all_actions;
  std::vector<torch::Tensor> all_step_masks;
  for (int64_t t = 0; t < environment.max_trajectory_length(); ++t) {
    if (t > 0 && active_rows.size(0) == 0) break;
    torch::Tensor logits =
        policy->forward(environment.Encode(active_states)).forward_logits;
    if (exploration.temperature != 1.0)
      logits = logits / exploration.temperature;
    torch::Tensor mask = environment.ForwardMask(active_states);
    torch::Tensor probabilities = MaskedLogSoftmax(logits, mask).exp();
    if (exploration.epsilon > 0.0) {
      torch::Tensor allowed = mask.to(torch::kFloat32);
      probabilities = (1.0 - exploration.epsilon) * probabilities +
                      exploration.epsilon * allowed / allowed.sum(-1, true);
    }
    torch::Tensor actions =
        random
            .Categorical(torch::ones({batch, probabilities.size(1)},
                                     probabilities.options())
                             .index_copy_(0, active_rows, probabilities))
            .index_select(0, active_rows);
    all_actions.push_back(torch::zeros({batch}, index_options)
                              .index_copy_(0, active_rows, actions));
    all_step_masks.push_back(
        torch::zeros({batch}, torch::dtype(torch::kBool).device(device))
            .index_fill_(0, active_rows, true));
    torch::Tensor moving = (actions != exit_action).nonzero().squeeze(1);
    active_rows = active_rows.index_select(0, moving);
    if (moving.size(0) > 0) {
      active_states = environment.Step(active_states.index_select(0, moving),
                                       actions.index_select(0, moving));
      states = states.index_copy(0, active_rows, active_states);
    }
    all_states.push_back(states);
  }
  Trajectories trajectories;
  trajectories.states = torch::stack(all_states);
  trajectories.actions = torch::stack(all_actions);
  trajectories.step_mask = torch::stack(all_step_masks);
  trajectories.lengths = trajectories.step_mask.sum(0);
  trajectories.terminal_states = states;
  return trajectories;
}

void ExpectSameTrajectories(const Trajectories& expected,
                            const Trajectories& actual) {
  EXPECT_TRUE(actual.states.equal(expected.states));
  EXPECT_TRUE(actual.actions.equal(expected.actions));
  EXPECT_TRUE(actual.step_mask.equal(expected.step_mask));
  EXPECT_TRUE(actual.lengths.equal(expected.lengths));
  EXPECT_TRUE(actual.terminal_states.equal(expected.terminal_states));
}

// A policy and an exploration setting to sample with.
struct SamplingCase {
  std::string environment;
  ExplorationOptions exploration;
  bool learned_backward = false;
  bool state_flow = false;
};

std::vector<SamplingCase> SamplingCases() {
  return {
      {"hypergrid:dim=2,side=5", {}, false, false},
      {"hypergrid:dim=3,side=4", {0.2, 1.5}, true, false},
      {"hypergrid:dim=2,side=6", {0.05, 1.0}, false, true},
      {"multiset:size=4,items=5", {0.1, 0.7}, true, true},
      {"sequence:vocab=4,length=4", {0.3, 1.0}, true, false},
      {"dag:nodes=4", {0.1, 1.0}, false, true},
  };
}

PolicyNet MakeCaseNet(const Environment& environment, const SamplingCase& c) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 32;
  architecture.learned_backward = c.learned_backward;
  architecture.state_flow = c.state_flow;
  return *MakePolicy(environment, architecture, 5, torch::kCPU);
}

TEST(TrajectoriesTest, BothSamplersReproduceTheReferenceSamplerBitForBit) {
  for (const SamplingCase& c : SamplingCases()) {
    SCOPED_TRACE(c.environment);
    auto environment = MakeEnv(c.environment);
    PolicyNet policy = MakeCaseNet(*environment, c);
    RandomSource reference_random(21), plain_random(21), on_policy_random(21);
    // Two batches in a row: the random streams must also end in step.
    for (int round = 0; round < 2; ++round) {
      Trajectories reference = ReferenceSampleTrajectories(
          policy, *environment, 48, c.exploration, reference_random);
      ExpectSameTrajectories(
          reference, SampleTrajectories(policy, *environment, 48, c.exploration,
                                        plain_random));
      ExpectSameTrajectories(reference, SampleTrajectoriesWithLogProbs(
                                            policy, *environment, 48,
                                            c.exploration, on_policy_random)
                                            .trajectories);
    }
    EXPECT_TRUE(plain_random.State().equal(reference_random.State()));
    EXPECT_TRUE(on_policy_random.State().equal(reference_random.State()));
  }
}

// Parameter gradients of a fixed random combination of every log-probability
// (so that each head's gradient counts), by name.
std::map<std::string, torch::Tensor> GradientsOf(PolicyNet& policy,
                                                 const TrajectoryLogProbs& lp) {
  torch::manual_seed(3);
  torch::Tensor objective = (lp.log_pf * torch::randn_like(lp.log_pf)).sum() +
                            (lp.log_pb * torch::randn_like(lp.log_pb)).sum();
  if (lp.log_flow.defined()) {
    objective =
        objective + (lp.log_flow * torch::randn_like(lp.log_flow)).sum();
  }
  policy->zero_grad();
  objective.backward();
  std::map<std::string, torch::Tensor> gradients;
  for (const auto& item : policy->named_parameters()) {
    if (item.value().grad().defined()) {
      gradients[item.key()] = item.value().grad().clone();
    }
  }
  return gradients;
}

TEST(TrajectoriesTest, OnPolicyLogProbsAndGradientsMatchASecondForwardPass) {
  for (const SamplingCase& c : SamplingCases()) {
    SCOPED_TRACE(c.environment);
    auto environment = MakeEnv(c.environment);
    PolicyNet policy = MakeCaseNet(*environment, c);
    RandomSource random(8);
    SampledTrajectories sampled = SampleTrajectoriesWithLogProbs(
        policy, *environment, 64, c.exploration, random);
    const TrajectoryLogProbs& on_policy = sampled.log_probs;
    TrajectoryLogProbs recomputed =
        ComputeTrajectoryLogProbs(policy, *environment, sampled.trajectories);
    // With exploration the actions came from a mixture, but the
    // log-probabilities are those of p_F itself.
    EXPECT_TRUE(on_policy.log_pf.allclose(recomputed.log_pf, 0, 1e-6));
    EXPECT_TRUE(on_policy.log_pb.allclose(recomputed.log_pb, 0, 1e-6));
    ASSERT_EQ(on_policy.log_flow.defined(), c.state_flow);
    if (c.state_flow) {
      EXPECT_TRUE(on_policy.log_flow.allclose(recomputed.log_flow, 0, 1e-6));
    }
    std::map<std::string, torch::Tensor> expected =
        GradientsOf(policy, recomputed);
    std::map<std::string, torch::Tensor> actual =
        GradientsOf(policy, on_policy);
    ASSERT_EQ(actual.size(), expected.size());
    for (const auto& [name, gradient] : expected) {
      ASSERT_TRUE(actual.count(name)) << name;
      EXPECT_TRUE(actual[name].allclose(gradient, 1e-5, 1e-6))
          << name << ": max difference "
          << (actual[name] - gradient).abs().max().item<double>();
    }
  }
}

TEST(TrajectoriesTest, OnPolicyGradientsRefuseParametersChangedAfterSampling) {
  auto environment = MakeEnv("hypergrid:dim=2,side=5");
  PolicyNet policy = MakeNet(*environment, false, 1);
  RandomSource random(2);
  SampledTrajectories sampled =
      SampleTrajectoriesWithLogProbs(policy, *environment, 16, {}, random);
  {
    torch::NoGradGuard no_grad;
    policy->named_parameters()["torso.0.weight"].add_(1.0);
  }
  EXPECT_THROW(sampled.log_probs.SumLogPf().sum().backward(), c10::Error);
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

// Where RandomSource(seed)'s stream of uniforms first holds an exact 0.0
// (float32 rand draws multiples of 2^-24, so about once in 2^24 draws); -1
// if not within the first 2^28.
int64_t FirstZeroUniform(uint64_t seed) {
  RandomSource random(seed);
  constexpr int64_t kChunk = int64_t{1} << 22;
  for (int64_t start = 0; start < (int64_t{1} << 28); start += kChunk) {
    torch::Tensor zeros =
        (random.Uniform({kChunk}, torch::kCPU) == 0).nonzero();
    if (zeros.size(0) > 0) return start + zeros[0][0].item<int64_t>();
  }
  return -1;
}

// Regression (Sachs d = 11, TB, iteration ~405): a uniform of exactly 0
// picked category 0 whatever its probability; on the DAG environment that
// is the self-loop 0 -> 0, always masked, and the corrupted trajectory later
// overran the longest path ("index out of range in self" in the
// log-probabilities).
TEST(TrajectoriesTest, AZeroUniformNeverTakesAZeroProbabilityCategory) {
  constexpr uint64_t kSeed = 3;
  const int64_t zero_at = FirstZeroUniform(kSeed);
  ASSERT_GE(zero_at, 0);
  RandomSource random(kSeed);
  if (zero_at > 0) random.Uniform({zero_at}, torch::kCPU);
  const torch::Tensor at_zero = random.State();
  ASSERT_EQ(random.Uniform({1}, torch::kCPU).item<float>(), 0.0f);

  random.SetState(at_zero);
  EXPECT_EQ(random.Categorical(torch::tensor({{0.0f, 0.0f, 0.25f, 0.75f}}))
                .item<int64_t>(),
            2);
  // The DAG rollout of one trajectory whose first draw is that 0.
  random.SetState(at_zero);
  auto environment = MakeEnv("dag:nodes=4");
  PolicyNet policy = MakeNet(*environment, false, 1);
  Trajectories trajectories =
      SampleTrajectories(policy, *environment, 1, {}, random);
  EXPECT_NE(trajectories.actions[0][0].item<int64_t>(), 0);
  ExpectWellFormed(*environment, trajectories);
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
