#include "tests/bench/accuracy_schedule.h"

#include <algorithm>
#include <numeric>

namespace epgfn {

ChunkVerdict ChunkMonitor::Observe(double total_variation) {
  recent_.push_back(total_variation);
  if (static_cast<int64_t>(recent_.size()) > rule_.window) recent_.pop_front();
  if (static_cast<int64_t>(recent_.size()) < rule_.window) {
    return ChunkVerdict::kContinue;
  }
  const double mean = *smoothed();
  if (mean <= rule_.target_tv) return ChunkVerdict::kReached;
  if (!best_.has_value() || mean < *best_ - rule_.min_improvement) {
    best_ = mean;
    stale_ = 0;
    return ChunkVerdict::kContinue;
  }
  best_ = std::min(*best_, mean);
  return ++stale_ >= rule_.patience ? ChunkVerdict::kPlateau
                                    : ChunkVerdict::kContinue;
}

std::optional<double> ChunkMonitor::smoothed() const {
  if (recent_.empty()) return std::nullopt;
  return std::accumulate(recent_.begin(), recent_.end(), 0.0) /
         static_cast<double>(recent_.size());
}

std::optional<double> ChunkMonitor::last() const {
  if (recent_.empty()) return std::nullopt;
  return recent_.back();
}

int64_t NextLocalIterations(int64_t current, int64_t cap) {
  if (current >= cap) return 0;
  return std::min(2 * current, cap);
}

}  // namespace epgfn
