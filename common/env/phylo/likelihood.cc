#include "common/env/phylo/likelihood.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>

namespace epgfn {
namespace {

// JC69 transition probabilities for a branch of length t (expected
// substitutions per site): P(same) and P(a given different state).
std::pair<double, double> Jc69Probabilities(double t) {
  const double decay = std::exp(-4.0 * t / 3.0);
  return {0.25 + 0.75 * decay, 0.25 - 0.25 * decay};
}

// P(t) applied to partials [..., 4]: because P is p_diff everywhere plus
// (p_same - p_diff) on the diagonal, P x = p_diff * sum(x) + (p_same -
// p_diff) * x, which avoids a matmul per node.
at::Tensor Jc69Propagate(const at::Tensor& partials, double t) {
  const auto [same, diff] = Jc69Probabilities(t);
  return partials.sum(-1, /*keepdim=*/true) * diff + partials * (same - diff);
}

}  // namespace

SitePatterns CompressSites(const at::Tensor& masks) {
  auto [unique, inverse, counts] =
      at::unique_dim(masks.t().contiguous(), 0, /*sorted=*/true,
                     /*return_inverse=*/false, /*return_counts=*/true);
  return SitePatterns{unique.t().contiguous(), counts.to(torch::kFloat64)};
}

at::Tensor TipPartials(const at::Tensor& masks) {
  at::Tensor bits = torch::tensor({1, 2, 4, 8}, masks.options());
  return (masks.unsqueeze(-1).bitwise_and(bits) != 0).to(torch::kFloat64);
}

at::Tensor Jc69SiteLogLikelihoods(
    const std::vector<std::pair<int64_t, int64_t>>& children,
    const std::vector<double>& branch_lengths, const at::Tensor& tip_partials) {
  const int64_t n = tip_partials.size(0);
  std::vector<at::Tensor> partials;
  for (int64_t k = 0; k < n; ++k) partials.push_back(tip_partials[k]);
  at::Tensor log_scale = torch::zeros({tip_partials.size(1)}, torch::kFloat64);
  for (const auto& [a, b] : children) {
    at::Tensor node = Jc69Propagate(partials[a], branch_lengths[a]) *
                      Jc69Propagate(partials[b], branch_lengths[b]);
    at::Tensor scale = node.amax(-1, /*keepdim=*/true);
    log_scale += scale.squeeze(-1).log();
    partials.push_back(node / scale);
  }
  return (partials.back() * 0.25).sum(-1).log() + log_scale;
}

namespace {

// Jc69LogLikelihoods on one block of patterns.
at::Tensor Jc69LogLikelihoodsBlock(const at::Tensor& left,
                                   const at::Tensor& right,
                                   const at::Tensor& tip_partials,
                                   const at::Tensor& weights,
                                   double branch_length) {
  const int64_t batch = left.size(0);
  const int64_t n = tip_partials.size(0);
  const int64_t patterns = tip_partials.size(1);
  const auto [same, diff] = Jc69Probabilities(branch_length);
  // Every node's partials are used exactly once, by its parent, after the
  // same branch propagation, so the buffer holds propagated partials: the n
  // tips once (shared by every tree, instead of a copy per tree), then
  // internal node j of tree b at row n + j * batch + b. One index_select
  // per child gathers a whole batch.
  at::Tensor buffer =
      torch::empty({n + (n - 2) * batch, patterns, 4}, tip_partials.options());
  buffer.narrow(0, 0, n).copy_(Jc69Propagate(tip_partials, branch_length));
  const at::Tensor tree = torch::arange(batch, left.options());
  auto rows_of = [&](const at::Tensor& child) {
    return torch::where(child < n, child, n + (child - n) * batch + tree);
  };
  at::Tensor log_scale = torch::zeros({batch, patterns}, torch::kFloat64);
  at::Tensor node;
  for (int64_t j = 0; j < n - 1; ++j) {
    node = buffer.index_select(0, rows_of(left.select(1, j)));
    node.mul_(buffer.index_select(0, rows_of(right.select(1, j))));
    // The likelihood is linear in each node's partial vector, so dividing
    // by its per-site maximum only moves a factor into log_scale (and keeps
    // deep trees and long alignments from underflowing).
    at::Tensor scale = node.amax(-1, /*keepdim=*/true).clamp_min_(1e-300);
    log_scale.add_(scale.squeeze(-1).log());
    node.div_(scale);
    if (j < n - 2) {
      // P(t) x = diff * sum(x) + (same - diff) * x, written in place.
      at::Tensor out = buffer.narrow(0, n + j * batch, batch);
      at::mul_out(out, node, same - diff);
      out.add_(node.sum(-1, /*keepdim=*/true), diff);
    }
  }
  // node is now the root's (unpropagated) partials: [B, P, 4].
  at::Tensor site = node.sum(-1).mul_(0.25).log_().add_(log_scale);  // [B, P]
  return site.matmul(weights);
}

}  // namespace

at::Tensor Jc69LogLikelihoods(const at::Tensor& left, const at::Tensor& right,
                              const at::Tensor& tip_partials,
                              const at::Tensor& weights, double branch_length) {
  // Blocks of patterns small enough that a node's [B, block, 4] partials
  // (about 1 MiB) stay in cache between the dozen passes each node makes
  // over them; one block when that covers every pattern.
  const int64_t batch = std::max<int64_t>(1, left.size(0));
  const int64_t patterns = tip_partials.size(1);
  const int64_t block = std::max<int64_t>(64, (int64_t{1} << 15) / batch);
  if (patterns <= block) {
    return Jc69LogLikelihoodsBlock(left, right, tip_partials, weights,
                                   branch_length);
  }
  at::Tensor total = torch::zeros({left.size(0)}, torch::kFloat64);
  for (int64_t start = 0; start < patterns; start += block) {
    const int64_t size = std::min(block, patterns - start);
    total.add_(Jc69LogLikelihoodsBlock(
        left, right, tip_partials.narrow(1, start, size),
        weights.narrow(0, start, size), branch_length));
  }
  return total;
}

at::Tensor FitchScores(const at::Tensor& left, const at::Tensor& right,
                       const at::Tensor& masks, const at::Tensor& weights) {
  const int64_t batch = left.size(0);
  const int64_t n = masks.size(0);
  const int64_t patterns = masks.size(1);
  at::Tensor sets = torch::empty({batch, 2 * n - 1, patterns}, torch::kInt64);
  sets.narrow(1, 0, n).copy_(masks.unsqueeze(0).expand({batch, n, patterns}));
  at::Tensor changes = torch::zeros({batch, patterns}, torch::kFloat64);
  at::Tensor rows = torch::arange(batch, torch::kInt64);
  for (int64_t j = 0; j < n - 1; ++j) {
    at::Tensor a = sets.index({rows, left.select(1, j)});
    at::Tensor b = sets.index({rows, right.select(1, j)});
    at::Tensor both = a.bitwise_and(b);
    at::Tensor disjoint = both == 0;
    changes += disjoint.to(torch::kFloat64);
    sets.select(1, n + j).copy_(torch::where(disjoint, a.bitwise_or(b), both));
  }
  return (changes * weights.unsqueeze(0)).sum(1);
}

}  // namespace epgfn
