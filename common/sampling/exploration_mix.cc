#include "common/sampling/exploration_mix.h"

#include <ATen/ATen.h>

namespace epgfn {

void MixUniformExplorationByOps(at::Tensor& probabilities,
                                const at::Tensor& mask, double epsilon) {
  at::Tensor allowed = mask.to(at::kFloat);
  const at::Tensor count = allowed.sum(-1, true);
  probabilities.mul_(1.0 - epsilon).add_(allowed.mul_(epsilon).div_(count));
}

void MixUniformExploration(at::Tensor& probabilities, const at::Tensor& mask,
                           double epsilon) {
  const bool row_loop =
      probabilities.device().is_cpu() && mask.device().is_cpu() &&
      probabilities.dim() == 2 && probabilities.scalar_type() == at::kFloat &&
      mask.scalar_type() == at::kBool && probabilities.is_contiguous() &&
      mask.is_contiguous() && mask.sizes() == probabilities.sizes();
  if (!row_loop) {
    MixUniformExplorationByOps(probabilities, mask, epsilon);
    return;
  }
  // The ops' operands as they see them: the scalars rounded to float32
  // once, the count of allowed actions summed as float32 (exact for small
  // integers), and a masked entry's share 0 / count (NaN for a row with
  // nothing allowed, as with the ops).
  const float keep = static_cast<float>(1.0 - epsilon);
  const float share = static_cast<float>(epsilon);
  const int64_t rows = probabilities.size(0);
  const int64_t categories = probabilities.size(1);
  float* p = probabilities.data_ptr<float>();
  const bool* allowed = mask.data_ptr<bool>();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * categories;
    const bool* row_allowed = allowed + r * categories;
    float count = 0.0f;
    for (int64_t k = 0; k < categories; ++k) count += row_allowed[k];
    for (int64_t k = 0; k < categories; ++k) {
      const float uniform = (row_allowed[k] ? share : 0.0f) / count;
      row[k] = row[k] * keep + uniform;
    }
  }
}

}  // namespace epgfn
