#include "common/eval/terminal_probability.h"

#include <memory>
#include <string>

#include <torch/types.h>

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

TEST(TerminalProbabilityTest, MatchesExactMarginalOnHypergrid) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  // The estimator is unbiased for any p_B, so a random learned p_B must
  // agree with the exact marginal as well as the uniform one does.
  for (bool learned : {false, true}) {
    PolicyNet policy = MakeNet(*environment, learned, 2);
    auto exact = ExactLearnedProbabilities(policy, *environment, terminals);
    ASSERT_TRUE(exact.ok()) << exact.status();
    RandomSource random(9);
    torch::Tensor estimate = EstimateLogTerminalProbability(
        policy, *environment, terminals, 2000, random);
    ASSERT_EQ(estimate.dtype(), torch::kFloat64);
    ASSERT_EQ(estimate.sizes(), torch::IntArrayRef({terminals.size(0)}));
    torch::Tensor error = (estimate - exact->log()).abs();
    EXPECT_LT(error.max().item<double>(), 0.05)
        << "learned_backward=" << learned << "\n"
        << error;
  }
}

TEST(TerminalProbabilityTest, OneSampleIsExactOnATree) {
  // Every sequence has one parent, so p_B = 1 and the single backward path
  // is the only one: the importance weight is p_T(x) itself.
  auto environment = MakeEnv("sequence:length=4,vocab=4");
  PolicyNet policy = MakeNet(*environment, false, 5);
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  auto exact = ExactLearnedProbabilities(policy, *environment, terminals);
  ASSERT_TRUE(exact.ok()) << exact.status();
  RandomSource random(1);
  torch::Tensor estimate = EstimateLogTerminalProbability(policy, *environment,
                                                          terminals, 1, random);
  // Only float32 rounding of the per-step log-probabilities remains.
  EXPECT_LT((estimate - exact->log()).abs().max().item<double>(), 1e-5);
}

TEST(TerminalProbabilityTest, EmptyBatchGivesEmptyResult) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeNet(*environment, false, 2);
  RandomSource random(1);
  torch::Tensor estimate = EstimateLogTerminalProbability(
      policy, *environment, torch::empty({0, 2}, torch::kInt64), 4, random);
  EXPECT_EQ(estimate.numel(), 0);
  EXPECT_EQ(estimate.dtype(), torch::kFloat64);
}

TEST(TerminalProbabilityTest, DeterministicForASeed) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeNet(*environment, false, 2);
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  RandomSource first(4), second(4);
  EXPECT_TRUE(
      EstimateLogTerminalProbability(policy, *environment, terminals, 8, first)
          .equal(EstimateLogTerminalProbability(policy, *environment, terminals,
                                                8, second)));
}

}  // namespace
}  // namespace epgfn
