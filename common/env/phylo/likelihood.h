#ifndef EPGFN_COMMON_ENV_PHYLO_LIKELIHOOD_H_
#define EPGFN_COMMON_ENV_PHYLO_LIKELIHOOD_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace epgfn {

// Trees for the likelihood code: node k < n is leaf k; node n + j is the
// j-th internal node, listed so that children come before parents; the last
// node (2n - 2) is the root. children[j] are the two children of node n + j.

// Site patterns: identical alignment columns folded together so that the
// likelihood is computed once per distinct column.
struct SitePatterns {
  at::Tensor masks;    // [n, P] int64 4-bit masks (see alignment.h)
  at::Tensor weights;  // [P] float64: how many sites show each pattern
};
// `masks` is [n, S]; the result's weights sum to S.
SitePatterns CompressSites(const at::Tensor& masks);

// [n, P, 4] float64 tip partial likelihoods: 1 for each state a mask allows.
at::Tensor TipPartials(const at::Tensor& masks);

// Reference Felsenstein pruning for one tree with explicit branch lengths
// (branch_lengths[k] is the length of the edge above node k; the root's is
// ignored) under Jukes-Cantor, root distribution uniform. Returns [P]
// float64 per-pattern log-likelihoods. Slow but general: used to check the
// batched code and re-rooting invariance.
at::Tensor Jc69SiteLogLikelihoods(
    const std::vector<std::pair<int64_t, int64_t>>& children,
    const std::vector<double>& branch_lengths, const at::Tensor& tip_partials);

// Batched pruning: every branch of every tree has length `branch_length`.
// left/right: [B, n - 1] int64 node indices of each internal node's
// children (per tree, in the order above). Returns [B] float64
// sum_p weights[p] * log L(pattern p | tree). Work is tensor ops over
// [B, P, 4]; intermediate partials are rescaled per node so that deep trees
// and long alignments do not underflow.
at::Tensor Jc69LogLikelihoods(const at::Tensor& left, const at::Tensor& right,
                              const at::Tensor& tip_partials,
                              const at::Tensor& weights, double branch_length);

// Fitch small-parsimony scores, batched like Jc69LogLikelihoods: [B] float64
// sum_p weights[p] * (minimum number of changes for pattern p).
at::Tensor FitchScores(const at::Tensor& left, const at::Tensor& right,
                       const at::Tensor& masks, const at::Tensor& weights);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_LIKELIHOOD_H_
