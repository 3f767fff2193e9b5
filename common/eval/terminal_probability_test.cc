#include "common/eval/terminal_probability.h"

#include <torch/types.h>

#include <memory>
#include <string>

#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/sampling/small_test_policy.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

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

TEST(TerminalProbabilityTest, PassSizeIsFullOnSmallEnvironmentsOnly) {
  // Small environments keep one pass of up to 1 << 15 paths, so that seeded
  // estimates stay what they were before the pass size was bounded.
  for (const char* spec :
       {"hypergrid:dim=2,side=4", "hypergrid:dim=4,side=8", "dag:nodes=4",
        "phylo:num_taxa=8", "phylo:num_taxa=12"}) {
    auto environment = MakeEnv(spec);
    PolicyNet policy = MakeNet(*environment, true, 2);
    EXPECT_EQ(BackwardTrajectoriesPerPass(policy, *environment),
              kMaxTrajectoriesPerPass)
        << spec;
  }
  // A 64-taxon tree holds ~40 KB per visited state, 65 states per path.
  auto phylo = MakeEnv("phylo:num_taxa=64");
  PolicyArchitecture architecture;
  const int64_t rows = BackwardTrajectoriesPerPass(
      *MakePolicy(*phylo, architecture, 2, torch::kCPU), *phylo);
  EXPECT_GE(rows, 1);
  EXPECT_LT(rows, 1024);
}

TEST(TerminalProbabilityTest, PassCoveringAllPathsGivesTheSameEstimate) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeNet(*environment, true, 2);
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  const int64_t total = terminals.size(0) * 8;
  RandomSource first(4), second(4), third(4);
  torch::Tensor full =
      EstimateLogTerminalProbability(policy, *environment, terminals, 8, first);
  EXPECT_TRUE(full.equal(EstimateLogTerminalProbability(
      policy, *environment, terminals, 8, second, total)));
  // One row short of all paths: a second pass, other samples.
  EXPECT_FALSE(full.equal(EstimateLogTerminalProbability(
      policy, *environment, terminals, 8, third, total - 1)));
}

TEST(TerminalProbabilityTest, SmallPassesAgreeWithinMonteCarloError) {
  auto environment = MakeEnv("hypergrid:dim=2,side=4");
  PolicyNet policy = MakeNet(*environment, true, 2);
  torch::Tensor terminals = *environment->EnumerateTerminalStates();
  auto exact = ExactLearnedProbabilities(policy, *environment, terminals);
  ASSERT_TRUE(exact.ok()) << exact.status();
  // 2000 samples per state as in MatchesExactMarginalOnHypergrid, in passes
  // of 777 paths (not a multiple of 2000, so passes split a state's samples).
  RandomSource random(9);
  torch::Tensor estimate = EstimateLogTerminalProbability(
      policy, *environment, terminals, 2000, random, 777);
  EXPECT_LT((estimate - exact->log()).abs().max().item<double>(), 0.05);
}

}  // namespace
}  // namespace epgfn
