#include "common/train/progress_reporter.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace epgfn {
namespace {

std::string Seconds(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 10) return absl::StrFormat("%.1f s", seconds);
  if (seconds < 600) return absl::StrFormat("%.0f s", seconds);
  return absl::StrFormat("%.1f min", seconds / 60);
}

}  // namespace

std::string FormatProgressLine(const std::string& what,
                               const ProgressPoint& point,
                               double elapsed_seconds, double eta_seconds) {
  const double percent = point.total_iterations > 0
                             ? 100.0 * point.iteration / point.total_iterations
                             : 0.0;
  std::string line = absl::StrFormat(
      "progress %s: iteration %d/%d (%.0f%%), loss %.4g", what, point.iteration,
      point.total_iterations, percent, point.loss);
  if (point.total_variation) {
    absl::StrAppend(&line,
                    absl::StrFormat(", tv %.4f", *point.total_variation));
  }
  if (point.fcs)
    absl::StrAppend(&line, absl::StrFormat(", fcs %.4f", *point.fcs));
  absl::StrAppend(&line, ", elapsed ", Seconds(elapsed_seconds), ", eta ",
                  Seconds(eta_seconds));
  return line;
}

ProgressReporter::ProgressReporter(std::string what, absl::Duration interval,
                                   Sink sink, Clock clock)
    : what_(std::move(what)),
      interval_(interval),
      sink_(std::move(sink)),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      start_(clock_()) {}

void ProgressReporter::Update(const ProgressPoint& point) {
  if (interval_ <= absl::ZeroDuration() || !sink_) return;
  const absl::Time now = clock_();
  if (first_iteration_ < 0) {
    // The rate is measured from here: the first point of this run.
    first_iteration_ = point.iteration;
    start_ = now;
  }
  const bool last = point.iteration >= point.total_iterations;
  if (!last && now - last_line_ < interval_) return;
  last_line_ = now;
  const double elapsed = absl::ToDoubleSeconds(now - start_);
  const int64_t done = point.iteration - first_iteration_;
  const double eta =
      last       ? 0.0
      : done > 0 ? elapsed / done * (point.total_iterations - point.iteration)
                 : NAN;
  sink_(FormatProgressLine(what_, point, elapsed, eta));
}

}  // namespace epgfn
