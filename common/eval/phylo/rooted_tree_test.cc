#include "common/eval/phylo/rooted_tree.h"

#include <torch/types.h>

#include <map>
#include <queue>
#include <set>

#include "common/env/phylo/phylo.h"
#include "common/eval/phylo/tree_state.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using Tree = std::vector<Clade>;

std::vector<Tree> EnumeratedTrees(int n, at::Tensor* states = nullptr) {
  auto config = EnvironmentConfig::Parse("phylo:num_taxa=" + std::to_string(n));
  auto phylo = PhyloEnvironment::Create(*config);
  EXPECT_TRUE(phylo.ok()) << phylo.status();
  auto enumerated = (*phylo)->EnumerateTerminalStates();
  EXPECT_TRUE(enumerated.ok()) << enumerated.status();
  if (states != nullptr) *states = *enumerated;
  auto trees = TreesOfStates(*enumerated, n);
  EXPECT_TRUE(trees.ok()) << trees.status();
  return *trees;
}

TEST(RootedTreeTest, FromCladesRoundTripsAndRefusesNonTrees) {
  // ((0,1),(2,3)) and (((0,1),2),3).
  auto balanced = RootedTree::FromClades(4, {15, 3, 12});
  ASSERT_TRUE(balanced.ok()) << balanced.status();
  EXPECT_EQ(balanced->Clades(), (Tree{15, 12, 3}));
  EXPECT_EQ(balanced->sibling(0), 1);
  auto caterpillar = RootedTree::FromClades(4, {7, 15, 3});
  ASSERT_TRUE(caterpillar.ok());
  EXPECT_EQ(caterpillar->Clades(), (Tree{15, 7, 3}));
  EXPECT_FALSE(RootedTree::FromClades(4, {15, 3}).ok());      // too few
  EXPECT_FALSE(RootedTree::FromClades(4, {7, 3, 6}).ok());    // no root
  EXPECT_FALSE(RootedTree::FromClades(4, {15, 3, 6}).ok());   // overlap
  EXPECT_FALSE(RootedTree::FromClades(4, {15, 3, 3}).ok());   // twice
  EXPECT_FALSE(RootedTree::FromClades(4, {15, 3, 16}).ok());  // taxon 4
  EXPECT_FALSE(RootedTree::FromClades(4, {15, 3, 1}).ok());   // a leaf
  // 64 taxa: the full set is all 64 bits.
  std::vector<Clade> comb;
  for (int k = 1; k < 64; ++k) comb.push_back(AllTaxa(k + 1));
  auto wide = RootedTree::FromClades(64, comb);
  ASSERT_TRUE(wide.ok()) << wide.status();
  EXPECT_EQ(wide->Clades().front(), ~Clade{0});
}

TEST(RootedTreeTest, MovesChangeTheExpectedClades) {
  // (((0,1),2),3): SPR of leaf 2 onto the edge above leaf 3 gives
  // ((0,1),(2,3)); above the root gives (((0,1),3),2).
  auto tree = RootedTree::FromClades(4, {15, 7, 3});
  ASSERT_TRUE(tree.ok());
  RootedTree spr = *tree;
  spr.Spr(2, 3);
  EXPECT_EQ(spr.Clades(), (Tree{15, 12, 3}));
  RootedTree to_root = *tree;
  to_root.Spr(2, to_root.root());
  EXPECT_EQ(to_root.Clades(), (Tree{15, 11, 3}));
  // NNI on the edge above {0,1}: its child 0 swaps with its sibling 2.
  RootedTree nni = *tree;
  const int u = nni.parent(0);
  nni.Nni(u, nni.child(u, 0) == 0 ? 0 : 1);
  EXPECT_EQ(nni.Clades(), (Tree{15, 7, 6}));
  // The sibling is never a target and nothing inside the subtree is.
  const std::vector<int> targets = tree->SprTargets(tree->parent(0));
  // Leaf 2 is the sibling: the root edge and leaf 3 remain.
  EXPECT_EQ(targets, (std::vector<int>{3, tree->root()}));
}

TEST(RootedTreeTest, RandomTreesAreUniform) {
  std::mt19937_64 rng(11);
  std::map<Tree, int> counts;
  constexpr int kDraws = 30000;
  for (int i = 0; i < kDraws; ++i)
    ++counts[RootedTree::Random(4, rng).Clades()];
  ASSERT_EQ(counts.size(), 15u);
  for (const auto& [tree, count] : counts) {
    // Expected 2000, sd about 43.
    EXPECT_NEAR(count, kDraws / 15, 200);
  }
}

TEST(RootedTreeTest, StateRowsAreThePhyloEnvironmentsStates) {
  at::Tensor states;
  const std::vector<Tree> trees = EnumeratedTrees(6, &states);
  ASSERT_EQ(trees.size(), 945u);
  std::vector<Tree> rebuilt;
  for (const Tree& clades : trees) {
    auto tree = RootedTree::FromClades(6, clades);
    ASSERT_TRUE(tree.ok()) << tree.status();
    rebuilt.push_back(tree->Clades());
  }
  EXPECT_TRUE(StatesOfTrees(rebuilt).equal(states));
  // A state that is not a complete tree is refused.
  EXPECT_FALSE(
      TreesOfStates(torch::tensor({{3, 0, 0}}, torch::kInt64), 4).ok());
  EXPECT_FALSE(
      TreesOfStates(torch::tensor({{7, 3, 0}}, torch::kInt64), 4).ok());
}

// The exact proposal kernels q(T -> T') of TreeMcmc on every 6-taxon tree,
// enumerated from the same choice sets the sampler draws from.
std::map<std::pair<Tree, Tree>, double> Kernel(const std::vector<Tree>& trees,
                                               bool nni) {
  std::map<std::pair<Tree, Tree>, double> q;
  for (const Tree& clades : trees) {
    const RootedTree tree = *RootedTree::FromClades(6, clades);
    if (nni) {
      const std::vector<int> nodes = tree.NniNodes();
      for (int u : nodes) {
        for (int which : {0, 1}) {
          RootedTree next = tree;
          next.Nni(u, which);
          q[{clades, next.Clades()}] += 1.0 / (2.0 * nodes.size());
        }
      }
      continue;
    }
    const std::vector<int> subtrees = tree.NonRootNodes();
    for (int x : subtrees) {
      const std::vector<int> targets = tree.SprTargets(x);
      if (targets.empty()) {
        q[{clades, clades}] += 1.0 / subtrees.size();
        continue;
      }
      for (int y : targets) {
        RootedTree next = tree;
        next.Spr(x, y);
        q[{clades, next.Clades()}] +=
            1.0 / (static_cast<double>(subtrees.size()) * targets.size());
      }
    }
  }
  return q;
}

TEST(RootedTreeTest, NniAndSprKernelsAreSymmetricAndIrreducible) {
  const std::vector<Tree> trees = EnumeratedTrees(6);
  for (bool nni : {true, false}) {
    SCOPED_TRACE(nni ? "NNI" : "SPR");
    const auto q = Kernel(trees, nni);
    std::map<Tree, double> out_mass;
    std::map<Tree, std::set<Tree>> neighbours;
    for (const auto& [move, p] : q) {
      out_mass[move.first] += p;
      neighbours[move.first].insert(move.second);
      auto reverse = q.find({move.second, move.first});
      ASSERT_NE(reverse, q.end());
      EXPECT_NEAR(reverse->second, p, 1e-12);  // Hastings ratio 1
    }
    for (const auto& [tree, mass] : out_mass) EXPECT_NEAR(mass, 1.0, 1e-12);
    // Every topology is reachable from the first.
    std::set<Tree> seen = {trees[0]};
    std::queue<Tree> frontier;
    frontier.push(trees[0]);
    while (!frontier.empty()) {
      for (const Tree& next : neighbours[frontier.front()]) {
        if (seen.insert(next).second) frontier.push(next);
      }
      frontier.pop();
    }
    EXPECT_EQ(seen.size(), 945u);
    // A rooted NNI changes exactly one clade; SPR reaches further.
    if (nni) {
      EXPECT_EQ(neighbours[trees[0]].size(), 2u * 4u);
    }
  }
}

}  // namespace
}  // namespace epgfn
