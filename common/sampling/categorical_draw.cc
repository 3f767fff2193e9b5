#include "common/sampling/categorical_draw.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace epgfn {
namespace {

// cumsum's running value on the CPU: it accumulates float32 entries in
// double (at::acc_type<float, /*is_cuda=*/false>) and stores each partial
// sum rounded to float32.
class RunningSum {
 public:
  float Add(float entry) {
    sum_ += entry;
    return static_cast<float>(sum_);
  }

 private:
  double sum_ = 0.0;
};

float RowTotal(const float* row, int64_t categories) {
  RunningSum running;
  float total = 0.0f;
  for (int64_t k = 0; k < categories; ++k) total = running.Add(row[k]);
  return total;
}

}  // namespace

bool CanDrawByRowLoop(const at::Tensor& probabilities) {
  return probabilities.device().is_cpu() && probabilities.dim() == 2 &&
         probabilities.scalar_type() == at::kFloat;
}

bool RowTotalsFinite(const at::Tensor& probabilities) {
  const at::Tensor rows = probabilities.contiguous();
  const int64_t categories = rows.size(1);
  const float* data = rows.data_ptr<float>();
  for (int64_t r = 0; r < rows.size(0); ++r) {
    if (!std::isfinite(RowTotal(data + r * categories, categories))) {
      return false;
    }
  }
  return true;
}

at::Tensor DrawCategoriesByOps(const at::Tensor& cumulative,
                               const at::Tensor& total,
                               const at::Tensor& uniform) {
  const at::Tensor threshold =
      uniform.clamp_min(kSmallestPositiveUniform) * total;
  return (cumulative < threshold).sum(-1).clamp_max(cumulative.size(-1) - 1);
}

at::Tensor DrawCategoriesByRowLoop(const at::Tensor& probabilities,
                                   const at::Tensor& uniform) {
  const at::Tensor rows = probabilities.contiguous();
  const at::Tensor thresholds = uniform.contiguous();
  const int64_t num_rows = rows.size(0);
  const int64_t categories = rows.size(1);
  at::Tensor drawn = at::empty({num_rows}, at::kLong);
  const float* data = rows.data_ptr<float>();
  const float* uniforms = thresholds.data_ptr<float>();
  int64_t* out = drawn.data_ptr<int64_t>();
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* row = data + r * categories;
    const float threshold = std::max(uniforms[r], kSmallestPositiveUniform) *
                            RowTotal(row, categories);
    RunningSum running;
    int64_t below = 0;
    for (int64_t k = 0; k < categories; ++k) {
      below += running.Add(row[k]) < threshold;
    }
    out[r] = std::min(below, categories - 1);
  }
  return drawn;
}

}  // namespace epgfn
