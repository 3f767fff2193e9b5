// Conversions between the phylo states and trees: Newick, clades and the
// node order of likelihood.h.
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/phylo/newick_reader.h"
#include "common/env/phylo/phylo.h"
#include "common/env/phylo/phylo_clades.h"
#include "common/util/status_macros.h"

namespace epgfn {

using phylo_internal::AllLeaves;
using phylo_internal::Bit;
using phylo_internal::Clade;
using phylo_internal::CpuContiguous;
using phylo_internal::Forest;
using phylo_internal::LowestLeaf;
using phylo_internal::NewickReader;
using phylo_internal::PopCount;

std::string PhyloEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = CpuContiguous(state.to(torch::kInt64)).flatten();
  Forest forest(cpu.data_ptr<int64_t>(), cpu.numel());
  std::function<std::string(Clade)> newick = [&](Clade clade) {
    if (PopCount(clade) == 1) return taxa_[LowestLeaf(clade)];
    const Clade first = forest.FirstChild(clade);
    return absl::StrCat("(", newick(first), ",", newick(clade ^ first), ")");
  };
  std::vector<std::string> trees;
  for (int64_t leaf = 0; leaf < n_; ++leaf) {
    if (forest.IsAnchor(leaf)) {
      trees.push_back(absl::StrCat(newick(forest.RootOf(leaf)), ";"));
    }
  }
  return absl::StrJoin(trees, " ");
}

void PhyloEnvironment::TreeChildren(const at::Tensor& states, at::Tensor* left,
                                    at::Tensor* right) const {
  at::Tensor cpu = CpuContiguous(states);
  const int64_t batch = cpu.size(0);
  *left = torch::empty({batch, n_ - 1}, torch::kInt64);
  *right = torch::empty({batch, n_ - 1}, torch::kInt64);
  const int64_t* in = cpu.data_ptr<int64_t>();
  int64_t* l = left->data_ptr<int64_t>();
  int64_t* rr = right->data_ptr<int64_t>();
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    TORCH_CHECK(static_cast<int64_t>(forest.clades().size()) == n_ - 1,
                "phylo reward of a state that is not a complete tree: ",
                Describe(cpu[r]));
    std::vector<Clade> order = forest.clades();
    std::stable_sort(order.begin(), order.end(), [](Clade x, Clade y) {
      return PopCount(x) < PopCount(y);
    });
    std::unordered_map<Clade, int64_t> node;
    for (int64_t leaf = 0; leaf < n_; ++leaf) node[Bit(leaf)] = leaf;
    for (int64_t j = 0; j < n_ - 1; ++j) {
      const Clade first = forest.FirstChild(order[j]);
      l[r * (n_ - 1) + j] = node.at(first);
      rr[r * (n_ - 1) + j] = node.at(order[j] ^ first);
      node[order[j]] = n_ + j;
    }
  }
}

std::vector<uint64_t> PhyloEnvironment::Clades(const at::Tensor& state) const {
  at::Tensor cpu = CpuContiguous(state.to(torch::kInt64)).flatten();
  Forest forest(cpu.data_ptr<int64_t>(), cpu.numel());
  return forest.clades();
}

absl::StatusOr<at::Tensor> PhyloEnvironment::StateFromClades(
    const std::vector<uint64_t>& clades) const {
  if (static_cast<int64_t>(clades.size()) > n_ - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(clades.size(), " clades, more than the ", n_ - 1,
                     " internal nodes of a tree on ", n_, " taxa"));
  }
  const Clade all = AllLeaves(n_);
  std::set<Clade> seen;
  for (Clade c : clades) {
    if ((c & ~all) != 0 || PopCount(c) < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clade ", c, " is not a set of at least 2 of the ", n_, " taxa"));
    }
    if (!seen.insert(c).second) {
      return absl::InvalidArgumentError(absl::StrCat("clade ", c, " twice"));
    }
  }
  for (Clade c : clades) {
    Clade covered = 0;
    int parts = 0;
    for (Clade d : clades) {
      if (d == c) continue;
      const Clade both = c & d;
      if (both != 0 && both != c && both != d) {
        return absl::InvalidArgumentError(
            absl::StrCat("clades ", c, " and ", d, " overlap without nesting"));
      }
      // d is a child of c when it lies inside c and no other clade lies
      // between them.
      if (both == d) {
        bool maximal = true;
        for (Clade e : clades) {
          if (e != c && e != d && (e & d) == d && (e & c) == e) maximal = false;
        }
        if (maximal) {
          covered |= d;
          ++parts;
        }
      }
    }
    parts += PopCount(c & ~covered);
    if (parts != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clade ", c, " splits into ", parts,
          " parts; every internal node of a rooted binary tree has 2"));
    }
  }
  at::Tensor state = torch::zeros({n_ - 1}, torch::kInt64);
  Forest::WriteCladeRow(clades, state.data_ptr<int64_t>(), n_ - 1);
  return state;
}

absl::StatusOr<at::Tensor> PhyloEnvironment::TerminalStateFromNewick(
    absl::string_view newick) const {
  std::map<std::string, int64_t> leaf_of;
  for (int64_t k = 0; k < n_; ++k) leaf_of[taxa_[k]] = k;
  ASSIGN_OR_RETURN(std::vector<Clade> clades,
                   NewickReader(newick, leaf_of).Read());
  if (static_cast<int64_t>(clades.size()) != n_ - 1 ||
      std::find(clades.begin(), clades.end(), AllLeaves(n_)) == clades.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Newick '", newick, "' is not a tree on all ", n_,
                     " taxa (each exactly once)"));
  }
  return StateFromClades(clades);
}

}  // namespace epgfn
