#include "tests/bench/accuracy_schedule.h"

#include <algorithm>
#include <cmath>
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
  const bool plateau = rule_.reference == PlateauReference::kBest
                           ? BestPlateau(mean)
                           : LaggedPlateau(mean);
  return plateau ? ChunkVerdict::kPlateau : ChunkVerdict::kContinue;
}

bool ChunkMonitor::BestPlateau(double mean) {
  if (!best_.has_value() || mean < *best_ - rule_.min_improvement) {
    best_ = mean;
    stale_ = 0;
    return false;
  }
  best_ = std::min(*best_, mean);
  return ++stale_ >= rule_.patience;
}

bool ChunkMonitor::LaggedPlateau(double mean) {
  best_ = best_.has_value() ? std::min(*best_, mean) : mean;
  smoothed_history_.push_back(mean);
  if (static_cast<int64_t>(smoothed_history_.size()) > rule_.patience + 1) {
    smoothed_history_.pop_front();
  }
  if (static_cast<int64_t>(smoothed_history_.size()) <= rule_.patience) {
    return false;
  }
  return !(mean < smoothed_history_.front() - rule_.min_improvement);
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

int64_t NextLocalIterations(int64_t current, int64_t cap, double growth,
                            int64_t multiple) {
  if (current >= cap) return 0;
  // The tolerance keeps an exact product (450 x 1.1 is 495.00000000000006
  // in doubles) from being rounded up past itself.
  const int64_t grown =
      std::max(current + 1, static_cast<int64_t>(std::ceil(
                                static_cast<double>(current) * growth - 1e-9)));
  const int64_t rounded = (grown + multiple - 1) / multiple * multiple;
  return std::min(rounded, cap);
}

}  // namespace epgfn
