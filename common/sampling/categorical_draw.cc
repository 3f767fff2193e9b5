#include "common/sampling/categorical_draw.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace epgfn {
namespace {

at::Tensor Totals(const at::Tensor& cumulative) {
  return cumulative.narrow(-1, cumulative.size(-1) - 1, 1);
}

}  // namespace

bool CanDrawByRowLoop(const at::Tensor& cumulative) {
  return cumulative.device().is_cpu() && cumulative.dim() == 2 &&
         cumulative.scalar_type() == at::kFloat;
}

bool TotalsFiniteByOps(const at::Tensor& cumulative) {
  return at::isfinite(Totals(cumulative)).all().item<bool>();
}

bool TotalsFiniteByRowLoop(const at::Tensor& cumulative) {
  const at::Tensor rows = cumulative.contiguous();
  const int64_t categories = rows.size(1);
  const float* data = rows.data_ptr<float>();
  for (int64_t r = 0; r < rows.size(0); ++r) {
    if (!std::isfinite(data[r * categories + categories - 1])) return false;
  }
  return true;
}

at::Tensor DrawCategoriesByOps(const at::Tensor& cumulative,
                               const at::Tensor& uniform) {
  const at::Tensor threshold =
      uniform.clamp_min(kSmallestPositiveUniform) * Totals(cumulative);
  return (cumulative < threshold).sum(-1).clamp_max(cumulative.size(-1) - 1);
}

at::Tensor DrawCategoriesByRowLoop(const at::Tensor& cumulative,
                                   const at::Tensor& uniform) {
  const at::Tensor rows = cumulative.contiguous();
  const at::Tensor thresholds = uniform.contiguous();
  const int64_t num_rows = rows.size(0);
  const int64_t categories = rows.size(1);
  at::Tensor drawn = at::empty({num_rows}, at::kLong);
  const float* data = rows.data_ptr<float>();
  const float* uniforms = thresholds.data_ptr<float>();
  int64_t* out = drawn.data_ptr<int64_t>();
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* row = data + r * categories;
    const float threshold =
        std::max(uniforms[r], kSmallestPositiveUniform) * row[categories - 1];
    int64_t below = 0;
    for (int64_t k = 0; k < categories; ++k) below += row[k] < threshold;
    out[r] = std::min(below, categories - 1);
  }
  return drawn;
}

}  // namespace epgfn
