#ifndef EPGFN_COMMON_UTIL_PORTABLE_RANDOM_H_
#define EPGFN_COMMON_UTIL_PORTABLE_RANDOM_H_

#include <cstdint>
#include <random>
#include <vector>

namespace epgfn {

// Random draws that are the same on every platform and standard library:
// std::mt19937_64 seeded through std::seed_seq (both fully specified by the
// standard) with transforms written out here, rather than the
// std::*_distribution classes, whose algorithms each library chooses. Used
// wherever a seed defines data (reward tables, synthetic datasets), so that
// every party of a federation derives the same values from the same seed.
class PortableRandom {
 public:
  // Seeded by the two 32-bit halves of `seed`.
  explicit PortableRandom(int64_t seed);
  // Seeded by `seed` and `stream`, for independent streams under one seed.
  PortableRandom(int64_t seed, uint64_t stream);

  // Uniform in [0, 1), from 53 random bits.
  double Uniform();
  // Standard normal (Box-Muller; one value of each pair is discarded to keep
  // the stream simple).
  double Normal();
  // Uniform integer in [0, n), n > 0, by rejection (no modulo bias).
  int64_t Below(int64_t n);

 private:
  std::mt19937_64 engine_;
};

// `n` standard normal draws from PortableRandom(seed, stream).
std::vector<double> StandardNormals(int64_t n, int64_t seed, uint64_t stream);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_PORTABLE_RANDOM_H_
