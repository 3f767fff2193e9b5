#ifndef EPGFN_COMMON_SAMPLING_CATEGORICAL_DRAW_H_
#define EPGFN_COMMON_SAMPLING_CATEGORICAL_DRAW_H_

#include <ATen/core/Tensor.h>

// The inverse-CDF draw behind RandomSource::CategoricalOfRows, from the
// rows' cumulative sums (probabilities.cumsum(-1)), two ways with the same
// float arithmetic: as tensor ops (any device) and as one loop over the
// rows of a CPU tensor. The rollout draws once per step on a few dozen to a
// few hundred rows, where the small ops of the first way cost more than
// the arithmetic; the loop gives the very same categories
// (categorical_draw_test compares the two).

namespace epgfn {

// A row's threshold is max(u, 2^-24) * total: float32 rand draws
// multiples of 2^-24 and exactly 0 once in 2^24 draws, which would pick
// category 0 whatever its probability (on the DAG environment the
// always-masked self-loop; see random.cc).
inline constexpr float kSmallestPositiveUniform = 1.0f / (1 << 24);

// Whether the row loops can take `cumulative`: a [R, K] float32 CPU tensor.
bool CanDrawByRowLoop(const at::Tensor& cumulative);

// Whether every row's total (the last column of `cumulative`) is finite:
// as tensor ops, and as a row loop (CanDrawByRowLoop must hold).
bool TotalsFiniteByOps(const at::Tensor& cumulative);
bool TotalsFiniteByRowLoop(const at::Tensor& cumulative);

// For each row r, the number of categories whose cumulative probability
// is below its threshold (clamped to K - 1), from `uniform` ([R, 1]
// float32).
at::Tensor DrawCategoriesByOps(const at::Tensor& cumulative,
                               const at::Tensor& uniform);

// The same categories, computed row by row (CanDrawByRowLoop must hold;
// `uniform` a [R, 1] float32 CPU tensor).
at::Tensor DrawCategoriesByRowLoop(const at::Tensor& cumulative,
                                   const at::Tensor& uniform);

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_CATEGORICAL_DRAW_H_
