#include "tests/bench/streaming_table.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/train/learning_rate_schedule.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

std::string Reached(int64_t iterations, double seconds, int64_t cap) {
  if (iterations < 0) {
    return absl::StrCat("> ", cap, " (cap)");
  }
  return absl::StrFormat("%d / %.1f s", iterations, seconds);
}

// A retraining's speed-up against the update, in seconds (not load-free)
// and in iterations (load-free). A retraining that never got there within
// its cap gives a lower bound: everything it spent, over the update's.
struct Speedup {
  double seconds = 0.0;
  double iterations = 0.0;
  bool lower_bound = false;
};

// Nothing when the retraining has no measurement at all.
std::optional<Speedup> SpeedupOf(int64_t iterations, double retrain_seconds,
                                 const RetrainResult& retrain,
                                 const StreamingStep& step,
                                 int64_t update_iterations) {
  Speedup speedup;
  if (iterations < 0) {
    if (retrain.curve.empty()) return std::nullopt;
    iterations = retrain.curve.back().iterations;
    retrain_seconds = retrain.curve.back().seconds;
    speedup.lower_bound = true;
  }
  speedup.seconds = retrain_seconds / step.update.training_seconds;
  speedup.iterations =
      static_cast<double>(iterations) / static_cast<double>(update_iterations);
  return speedup;
}

std::string SpeedupText(const std::optional<Speedup>& speedup) {
  if (!speedup.has_value()) return "not reached";
  const char* bound = speedup->lower_bound ? "> " : "";
  return absl::StrFormat("%s%.2fx (%s%.2fx)", bound, speedup->seconds, bound,
                         speedup->iterations);
}

}  // namespace

absl::StatusOr<std::vector<UpdateVariant>> ParseUpdateVariants(
    absl::string_view list) {
  std::vector<UpdateVariant> variants;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    UpdateVariant variant;
    if (parts.size() != 2 ||
        !absl::SimpleAtod(parts[1], &variant.replay_fraction)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "update variant '", item, "' is not SCHEDULE:REPLAY_FRACTION"));
    }
    variant.schedule_name = parts[0];
    ASSIGN_OR_RETURN(variant.schedule, ParseLearningRateSchedule(parts[0]));
    variants.push_back(variant);
  }
  return variants;
}

void PrintTableHeader(Metric metric, const TableSettings& settings) {
  const char* m = MetricName(metric);
  const double tolerance = settings.tolerance;
  std::printf(
      "| variant (schedule:replay) | update | blocks | streaming %s | alpha | "
      "beta | streaming train s "
      "| with diagnostics s | retrain to within %.2f: iters / s | speed-up "
      "s (iters) | retrain to equal %s: iters / s | speed-up s (iters) | "
      "retrain %s at %lld iters (best) | streaming - retrain | streaming "
      "within %.2f of it |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
      m, tolerance, m, m, (long long)settings.first_iterations, tolerance);
  std::fflush(stdout);
}

bool PrintRow(const TableSettings& settings, int t, const StreamingStep& step,
              const RetrainResult* retrain) {
  const StreamingUpdateResult& update = step.update;
  if (retrain == nullptr) {
    std::printf(
        "| %d | 0..%d | %s | %.3f | %.3f | %.1f | %.1f | not retrained | | | "
        "| | | | |\n",
        t, t, WithError(step.distance).c_str(), update.diagnostics.alpha,
        update.diagnostics.beta, update.training_seconds,
        step.with_diagnostics_seconds);
    std::fflush(stdout);
    return false;
  }
  const double tolerance = settings.tolerance;
  const double streaming = step.distance.mean;
  const Reach reach = ReachOf(*retrain, streaming, tolerance);
  const bool converse =
      streaming <= retrain->distance_at_first_budget + tolerance;
  Estimate at_budget;
  at_budget.mean = retrain->distance_at_first_budget;
  at_budget.standard_error = retrain->standard_error_at_first_budget;
  at_budget.repeats = step.distance.repeats;
  Estimate gap;
  gap.mean = streaming - at_budget.mean;
  gap.standard_error =
      std::hypot(step.distance.standard_error, at_budget.standard_error);
  gap.repeats = at_budget.repeats;
  const std::optional<Speedup> within =
      SpeedupOf(reach.iterations_within, reach.seconds_within, *retrain, step,
                settings.update_iterations);
  const std::optional<Speedup> equal =
      SpeedupOf(reach.iterations_equal, reach.seconds_equal, *retrain, step,
                settings.update_iterations);
  std::printf(
      "| %d | 0..%d | %s | %.3f | %.3f | %.1f | %.1f | %s | %s | %s | %s "
      "| %s (%.4f) | %s | %s |\n",
      t, t, WithError(step.distance).c_str(), update.diagnostics.alpha,
      update.diagnostics.beta, update.training_seconds,
      step.with_diagnostics_seconds,
      Reached(reach.iterations_within, reach.seconds_within,
              settings.retrain_max_iterations)
          .c_str(),
      SpeedupText(within).c_str(),
      Reached(reach.iterations_equal, reach.seconds_equal,
              settings.retrain_max_iterations)
          .c_str(),
      SpeedupText(equal).c_str(), WithError(at_budget).c_str(),
      retrain->best_distance, WithError(gap).c_str(), converse ? "yes" : "no");
  std::fflush(stdout);
  // A lower bound of 2.5x or more meets the speed-up half too.
  return within.has_value() && within->seconds >= 2.5 && converse;
}

std::string WithError(const Estimate& estimate) {
  if (estimate.repeats < 2) return absl::StrFormat("%.4f", estimate.mean);
  return absl::StrFormat("%.4f +- %.4f", estimate.mean,
                         estimate.standard_error);
}

absl::Status PrintMeasurementNoise(Metric metric, const Distance& distance,
                                   PolicyNet model, int repeats,
                                   int64_t samples,
                                   const std::vector<int64_t>& subsets) {
  for (const int64_t subset_count : subsets) {
    const FinalMeasurement setting{repeats, subset_count};
    const auto start = Clock::now();
    ASSIGN_OR_RETURN(const Estimate e, distance.Precise(model, setting));
    std::printf(
        "noise of one %s figure of the first model (%d independent pools "
        "of %lld draws, %lld subsets each): mean %.4f, standard deviation "
        "%.4f, %.1f s per measurement\n",
        MetricName(metric), repeats, (long long)samples,
        (long long)setting.subsets, e.mean, e.standard_deviation,
        SecondsSince(start) / repeats);
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

}  // namespace epgfn
