#include "common/util/portable_random.h"

#include <cmath>

namespace epgfn {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

PortableRandom::PortableRandom(int64_t seed) {
  const uint64_t key = static_cast<uint64_t>(seed);
  std::seed_seq sequence{static_cast<uint32_t>(key),
                         static_cast<uint32_t>(key >> 32)};
  engine_.seed(sequence);
}

PortableRandom::PortableRandom(int64_t seed, uint64_t stream) {
  const uint64_t key = static_cast<uint64_t>(seed);
  std::seed_seq sequence{
      static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32),
      static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)};
  engine_.seed(sequence);
}

double PortableRandom::Uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double PortableRandom::Normal() {
  const double u1 = 1.0 - Uniform();  // (0, 1], so the log is finite.
  const double u2 = Uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

int64_t PortableRandom::Below(int64_t n) {
  const uint64_t range = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t draw;
  do {
    draw = engine_();
  } while (draw >= limit);
  return static_cast<int64_t>(draw % range);
}

std::vector<double> StandardNormals(int64_t n, int64_t seed, uint64_t stream) {
  PortableRandom random(seed, stream);
  std::vector<double> values(n);
  for (double& value : values) value = random.Normal();
  return values;
}

}  // namespace epgfn
