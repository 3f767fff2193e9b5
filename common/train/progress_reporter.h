#ifndef EPGFN_COMMON_TRAIN_PROGRESS_REPORTER_H_
#define EPGFN_COMMON_TRAIN_PROGRESS_REPORTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace epgfn {

// One point of a long run (local training, aggregation, an experiment).
struct ProgressPoint {
  int64_t iteration = 0;  // done so far
  int64_t total_iterations = 0;
  double loss = 0.0;
  // Exact TV to a target and flow-consistency score, where the run has them.
  std::optional<double> total_variation;
  std::optional<double> fcs;
};

// "progress <what>: iteration 500/2000 (25%), loss 0.0123, tv 0.0412,
// elapsed 12 s, eta 36 s": ETA from the rate since the first point seen (so a
// run resumed from a checkpoint is not credited with iterations it skipped).
std::string FormatProgressLine(const std::string& what,
                               const ProgressPoint& point,
                               double elapsed_seconds, double eta_seconds);

// Turns frequent progress callbacks into one line per `interval` of wall
// time (plus the final iteration), so a long run reports at a steady pace
// whatever its speed. interval <= 0: silent. Not thread-safe.
class ProgressReporter {
 public:
  using Sink = std::function<void(const std::string& line)>;
  using Clock = std::function<absl::Time()>;

  ProgressReporter(std::string what, absl::Duration interval, Sink sink,
                   Clock clock = nullptr);

  void Update(const ProgressPoint& point);

 private:
  const std::string what_;
  const absl::Duration interval_;
  const Sink sink_;
  const Clock clock_;
  absl::Time start_;
  absl::Time last_line_ = absl::InfinitePast();
  int64_t first_iteration_ = -1;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_PROGRESS_REPORTER_H_
