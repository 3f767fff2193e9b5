#include "common/env/phylo/likelihood.h"

#include <torch/types.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/env/phylo/alignment.h"
#include "common/env/phylo/phylo.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";

double Jc69(int from, int to, double t) {
  const double decay = std::exp(-4.0 * t / 3.0);
  return from == to ? 0.25 + 0.75 * decay : 0.25 - 0.25 * decay;
}

// Sum over the tip states each mask allows.
double TipSum(int64_t mask, int parent, double t) {
  double total = 0.0;
  for (int x = 0; x < 4; ++x) {
    if (mask & (int64_t{1} << x)) total += Jc69(parent, x, t);
  }
  return total;
}

// Likelihood of one site on ((0,1),(2,3)) by brute force over all 4^3
// ancestral assignments (root r, internal u above 0 and 1, v above 2 and 3).
double BalancedBruteForce(const std::vector<int64_t>& tips, double t) {
  double total = 0.0;
  for (int r = 0; r < 4; ++r) {
    for (int u = 0; u < 4; ++u) {
      for (int v = 0; v < 4; ++v) {
        total += 0.25 * Jc69(r, u, t) * Jc69(r, v, t) * TipSum(tips[0], u, t) *
                 TipSum(tips[1], u, t) * TipSum(tips[2], v, t) *
                 TipSum(tips[3], v, t);
      }
    }
  }
  return total;
}

// The same for the caterpillar (((0,1),2),3): root r, w above (0,1),2 and
// u above 0,1.
double CaterpillarBruteForce(const std::vector<int64_t>& tips, double t) {
  double total = 0.0;
  for (int r = 0; r < 4; ++r) {
    for (int w = 0; w < 4; ++w) {
      for (int u = 0; u < 4; ++u) {
        total += 0.25 * Jc69(r, w, t) * TipSum(tips[3], r, t) * Jc69(w, u, t) *
                 TipSum(tips[2], w, t) * TipSum(tips[0], u, t) *
                 TipSum(tips[1], u, t);
      }
    }
  }
  return total;
}

// A few sites with plain, ambiguous and unknown tips: [4, P] masks.
at::Tensor FourTaxonSites() {
  return torch::tensor({{1, 1, 2, 15, 5, 8},
                        {1, 2, 2, 1, 4, 8},
                        {2, 4, 8, 15, 10, 1},
                        {2, 8, 1, 4, 15, 8}},
                       torch::kInt64);
}

TEST(LikelihoodTest, PruningMatchesBruteForceOverAncestralStates) {
  const double t = 0.3;
  at::Tensor masks = FourTaxonSites();
  at::Tensor tips = TipPartials(masks);
  // Node order: 4 = (0,1), 5 = (2,3), 6 = root; caterpillar 4 = (0,1),
  // 5 = (4,2), 6 = (5,3).
  const std::vector<double> lengths(7, t);
  at::Tensor balanced =
      Jc69SiteLogLikelihoods({{0, 1}, {2, 3}, {4, 5}}, lengths, tips);
  at::Tensor caterpillar =
      Jc69SiteLogLikelihoods({{0, 1}, {4, 2}, {5, 3}}, lengths, tips);
  at::Tensor ones = torch::ones({masks.size(1)}, torch::kFloat64);
  at::Tensor batched =
      Jc69LogLikelihoods(torch::tensor({{0, 2, 4}, {0, 4, 5}}),
                         torch::tensor({{1, 3, 5}, {1, 2, 3}}), tips, ones, t);
  double balanced_total = 0.0;
  double caterpillar_total = 0.0;
  for (int64_t p = 0; p < masks.size(1); ++p) {
    std::vector<int64_t> site;
    for (int k = 0; k < 4; ++k) site.push_back(masks[k][p].item<int64_t>());
    const double expected_balanced = std::log(BalancedBruteForce(site, t));
    const double expected_caterpillar =
        std::log(CaterpillarBruteForce(site, t));
    EXPECT_NEAR(balanced[p].item<double>(), expected_balanced, 1e-12);
    EXPECT_NEAR(caterpillar[p].item<double>(), expected_caterpillar, 1e-12);
    balanced_total += expected_balanced;
    caterpillar_total += expected_caterpillar;
  }
  EXPECT_NEAR(batched[0].item<double>(), balanced_total, 1e-10);
  EXPECT_NEAR(batched[1].item<double>(), caterpillar_total, 1e-10);
  // An all-unknown site has likelihood 1.
  at::Tensor unknown = Jc69SiteLogLikelihoods(
      {{0, 1}, {2, 3}, {4, 5}}, lengths,
      TipPartials(torch::full({4, 1}, 15, torch::kInt64)));
  EXPECT_NEAR(unknown[0].item<double>(), 0.0, 1e-12);
}

TEST(LikelihoodTest, ChildOrderDoesNotMatter) {
  auto alignment = ReadAlignment(kPrimates);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  SitePatterns patterns = CompressSites(alignment->states.narrow(0, 0, 5));
  at::Tensor tips = TipPartials(patterns.masks);
  // ((0,1),((2,3),4)) with children swapped and sibling subtrees listed in
  // another order.
  at::Tensor one = Jc69LogLikelihoods(torch::tensor({{0, 2, 6, 5}}),
                                      torch::tensor({{1, 3, 4, 7}}), tips,
                                      patterns.weights, 0.1);
  at::Tensor two = Jc69LogLikelihoods(torch::tensor({{3, 4, 1, 6}}),
                                      torch::tensor({{2, 5, 0, 7}}), tips,
                                      patterns.weights, 0.1);
  EXPECT_NEAR(one.item<double>(), two.item<double>(), 1e-9);
}

TEST(LikelihoodTest, ReRootingAReversibleModelKeepsTheLikelihood) {
  // The unrooted tree 0,1 | 2,3 with leaf edges 0.1, 0.2, 0.3, 0.4 and an
  // internal edge t = 0.25, rooted at three places.
  const double t = 0.25;
  at::Tensor tips = TipPartials(FourTaxonSites());
  // Root on the internal edge, split (t/2, t/2): 4 = (0,1), 5 = (2,3).
  at::Tensor half = Jc69SiteLogLikelihoods(
      {{0, 1}, {2, 3}, {4, 5}}, {0.1, 0.2, 0.3, 0.4, t / 2, t / 2, 0.0}, tips);
  // Same edge, split (t/4, 3t/4).
  at::Tensor quarter =
      Jc69SiteLogLikelihoods({{0, 1}, {2, 3}, {4, 5}},
                             {0.1, 0.2, 0.3, 0.4, t / 4, 3 * t / 4, 0.0}, tips);
  // Root on leaf 0's edge (0.03 + 0.07): 4 = (2,3), 5 = (1,4), root (0,5).
  at::Tensor leaf_edge = Jc69SiteLogLikelihoods(
      {{2, 3}, {1, 4}, {0, 5}}, {0.03, 0.2, 0.3, 0.4, t, 0.07, 0.0}, tips);
  EXPECT_TRUE(torch::allclose(half, quarter, 0.0, 1e-12));
  EXPECT_TRUE(torch::allclose(half, leaf_edge, 0.0, 1e-12));
  // A different topology gives a different likelihood (the test can fail).
  at::Tensor other = Jc69SiteLogLikelihoods(
      {{0, 2}, {1, 3}, {4, 5}}, {0.1, 0.2, 0.3, 0.4, t / 2, t / 2, 0.0}, tips);
  EXPECT_FALSE(torch::allclose(half, other, 0.0, 1e-6));
}

TEST(LikelihoodTest, CompressedPatternsKeepTheTotal) {
  auto alignment = ReadAlignment(kPrimates);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  at::Tensor masks = alignment->states.narrow(0, 0, 4);
  SitePatterns patterns = CompressSites(masks);
  EXPECT_LT(patterns.masks.size(1), 898);
  EXPECT_EQ(patterns.weights.sum().item<double>(), 898.0);
  const std::vector<double> lengths(7, 0.1);
  const double full = Jc69SiteLogLikelihoods({{0, 1}, {2, 3}, {4, 5}}, lengths,
                                             TipPartials(masks))
                          .sum()
                          .item<double>();
  const double compressed =
      (Jc69SiteLogLikelihoods({{0, 1}, {2, 3}, {4, 5}}, lengths,
                              TipPartials(patterns.masks)) *
       patterns.weights)
          .sum()
          .item<double>();
  EXPECT_NEAR(full, compressed, 1e-8 * std::abs(full));
}

TEST(LikelihoodTest, FitchCountsChanges) {
  // Sites (A,A,C,C), (A,C,A,C), (A,C,G,T), (A,N,C,C).
  at::Tensor masks = torch::tensor(
      {{1, 1, 1, 1}, {1, 2, 2, 15}, {2, 1, 4, 2}, {2, 2, 8, 2}}, torch::kInt64);
  at::Tensor ones = torch::ones({4}, torch::kFloat64);
  // ((0,1),(2,3)): 1 + 2 + 3 + 1; ((0,2),(1,3)): 2 + 1 + 3 + 1.
  at::Tensor scores =
      FitchScores(torch::tensor({{0, 2, 4}, {0, 1, 4}}),
                  torch::tensor({{1, 3, 5}, {2, 3, 5}}), masks, ones);
  EXPECT_EQ(scores[0].item<double>(), 7.0);
  EXPECT_EQ(scores[1].item<double>(), 7.0);
  at::Tensor per_site = torch::eye(4, torch::kFloat64);
  for (int p = 0; p < 4; ++p) {
    at::Tensor s =
        FitchScores(torch::tensor({{0, 2, 4}, {0, 1, 4}}),
                    torch::tensor({{1, 3, 5}, {2, 3, 5}}), masks, per_site[p]);
    const std::vector<double> expected_balanced = {1, 2, 3, 1};
    const std::vector<double> expected_other = {2, 1, 3, 1};
    EXPECT_EQ(s[0].item<double>(), expected_balanced[p]) << "site " << p;
    EXPECT_EQ(s[1].item<double>(), expected_other[p]) << "site " << p;
  }
}

// The first `taxa` taxa of primates.nex, by name (the environment holds
// names only).
std::unique_ptr<PhyloEnvironment> PrimatesEnvironment(int taxa) {
  Alignment alignment = *ReadAlignment(kPrimates);
  std::string names;
  for (int k = 0; k < taxa; ++k) {
    names += (k == 0 ? "" : ";") + alignment.taxa[k];
  }
  auto environment = PhyloEnvironment::Create(
      *EnvironmentConfig::Parse("phylo:taxa=" + names));
  EXPECT_TRUE(environment.ok()) << environment.status();
  return std::move(environment).value();
}

// The double-precision data term of reward `text` (given the client's own
// file primates.nex).
at::Tensor LogLikelihood(const PhyloEnvironment& environment,
                         const std::string& text, const at::Tensor& states) {
  const std::string kind = text.substr(0, text.find(':'));
  const std::string rest = text.find(':') == std::string::npos
                               ? ""
                               : "," + text.substr(text.find(':') + 1);
  auto reward = MakePhyloReward(
      environment,
      *RewardConfig::Parse(kind + ":alignment=" + kPrimates + rest));
  EXPECT_TRUE(reward.ok()) << reward.status();
  return reward->log_likelihood->LogRewardFloat64(states);
}

TEST(LikelihoodTest, ClientSitePartsSumToTheFullLikelihood) {
  auto environment = PrimatesEnvironment(5);
  at::Tensor trees = *environment->EnumerateTerminalStates();
  ASSERT_EQ(trees.size(0), 105);
  for (const std::string kind : {"jc69", "parsimony"}) {
    at::Tensor full = LogLikelihood(*environment, kind, trees);
    for (const std::string split : {"contiguous", "random"}) {
      at::Tensor sum = torch::zeros_like(full);
      for (int index = 0; index < 3; ++index) {
        sum += LogLikelihood(*environment,
                             kind + ":count=3,split=" + split +
                                 ",seed=4,index=" + std::to_string(index),
                             trees);
      }
      EXPECT_TRUE(torch::allclose(sum, full, 1e-12, 1e-8))
          << kind << " " << split << ": max difference "
          << (sum - full).abs().max().item<double>();
    }
  }
  // Against the reference pruning of one tree, in double.
  Alignment alignment = *ReadAlignment(kPrimates);
  at::Tensor tips = TipPartials(alignment.states.narrow(0, 0, 5));
  const double log_l = Jc69SiteLogLikelihoods({{0, 1}, {3, 4}, {2, 6}, {5, 7}},
                                              std::vector<double>(9, 0.1), tips)
                           .sum()
                           .item<double>();
  // The state for ((0,1),(2,(3,4))): clades {0..4}, {2,3,4}, {3,4}, {0,1}.
  at::Tensor state = torch::tensor({{31, 28, 24, 3}}, torch::kInt64);
  EXPECT_NEAR(LogLikelihood(*environment, "jc69", state).item<double>(), log_l,
              1e-9);
}

TEST(LikelihoodTest, PlainLoopKernelGivesTheDefaultKernelsValues) {
  auto environment = PrimatesEnvironment(5);
  at::Tensor trees = *environment->EnumerateTerminalStates();
  for (const std::string rest : {"", ",count=3,index=1,compress=0"}) {
    at::Tensor tensor =
        LogLikelihood(*environment, "jc69:branch_length=0.2" + rest, trees);
    at::Tensor loops = LogLikelihood(
        *environment, "jc69:branch_length=0.2,kernel=loops" + rest, trees);
    EXPECT_TRUE(torch::allclose(loops, tensor, 1e-9, 0.0))
        << rest << ": max difference "
        << (loops - tensor).abs().max().item<double>();
    // The trees' values differ, so agreement is not that of a constant.
    EXPECT_GT((tensor - tensor.mean()).abs().max().item<double>(), 1.0);
  }
  // The option is taken, not ignored.
  auto loops = MakePhyloReward(
      *environment, *RewardConfig::Parse(std::string("jc69:alignment=") +
                                         kPrimates + ",kernel=loops"));
  ASSERT_TRUE(loops.ok()) << loops.status();
  EXPECT_NE(loops->log_likelihood->Describe().find("plain-loop kernel"),
            std::string::npos);
  auto bad = MakePhyloReward(
      *environment, *RewardConfig::Parse(std::string("jc69:alignment=") +
                                         kPrimates + ",kernel=beagle"));
  EXPECT_FALSE(bad.ok());
  auto parsimony = MakePhyloReward(
      *environment, *RewardConfig::Parse(std::string("parsimony:alignment=") +
                                         kPrimates + ",kernel=loops"));
  EXPECT_FALSE(parsimony.ok());
}

TEST(LikelihoodTest, RewardPrefersTheKnownPrimateClade) {
  // Homo, Pan, Gorilla and the more distant Tarsius: the tree joining Homo
  // with Pan first must beat the ones joining Homo with Gorilla or Tarsius.
  auto environment = PhyloEnvironment::Create(*EnvironmentConfig::Parse(
      "phylo:taxa=Homo_sapiens;Pan;Gorilla;Tarsius_syrichta"));
  ASSERT_TRUE(environment.ok()) << environment.status();
  // (((H,P),G),T), (((H,G),P),T), (((H,T),P),G).
  at::Tensor trees =
      torch::tensor({{15, 7, 3}, {15, 7, 5}, {15, 11, 9}}, torch::kInt64);
  at::Tensor log_r = LogLikelihood(**environment, "jc69", trees);
  EXPECT_GT(log_r[0].item<double>(), log_r[1].item<double>());
  EXPECT_GT(log_r[1].item<double>(), log_r[2].item<double>());
  at::Tensor parsimony = LogLikelihood(**environment, "parsimony", trees);
  EXPECT_GT(parsimony[0].item<double>(), parsimony[2].item<double>());
}

}  // namespace
}  // namespace epgfn
