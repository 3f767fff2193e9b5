#include "tests/bench/accuracy_schedule.h"

#include <algorithm>

namespace epgfn {

ChunkVerdict ChunkMonitor::Observe(double total_variation) {
  if (total_variation <= rule_.target_tv) return ChunkVerdict::kReached;
  if (!best_.has_value() || total_variation < *best_ - rule_.min_improvement) {
    best_ = total_variation;
    stale_ = 0;
    return ChunkVerdict::kContinue;
  }
  best_ = std::min(*best_, total_variation);
  return ++stale_ >= rule_.patience ? ChunkVerdict::kPlateau
                                    : ChunkVerdict::kContinue;
}

int64_t NextLocalIterations(int64_t current, int64_t cap) {
  if (current >= cap) return 0;
  return std::min(2 * current, cap);
}

}  // namespace epgfn
