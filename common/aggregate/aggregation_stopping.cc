#include "common/aggregate/aggregation_stopping.h"

#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace epgfn {

absl::string_view AggregationStopReasonName(AggregationStopReason reason) {
  switch (reason) {
    case AggregationStopReason::kNotStopped:
      return "not_stopped";
    case AggregationStopReason::kBudgetReached:
      return "budget_reached";
    case AggregationStopReason::kLossPlateau:
      return "loss_plateau";
    case AggregationStopReason::kTotalVariationPlateau:
      return "total_variation_plateau";
  }
  return "unknown";
}

absl::Status AggregationStoppingOptions::Validate() const {
  if (window < 0 || window > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("stopping window must lie in [0, 100000], got ", window));
  }
  if (enabled() && (patience < 1 || patience > 100000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stopping patience must lie in [1, 100000], got ", patience));
  }
  if (!std::isfinite(relative_tolerance) || relative_tolerance < 0.0 ||
      relative_tolerance >= 1.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("stopping relative_tolerance must lie in [0, 1), got ",
                     relative_tolerance));
  }
  if (!std::isfinite(absolute_tolerance) || absolute_tolerance < 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stopping absolute_tolerance must be finite and >= 0, got ",
        absolute_tolerance));
  }
  if (!std::isfinite(total_variation_tolerance) ||
      total_variation_tolerance < 0.0 || total_variation_tolerance >= 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stopping total_variation_tolerance must lie in [0, 1), got ",
        total_variation_tolerance));
  }
  return absl::OkStatus();
}

AggregationStopReason PlateauMonitor::Observe(
    double loss, std::optional<double> total_variation) {
  if (options_.window > 0) {
    state_.recent_losses.push_back(loss);
    if (static_cast<int64_t>(state_.recent_losses.size()) > options_.window) {
      state_.recent_losses.pop_front();
    }
    if (static_cast<int64_t>(state_.recent_losses.size()) == options_.window) {
      const double average = std::accumulate(state_.recent_losses.begin(),
                                             state_.recent_losses.end(), 0.0) /
                             options_.window;
      if (!state_.best_average ||
          (average <
               (1.0 - options_.relative_tolerance) * *state_.best_average &&
           average < *state_.best_average - options_.absolute_tolerance)) {
        state_.best_average = average;
        state_.stale_reports = 0;
      } else if (++state_.stale_reports >= options_.patience) {
        return AggregationStopReason::kLossPlateau;
      }
    }
  }
  if (options_.total_variation_tolerance > 0.0 && total_variation) {
    if (!state_.best_total_variation ||
        *total_variation <
            *state_.best_total_variation - options_.total_variation_tolerance) {
      state_.best_total_variation = *total_variation;
      state_.stale_total_variation_reports = 0;
    } else if (++state_.stale_total_variation_reports >= options_.patience) {
      return AggregationStopReason::kTotalVariationPlateau;
    }
  }
  return AggregationStopReason::kNotStopped;
}

absl::Status PlateauMonitor::Restore(State state) {
  if (static_cast<int64_t>(state.recent_losses.size()) > options_.window ||
      state.stale_reports < 0 || state.stale_total_variation_reports < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stopping state holds ", state.recent_losses.size(),
        " losses for a window of ", options_.window, " (stale counts ",
        state.stale_reports, ", ", state.stale_total_variation_reports, ")"));
  }
  state_ = std::move(state);
  return absl::OkStatus();
}

}  // namespace epgfn
