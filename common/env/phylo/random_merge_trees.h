#ifndef EPGFN_COMMON_ENV_PHYLO_RANDOM_MERGE_TREES_H_
#define EPGFN_COMMON_ENV_PHYLO_RANDOM_MERGE_TREES_H_

#include <cstdint>
#include <random>
#include <vector>

namespace epgfn {

// Rooted topologies in likelihood.h's node order, for the likelihood
// kernels' tests and benchmarks: tree b's internal node n + j joins
// left[b * (n - 1) + j] and right[b * (n - 1) + j]. Each tree repeatedly
// merges two random current roots (not uniform over topologies, which the
// kernels do not need).
struct MergeTrees {
  std::vector<int64_t> left;
  std::vector<int64_t> right;
};

MergeTrees RandomMergeTrees(int64_t num_taxa, int64_t batch,
                            std::mt19937_64& random);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_RANDOM_MERGE_TREES_H_
