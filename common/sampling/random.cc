#include "common/sampling/random.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <stdexcept>

#include "common/sampling/categorical_draw.h"

namespace epgfn {

RandomSource::RandomSource(uint64_t seed)
    : generator_(at::detail::createCPUGenerator(seed)) {}

at::Tensor RandomSource::Uniform(at::IntArrayRef shape, c10::Device device) {
  at::Tensor uniform = at::rand(shape, generator_, torch::kFloat32);
  return device.is_cpu() ? uniform : uniform.to(device);
}

at::Tensor RandomSource::Categorical(const at::Tensor& probabilities) {
  return CategoricalOfRows(probabilities, at::Tensor(), probabilities.size(0));
}

at::Tensor RandomSource::CategoricalOfRows(const at::Tensor& probabilities,
                                           const at::Tensor& rows,
                                           int64_t batch) {
  // NaN or infinite probabilities (a diverged policy's logits) reach every
  // row's total; drawing from them would return a zero-probability
  // category, and the environment would then fail far from the cause (seen
  // on Sachs: "index out of range" in the DAG's Step). Checked before the
  // uniforms are drawn.
  const at::Tensor cumulative = probabilities.cumsum(-1);
  const bool row_loop = CanDrawByRowLoop(cumulative);
  if (!(row_loop ? TotalsFiniteByRowLoop(cumulative)
                 : TotalsFiniteByOps(cumulative))) {
    throw std::runtime_error(
        "categorical draw: the probabilities are not finite (NaN or infinite "
        "logits: has training diverged?)");
  }
  at::Tensor uniform = Uniform({batch, 1}, probabilities.device());
  if (rows.defined()) uniform = uniform.index_select(0, rows);
  // The chosen index i has cumulative[i-1] < threshold <= cumulative[i], so
  // its probability is positive as long as the threshold is; the clamp to
  // K - 1 only guards rounding at the end. An exactly-0 uniform counts as
  // the smallest positive draw (kSmallestPositiveUniform): it picked
  // category 0 whatever its probability, on the DAG environment the
  // always-masked self-loop 0 -> 0, whose corrupted state later ran past
  // the longest trajectory ("index out of range in self" in the
  // log-probabilities, Sachs d = 11 with TB).
  return row_loop ? DrawCategoriesByRowLoop(cumulative, uniform)
                  : DrawCategoriesByOps(cumulative, uniform);
}

at::Tensor RandomSource::Integers(int64_t high, at::IntArrayRef shape) {
  return at::randint(high, shape, generator_, torch::kInt64);
}

at::Tensor RandomSource::State() const { return generator_.get_state(); }

void RandomSource::SetState(const at::Tensor& state) {
  generator_.set_state(state);
}

}  // namespace epgfn
