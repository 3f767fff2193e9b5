#ifndef EPGFN_COMMON_EVAL_PHYLO_SPLITS_H_
#define EPGFN_COMMON_EVAL_PHYLO_SPLITS_H_

#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/eval/phylo/rooted_tree.h"

namespace epgfn {

// Clade (rooted split) frequencies of a set of rooted trees, each tree given
// by its internal clades (RootedTree::Clades() or TreesOfStates()). The
// targets here are distributions over ROOTED topologies, so the features
// are clades rather than the unrooted bipartitions MrBayes counts; trivial
// clades (single taxa, the full set) are in every tree and left out.
struct CladeFrequencies {
  int num_taxa = 0;
  double total_weight = 0.0;  // number of trees, or the summed weights
  // Every non-trivial clade seen, with its (weighted) frequency in [0, 1].
  std::map<Clade, double> frequency;

  double Of(Clade clade) const {
    auto it = frequency.find(clade);
    return it == frequency.end() ? 0.0 : it->second;
  }
};

// Frequencies of the clades among `trees` (each counts once).
CladeFrequencies CountClades(int num_taxa,
                             absl::Span<const std::vector<Clade>> trees);
// Weighted: frequency(c) = sum of the weights of the trees holding c over
// the total weight. With the exact probabilities of every tree this gives the
// exact clade marginals. InvalidArgument on mismatched sizes or negative or
// all-zero weights.
absl::StatusOr<CladeFrequencies> WeightedCladeFrequencies(
    int num_taxa, absl::Span<const std::vector<Clade>> trees,
    absl::Span<const double> weights);

// max over clades of |a(c) - b(c)| (a clade missing on one side counts 0).
double MaxAbsCladeDifference(const CladeFrequencies& a,
                             const CladeFrequencies& b);

// The average standard deviation of split frequencies, as MrBayes computes
// it (mcmc.c, CalcTopoConvDiagn): over the clades whose frequency is at
// least `min_frequency` (MrBayes' minpartfreq, 0.1) in at least one chain,
// the mean of the clades' sample standard deviation across chains,
// sqrt(sum_k (f_k - mean)^2 / (C - 1)), where f_k is the clade's frequency
// in chain k (0 where the chain never sampled it). 0 when no clade
// qualifies (e.g. every chain sampled one and the same tree).
struct Asdsf {
  double value = 0.0;
  int64_t num_clades = 0;  // clades that entered the average
  double max_sd = 0.0;     // the largest of their standard deviations
};
absl::StatusOr<Asdsf> AverageSdOfSplitFrequencies(
    absl::Span<const CladeFrequencies> chains, double min_frequency = 0.1);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_SPLITS_H_
