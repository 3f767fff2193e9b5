#include "common/eval/phylo/rooted_tree.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"

namespace epgfn {

RootedTree::RootedTree(int num_taxa)
    : n_(num_taxa),
      parent_(2 * num_taxa - 1, -1),
      child_(2 * num_taxa - 1, {-1, -1}) {}

RootedTree RootedTree::Random(int num_taxa, std::mt19937_64& rng) {
  RootedTree tree(num_taxa);
  tree.root_ = 0;
  // Internal node n + k - 1 is created when leaf k is attached.
  for (int k = 1; k < num_taxa; ++k) {
    // The tree so far holds leaves 0..k-1 and internal nodes n..n+k-2.
    const int nodes = 2 * k - 1;
    const int pick =
        static_cast<int>(std::uniform_int_distribution<int>(0, nodes - 1)(rng));
    const int target = pick < k ? pick : num_taxa + (pick - k);
    const int p = num_taxa + k - 1;
    tree.parent_[k] = p;
    tree.child_[p] = {target, k};
    const int above = tree.parent_[target];
    tree.parent_[p] = above;
    if (above == -1) {
      tree.root_ = p;
    } else {
      tree.ReplaceChild(above, target, p);
    }
    tree.parent_[target] = p;
  }
  return tree;
}

absl::StatusOr<RootedTree> RootedTree::FromClades(
    int num_taxa, absl::Span<const Clade> clades) {
  if (num_taxa < 2 || num_taxa > kMaxTaxa) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a rooted tree needs 2 to ", kMaxTaxa, " taxa, got ", num_taxa));
  }
  const Clade all = AllTaxa(num_taxa);
  std::vector<Clade> sorted(clades.begin(), clades.end());
  std::sort(sorted.begin(), sorted.end(), [](Clade a, Clade b) {
    return CladeSize(a) != CladeSize(b) ? CladeSize(a) < CladeSize(b) : a < b;
  });
  if (static_cast<int>(sorted.size()) != num_taxa - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a rooted binary tree on ", num_taxa, " taxa has ",
                     num_taxa - 1, " internal clades, got ", sorted.size()));
  }
  if (sorted.back() != all) {
    return absl::InvalidArgumentError(
        absl::StrCat("the clades lack the full set of ", num_taxa, " taxa"));
  }
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Clade c = sorted[i];
    if ((c & ~all) != 0 || CladeSize(c) < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("clade ", c, " is not a set of 2 or more of the ",
                       num_taxa, " taxa"));
    }
    if (i > 0 && sorted[i - 1] == c) {
      return absl::InvalidArgumentError(absl::StrCat("clade ", c, " twice"));
    }
    for (size_t j = 0; j < i; ++j) {
      const Clade d = sorted[j];
      if ((c & d) != 0 && (c & d) != d) {
        return absl::InvalidArgumentError(
            absl::StrCat("clades ", d, " and ", c, " overlap without nesting"));
      }
    }
  }
  // n - 1 distinct nested-or-disjoint clades of size >= 2 with the full set
  // make a tree in which every internal node has >= 2 children; having
  // n - 1 of them forces exactly 2.
  RootedTree tree(num_taxa);
  std::vector<Clade> node_clade(2 * num_taxa - 1);
  for (int k = 0; k < num_taxa; ++k) node_clade[k] = Clade{1} << k;
  for (int j = 0; j < num_taxa - 1; ++j) node_clade[num_taxa + j] = sorted[j];
  for (int v = 0; v < 2 * num_taxa - 2; ++v) {
    // The parent is the smallest clade strictly holding this one; internal
    // nodes are ordered by size, so it is the first such one after v.
    int p = std::max(v + 1, num_taxa);
    while ((node_clade[p] & node_clade[v]) != node_clade[v]) ++p;
    tree.parent_[v] = p;
    std::array<int, 2>& kids = tree.child_[p];
    if (kids[0] == -1) {
      kids[0] = v;
    } else if (kids[1] == -1) {
      kids[1] = v;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("clade ", node_clade[p], " has more than 2 children"));
    }
  }
  tree.root_ = 2 * num_taxa - 2;
  return tree;
}

int RootedTree::sibling(int node) const {
  const int p = parent_[node];
  return child_[p][0] == node ? child_[p][1] : child_[p][0];
}

bool RootedTree::InSubtree(int node, int top) const {
  for (int v = node; v != -1; v = parent_[v]) {
    if (v == top) return true;
  }
  return false;
}

std::vector<Clade> RootedTree::NodeClades() const {
  std::vector<Clade> clade(num_nodes(), 0);
  std::function<Clade(int)> visit = [&](int v) -> Clade {
    if (is_leaf(v)) return clade[v] = Clade{1} << v;
    return clade[v] = visit(child_[v][0]) | visit(child_[v][1]);
  };
  visit(root_);
  return clade;
}

std::vector<Clade> RootedTree::Clades() const {
  const std::vector<Clade> all = NodeClades();
  std::vector<Clade> internal(all.begin() + n_, all.end());
  std::sort(internal.begin(), internal.end(), std::greater<Clade>());
  return internal;
}

void RootedTree::ReplaceChild(int parent, int old_child, int new_child) {
  std::array<int, 2>& kids = child_[parent];
  (kids[0] == old_child ? kids[0] : kids[1]) = new_child;
}

void RootedTree::Spr(int node, int target) {
  const int p = parent_[node];
  const int s = sibling(node);
  const int g = parent_[p];
  // Prune: s takes p's place.
  parent_[s] = g;
  if (g == -1) {
    root_ = s;
  } else {
    ReplaceChild(g, p, s);
  }
  // Regraft p on the edge above target.
  const int above = parent_[target];
  parent_[p] = above;
  if (above == -1) {
    root_ = p;
  } else {
    ReplaceChild(above, target, p);
  }
  parent_[target] = p;
  child_[p] = {target, node};
}

void RootedTree::Nni(int u, int which) {
  const int p = parent_[u];
  const int c = sibling(u);
  const int a = child_[u][which];
  child_[u][which] = c;
  parent_[c] = u;
  ReplaceChild(p, c, a);
  parent_[a] = p;
}

std::vector<int> RootedTree::NonRootNodes() const {
  std::vector<int> nodes;
  for (int v = 0; v < num_nodes(); ++v) {
    if (v != root_) nodes.push_back(v);
  }
  return nodes;
}

std::vector<int> RootedTree::SprTargets(int node) const {
  const int p = parent_[node];
  const int s = sibling(node);
  std::vector<int> targets;
  for (int v = 0; v < num_nodes(); ++v) {
    if (v != p && v != s && !InSubtree(v, node)) targets.push_back(v);
  }
  return targets;
}

std::vector<int> RootedTree::NniNodes() const {
  std::vector<int> nodes;
  for (int v = n_; v < num_nodes(); ++v) {
    if (v != root_) nodes.push_back(v);
  }
  return nodes;
}

}  // namespace epgfn
