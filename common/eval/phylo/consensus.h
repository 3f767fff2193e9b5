#ifndef EPGFN_COMMON_EVAL_PHYLO_CONSENSUS_H_
#define EPGFN_COMMON_EVAL_PHYLO_CONSENSUS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/eval/phylo/rooted_tree.h"
#include "common/eval/phylo/splits.h"

namespace epgfn {

// Newick of the rooted tree (any arity) whose non-trivial clades are
// `clades` (nested or disjoint; the full set and single taxa are implied
// and may be given or not), with taxon names. Children are ordered by their
// smallest taxon index, as PhyloEnvironment::Describe does. Where `support`
// holds a clade, its value is written after the closing parenthesis with
// two decimals, e.g. "((A,B)0.97,C);". InvalidArgument when two clades
// overlap without nesting, a clade holds a taxon beyond the names, or the
// names are fewer than 2.
absl::StatusOr<std::string> CladeTreeNewick(
    absl::Span<const Clade> clades, const std::vector<std::string>& names,
    const std::map<Clade, double>* support = nullptr);

// The majority-rule consensus of a set of rooted trees: the clades whose
// frequency exceeds `threshold` (0.5 for majority rule; any two clades each
// in more than half of the trees share a tree, so they are compatible),
// with their frequencies as support. threshold must lie in [0.5, 1).
struct ConsensusTree {
  std::vector<Clade> clades;  // the non-trivial clades kept, decreasing
  std::string newick;         // with support values
};
absl::StatusOr<ConsensusTree> MajorityRuleConsensus(
    const CladeFrequencies& frequencies, const std::vector<std::string>& names,
    double threshold = 0.5);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_CONSENSUS_H_
