#include "common/sampling/random.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <stdexcept>

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
  at::Tensor cumulative = probabilities.cumsum(-1);
  at::Tensor total = cumulative.narrow(-1, cumulative.size(-1) - 1, 1);
  // NaN or infinite probabilities (a diverged policy's logits) reach every
  // row's total; drawing from them would return a zero-probability
  // category, and the environment would then fail far from the cause (seen
  // on Sachs: "index out of range" in the DAG's Step).
  if (!at::isfinite(total).all().item<bool>()) {
    throw std::runtime_error(
        "categorical draw: the probabilities are not finite (NaN or infinite "
        "logits: has training diverged?)");
  }
  at::Tensor uniform = Uniform({batch, 1}, probabilities.device());
  if (rows.defined()) uniform = uniform.index_select(0, rows);
  // Uniform() can return exactly 0 (one draw in 2^24), whose threshold 0 would
  // pick a leading zero-probability category (seen as "backward action 0
  // splits a leaf" in a long FCS run). Below the smallest positive draw,
  // 2^-24, the clamp changes no other draw.
  constexpr double kBelowSmallestUniform = 1.0 / (1 << 25);
  at::Tensor threshold = uniform.clamp_min(kBelowSmallestUniform) * total;
  // The chosen index i has cumulative[i-1] < threshold <= cumulative[i], so
  // its probability is positive; the clamp only guards rounding at the end.
  return (cumulative < threshold).sum(-1).clamp_max(probabilities.size(-1) - 1);
}

at::Tensor RandomSource::Integers(int64_t high, at::IntArrayRef shape) {
  return at::randint(high, shape, generator_, torch::kInt64);
}

at::Tensor RandomSource::State() const { return generator_.get_state(); }

void RandomSource::SetState(const at::Tensor& state) {
  generator_.set_state(state);
}

}  // namespace epgfn
