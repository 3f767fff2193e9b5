#include "common/eval/phylo/splits.h"

#include <cmath>
#include <vector>

#include "common/eval/phylo/consensus.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using Tree = std::vector<Clade>;
const Tree kBalanced = {15, 12, 3};  // ((a,b),(c,d))
const Tree kCombAB = {15, 7, 3};     // (((a,b),c),d)
const Tree kCombABD = {15, 11, 3};   // (((a,b),d),c)
const std::vector<std::string> kNames = {"a", "b", "c", "d"};

std::vector<Tree> Repeat(const Tree& tree, int times) {
  return std::vector<Tree>(times, tree);
}

// Chain A: 10 balanced, 9 comb, 1 other comb; chain B: 20 comb.
std::vector<Tree> ChainA() {
  std::vector<Tree> trees = Repeat(kBalanced, 10);
  for (const Tree& t : Repeat(kCombAB, 9)) trees.push_back(t);
  trees.push_back(kCombABD);
  return trees;
}

TEST(SplitsTest, CountsNonTrivialClades) {
  const CladeFrequencies a = CountClades(4, ChainA());
  EXPECT_EQ(a.total_weight, 20.0);
  EXPECT_EQ(a.frequency.size(), 4u);  // {a,b} {c,d} {a,b,c} {a,b,d}
  EXPECT_DOUBLE_EQ(a.Of(3), 1.0);
  EXPECT_DOUBLE_EQ(a.Of(12), 0.5);
  EXPECT_DOUBLE_EQ(a.Of(7), 0.45);
  EXPECT_DOUBLE_EQ(a.Of(11), 0.05);
  EXPECT_DOUBLE_EQ(a.Of(15), 0.0);  // the full set is trivial
  const CladeFrequencies b = CountClades(4, Repeat(kCombAB, 20));
  EXPECT_DOUBLE_EQ(MaxAbsCladeDifference(a, b), 0.55);  // {a,b,c}
  EXPECT_DOUBLE_EQ(MaxAbsCladeDifference(b, a), 0.55);
}

TEST(SplitsTest, WeightedFrequenciesAreMarginals) {
  auto f = WeightedCladeFrequencies(4, {kBalanced, kCombAB}, {0.2, 0.6});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_DOUBLE_EQ(f->Of(3), 1.0);
  EXPECT_DOUBLE_EQ(f->Of(12), 0.25);
  EXPECT_DOUBLE_EQ(f->Of(7), 0.75);
  EXPECT_FALSE(WeightedCladeFrequencies(4, {kBalanced}, {0.2, 0.6}).ok());
  EXPECT_FALSE(WeightedCladeFrequencies(4, {kBalanced}, {-1.0}).ok());
  EXPECT_FALSE(WeightedCladeFrequencies(4, {kBalanced}, {0.0}).ok());
}

TEST(SplitsTest, AsdsfByHand) {
  const std::vector<CladeFrequencies> chains = {
      CountClades(4, ChainA()), CountClades(4, Repeat(kCombAB, 20))};
  // Qualifying (>= 0.1 in some chain): {a,b} (1, 1), {c,d} (0.5, 0),
  // {a,b,c} (0.45, 1); {a,b,d} (0.05, 0) is left out. With two chains the
  // sample sd is |f1 - f2| / sqrt(2).
  auto asdsf = AverageSdOfSplitFrequencies(chains, 0.1);
  ASSERT_TRUE(asdsf.ok()) << asdsf.status();
  EXPECT_EQ(asdsf->num_clades, 3);
  EXPECT_NEAR(asdsf->value,
              (0.0 + 0.5 / std::sqrt(2.0) + 0.55 / std::sqrt(2.0)) / 3.0,
              1e-12);
  EXPECT_NEAR(asdsf->max_sd, 0.55 / std::sqrt(2.0), 1e-12);
  // A lower threshold lets {a,b,d} in.
  auto low = AverageSdOfSplitFrequencies(chains, 0.01);
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(low->num_clades, 4);
  // Three chains: all balanced, all comb, and 1 balanced + 3 comb.
  std::vector<Tree> half = Repeat(kBalanced, 1);
  for (const Tree& t : Repeat(kCombAB, 3)) half.push_back(t);
  const std::vector<CladeFrequencies> three = {
      CountClades(4, Repeat(kBalanced, 2)), CountClades(4, Repeat(kCombAB, 2)),
      CountClades(4, half)};
  // {c,d}: 1, 0, 0.25; {a,b,c}: 0, 1, 0.75; {a,b}: 1, 1, 1.
  auto sd = [](std::vector<double> f) {
    const double mean = (f[0] + f[1] + f[2]) / 3.0;
    double s = 0.0;
    for (double x : f) s += (x - mean) * (x - mean);
    return std::sqrt(s / 2.0);
  };
  auto asdsf3 = AverageSdOfSplitFrequencies(three, 0.1);
  ASSERT_TRUE(asdsf3.ok());
  EXPECT_EQ(asdsf3->num_clades, 3);
  EXPECT_NEAR(asdsf3->value, (sd({1, 0, 0.25}) + sd({0, 1, 0.75}) + 0.0) / 3.0,
              1e-12);
  // Identical chains: 0. One chain: refused.
  auto same = AverageSdOfSplitFrequencies({chains[1], chains[1]}, 0.1);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->value, 0.0);
  EXPECT_FALSE(AverageSdOfSplitFrequencies({chains[0]}, 0.1).ok());
}

TEST(ConsensusTest, NewickOfCladeTrees) {
  auto balanced = CladeTreeNewick(kBalanced, kNames);
  ASSERT_TRUE(balanced.ok()) << balanced.status();
  EXPECT_EQ(*balanced, "((a,b),(c,d));");
  // Children by smallest taxon; a star and a partly resolved tree.
  EXPECT_EQ(*CladeTreeNewick({}, kNames), "(a,b,c,d);");
  EXPECT_EQ(*CladeTreeNewick({10}, kNames), "(a,(b,d),c);");
  const std::map<Clade, double> support = {{3, 0.904}, {7, 0.6}};
  EXPECT_EQ(*CladeTreeNewick(kCombAB, kNames, &support),
            "(((a,b)0.90,c)0.60,d);");
  EXPECT_FALSE(CladeTreeNewick({3, 6}, kNames).ok());  // overlap
  EXPECT_FALSE(CladeTreeNewick({17}, kNames).ok());    // a fifth taxon
}

TEST(ConsensusTest, MajorityRuleKeepsCladesAboveHalf) {
  // Chain A: {a,b} in all, {c,d} in exactly half (not more), {a,b,c} 0.45.
  auto consensus = MajorityRuleConsensus(CountClades(4, ChainA()), kNames);
  ASSERT_TRUE(consensus.ok()) << consensus.status();
  EXPECT_EQ(consensus->clades, (Tree{3}));
  EXPECT_EQ(consensus->newick, "((a,b)1.00,c,d);");
  std::vector<Tree> mostly_comb = Repeat(kCombAB, 7);
  for (const Tree& t : Repeat(kBalanced, 3)) mostly_comb.push_back(t);
  auto comb = MajorityRuleConsensus(CountClades(4, mostly_comb), kNames);
  ASSERT_TRUE(comb.ok());
  EXPECT_EQ(comb->newick, "(((a,b)1.00,c)0.70,d);");
  EXPECT_FALSE(
      MajorityRuleConsensus(CountClades(4, ChainA()), kNames, 0.4).ok());
  EXPECT_FALSE(
      MajorityRuleConsensus(CountClades(4, ChainA()), {"a", "b"}).ok());
}

}  // namespace
}  // namespace epgfn
