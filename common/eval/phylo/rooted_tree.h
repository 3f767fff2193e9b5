#ifndef EPGFN_COMMON_EVAL_PHYLO_ROOTED_TREE_H_
#define EPGFN_COMMON_EVAL_PHYLO_ROOTED_TREE_H_

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace epgfn {

// A clade as a leaf bitmask: bit k = taxon k. Unsigned 64 bits, so the
// trees of this folder hold up to 64 taxa whatever mask type the phylo
// environment uses (the conversion lives in tree_state.h only).
using Clade = uint64_t;

inline int CladeSize(Clade clade) { return __builtin_popcountll(clade); }
inline int LowestTaxon(Clade clade) { return __builtin_ctzll(clade); }
inline Clade AllTaxa(int num_taxa) {
  return num_taxa == 64 ? ~Clade{0} : (Clade{1} << num_taxa) - 1;
}

// A rooted binary topology on n taxa as a mutable linked structure, for
// MCMC moves. Nodes 0..n-1 are the leaves (node k = taxon k) and n..2n-2
// the internal nodes, whose numbering carries no meaning: two trees are the
// same topology exactly when their Clades() are equal.
class RootedTree {
 public:
  static constexpr int kMaxTaxa = 64;

  // A uniformly random topology: leaf k is attached on the edge above a
  // uniformly chosen one of the 2k - 1 nodes of the tree on leaves 0..k-1,
  // and each topology arises from exactly one sequence of choices.
  static RootedTree Random(int num_taxa, std::mt19937_64& rng);
  // The tree whose internal clades are `clades` (n - 1 of them, in any
  // order, the full set included); InvalidArgument when they do not form
  // a rooted binary tree on the n taxa.
  static absl::StatusOr<RootedTree> FromClades(int num_taxa,
                                               absl::Span<const Clade> clades);

  int num_taxa() const { return n_; }
  int num_nodes() const { return 2 * n_ - 1; }
  int root() const { return root_; }
  int parent(int node) const { return parent_[node]; }  // -1 at the root
  int child(int node, int k) const { return child_[node][k]; }
  bool is_leaf(int node) const { return node < n_; }
  int sibling(int node) const;
  bool InSubtree(int node, int top) const;  // is `node` below or at `top`

  // The clade of every node, indexed by node.
  std::vector<Clade> NodeClades() const;
  // The n - 1 internal clades (the full set included), sorted decreasingly:
  // the topology's canonical form.
  std::vector<Clade> Clades() const;

  // Rooted subtree prune and regraft: cuts the subtree at `node` (not the
  // root) with its parent p out of the tree (p's other child takes p's
  // place) and reinserts p on the edge above `target` (the edge above the
  // root included), with children `target` and `node`. `target` must be
  // neither inside the subtree at `node` nor p; target = node's sibling
  // leaves the topology unchanged.
  void Spr(int node, int target);
  // Rooted nearest-neighbour interchange on the edge above internal node u
  // (not the root): u's child `which` (0 or 1) and u's sibling swap places.
  void Nni(int u, int which);

  // The proposal sets of TreeMcmc, here so that tests can enumerate them:
  // the 2n - 2 non-root nodes (SPR subtrees), increasing;
  std::vector<int> NonRootNodes() const;
  // the nodes an SPR of the subtree at `node` may regraft above: every node
  // of the pruned tree (neither inside the subtree nor its parent) except
  // node's sibling, whose choice would leave the topology unchanged;
  std::vector<int> SprTargets(int node) const;
  // the n - 2 internal non-root nodes (NNI edges), increasing.
  std::vector<int> NniNodes() const;

 private:
  explicit RootedTree(int num_taxa);
  void ReplaceChild(int parent, int old_child, int new_child);

  int n_;
  int root_ = -1;
  std::vector<int> parent_;
  std::vector<std::array<int, 2>> child_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_ROOTED_TREE_H_
