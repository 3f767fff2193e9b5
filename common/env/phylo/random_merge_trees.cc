#include "common/env/phylo/random_merge_trees.h"

#include <algorithm>

namespace epgfn {

MergeTrees RandomMergeTrees(int64_t num_taxa, int64_t batch,
                            std::mt19937_64& random) {
  MergeTrees trees;
  trees.left.reserve(batch * (num_taxa - 1));
  trees.right.reserve(batch * (num_taxa - 1));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> roots(num_taxa);
    for (int64_t k = 0; k < num_taxa; ++k) roots[k] = k;
    for (int64_t j = 0; j < num_taxa - 1; ++j) {
      std::shuffle(roots.begin(), roots.end(), random);
      trees.left.push_back(roots[roots.size() - 1]);
      trees.right.push_back(roots[roots.size() - 2]);
      roots.resize(roots.size() - 2);
      roots.push_back(num_taxa + j);
    }
  }
  return trees;
}

}  // namespace epgfn
