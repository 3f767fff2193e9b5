#ifndef EPGFN_COMMON_EVAL_PHYLO_TREE_STATE_H_
#define EPGFN_COMMON_EVAL_PHYLO_TREE_STATE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/eval/phylo/rooted_tree.h"

namespace epgfn {

// The one place that knows how the phylo environment (common/env/phylo/
// phylo.h) lays out a terminal state: a row of n - 1 int64 values, the
// internal nodes' clade bitmasks (bit k = taxon k) sorted decreasingly.
// Everything else in this folder works on Clade sets, so a change of the
// environment's mask type is absorbed here.

// Writes one tree's internal clades (n - 1 of them) as a raw state row.
void WriteStateRow(absl::Span<const Clade> clades, int64_t* row);
// [B, n - 1] int64 CPU states of B trees given by their clades.
at::Tensor StatesOfTrees(absl::Span<const std::vector<Clade>> trees);
// The clade sets of terminal states [B, n - 1] (any device), each sorted
// decreasingly; InvalidArgument naming the row when one is not a complete
// tree on `num_taxa` taxa.
absl::StatusOr<std::vector<std::vector<Clade>>> TreesOfStates(
    const at::Tensor& states, int num_taxa);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_TREE_STATE_H_
