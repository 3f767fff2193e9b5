#ifndef EPGFN_COMMON_SAMPLING_RANDOM_H_
#define EPGFN_COMMON_SAMPLING_RANDOM_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace epgfn {

// A seeded random source owned by one sampler or trainer. Uniforms are drawn
// on the CPU from a private generator and then moved to the target device, so
// results depend only on the seed (not on threads or on the device's
// generator) and several trainers can run side by side in one process.
class RandomSource {
 public:
  explicit RandomSource(uint64_t seed);

  // Uniform(0, 1) float32 of `shape`, on `device`.
  at::Tensor Uniform(at::IntArrayRef shape, c10::Device device);

  // One category per row of `probabilities` ([B, K], non-negative, rows not
  // all zero) by inverse-CDF; never returns a zero-probability category.
  // Throws std::runtime_error when a row holds a NaN or an infinity.
  at::Tensor Categorical(const at::Tensor& probabilities);
  // Categorical() for the rows `rows` (indices, [R] int64) of a batch of
  // `batch` rows whose other rows are not drawn: `probabilities` is [R, K].
  // Draws the same uniforms as Categorical() on the whole [batch, K] batch,
  // so each row gets the category that call would give it, and the random
  // stream advances the same way.
  at::Tensor CategoricalOfRows(const at::Tensor& probabilities,
                               const at::Tensor& rows, int64_t batch);

  // Uniform integers in [0, high).
  at::Tensor Integers(int64_t high, at::IntArrayRef shape);

  // The generator's state as an opaque uint8 CPU tensor, so that a resumed
  // trainer continues the very same stream of draws.
  at::Tensor State() const;
  // Restores a State(). Throws c10::Error (LibTorch's check) when `state` is
  // not a CPU generator state.
  void SetState(const at::Tensor& state);

 private:
  at::Generator generator_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_SAMPLING_RANDOM_H_
