#include "common/eval/phylo/tree_mcmc.h"

#include <torch/types.h>

#include <map>
#include <set>

#include "common/env/phylo/phylo_target.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_state.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using Tree = std::vector<Clade>;

// The demo's six primates and its tempered JC69 reward (at temperature 1 the
// 898-site posterior is nearly a point mass).
constexpr char kEnvironment[] =
    "phylo:alignment=common/env/phylo/testdata/primates.nex,"
    "taxa=Homo_sapiens;Pan;Gorilla;Pongo;Hylobates;Macaca_fuscata";
constexpr char kReward[] = "jc69:temperature=20";

class FlatReward : public LogReward {
 public:
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return torch::zeros({states.size(0)}, torch::kFloat64);
  }
  std::string Describe() const override { return "flat"; }
};

std::unique_ptr<TreeMcmc> MakeMcmc(int n, const LogReward* reward,
                                   TreeMcmcOptions options) {
  auto mcmc = TreeMcmc::Create(n, reward, options);
  EXPECT_TRUE(mcmc.ok()) << mcmc.status();
  return std::move(mcmc).value();
}

TEST(TreeMcmcTest, CladeFrequenciesConvergeToTheEnumeratedPosterior) {
  auto target = MakePhyloTarget(kEnvironment, kReward);
  ASSERT_TRUE(target.ok()) << target.status();
  auto exact = ExactTargetDistribution(*target->environment, *target->reward);
  ASSERT_TRUE(exact.ok()) << exact.status();
  auto trees = TreesOfStates(exact->states, 6);
  ASSERT_TRUE(trees.ok()) << trees.status();
  const at::Tensor p = exact->probabilities.contiguous();
  std::vector<double> weights(p.data_ptr<double>(),
                              p.data_ptr<double>() + p.numel());
  auto exact_clades = WeightedCladeFrequencies(6, *trees, weights);
  ASSERT_TRUE(exact_clades.ok()) << exact_clades.status();

  TreeMcmcOptions options;
  options.num_chains = 2;
  options.seed = 3;
  std::unique_ptr<TreeMcmc> mcmc = MakeMcmc(6, target->reward.get(), options);
  ConvergenceOptions convergence;
  convergence.check_every = 2000;
  convergence.max_steps = 48000;
  auto report = RunUntilConverged(*mcmc, convergence);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->converged)
      << "ASDSF " << report->trace.back().asdsf.value << " after "
      << report->trace.back().steps << " steps";
  // Then a fixed length, so the tolerance below is about a known sample.
  ASSERT_TRUE(mcmc->Run(48000 - report->trace.back().steps).ok());
  const CladeFrequencies sampled = mcmc->Frequencies(-1, 0.25);
  const double error = MaxAbsCladeDifference(sampled, *exact_clades);
  std::printf(
      "max |MCMC - exact| clade frequency %.4f over %zu clades; "
      "acceptance %.3f; %lld reward calls\n",
      error, exact_clades->frequency.size(),
      static_cast<double>(mcmc->stats(0).accepted) / mcmc->stats(0).steps,
      static_cast<long long>(mcmc->reward_calls()));
  EXPECT_LT(error, 0.03);
  // The tree-level distribution too: TV of the pooled samples.
  std::vector<Tree> kept;
  for (int c = 0; c < 2; ++c) {
    const auto& s = mcmc->samples(c);
    kept.insert(kept.end(), s.begin() + s.size() / 4, s.end());
  }
  const double tv =
      TotalVariation(EmpiricalDistribution(StatesOfTrees(kept), exact->states),
                     exact->probabilities);
  std::printf("TV(MCMC trees, exact) %.4f\n", tv);
  EXPECT_LT(tv, 0.08);
  // The best tree a chain visited is the posterior mode.
  const int64_t mode = exact->probabilities.argmax().item<int64_t>();
  EXPECT_EQ(mcmc->stats(0).best_tree, (*trees)[mode]);
}

TEST(TreeMcmcTest, EachMoveAloneVisitsEveryTreeAndFlatTargetIsUniform) {
  FlatReward flat;
  for (double nni : {1.0, 0.0}) {
    SCOPED_TRACE(nni == 1.0 ? "NNI only" : "SPR only");
    TreeMcmcOptions options;
    options.num_chains = 2;
    options.nni_probability = nni;
    std::unique_ptr<TreeMcmc> mcmc = MakeMcmc(6, &flat, options);
    ASSERT_TRUE(mcmc->Run(30000).ok());
    std::map<Tree, int> counts;
    for (int c = 0; c < 2; ++c) {
      for (const Tree& t : mcmc->samples(c)) ++counts[t];
    }
    EXPECT_EQ(counts.size(), 945u);
    // Uniform stationary law: a symmetric proposal on a flat target.
    double tv = 0.0;
    for (const auto& [tree, count] : counts) {
      tv += std::abs(count / 60000.0 - 1.0 / 945.0);
    }
    tv *= 0.5;
    std::printf("TV to uniform %.4f\n", tv);
    EXPECT_LT(tv, 0.12);
  }
}

TEST(TreeMcmcTest, SeededRunsRepeatAndBatchTheRewardCalls) {
  FlatReward flat;
  TreeMcmcOptions options;
  options.num_chains = 3;
  options.seed = 9;
  std::unique_ptr<TreeMcmc> a = MakeMcmc(8, &flat, options);
  std::unique_ptr<TreeMcmc> b = MakeMcmc(8, &flat, options);
  ASSERT_TRUE(a->Run(500).ok());
  ASSERT_TRUE(b->Run(500).ok());
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(a->samples(c), b->samples(c));
    EXPECT_EQ(a->samples(c).size(), 500u);
  }
  EXPECT_NE(a->samples(0), a->samples(1));
  // One reward call per round serves all three chains: the start plus at
  // most one call per step.
  EXPECT_LE(a->reward_calls(), 501);
  // Every proposal is accepted on a flat target (batch of 1 per chain).
  EXPECT_GT(a->stats(0).accepted, 450);
  options.seed = 10;
  std::unique_ptr<TreeMcmc> c = MakeMcmc(8, &flat, options);
  ASSERT_TRUE(c->Run(10).ok());
  EXPECT_NE(c->samples(0), a->samples(0));
}

TEST(TreeMcmcTest, BadOptionsAreRefused) {
  FlatReward flat;
  TreeMcmcOptions options;
  options.num_chains = 0;
  EXPECT_FALSE(TreeMcmc::Create(6, &flat, options).ok());
  options = TreeMcmcOptions();
  options.nni_probability = 1.5;
  EXPECT_FALSE(TreeMcmc::Create(6, &flat, options).ok());
  EXPECT_FALSE(TreeMcmc::Create(65, &flat, TreeMcmcOptions()).ok());
  EXPECT_FALSE(TreeMcmc::Create(6, nullptr, TreeMcmcOptions()).ok());
}

}  // namespace
}  // namespace epgfn
