#ifndef EPGFN_TESTS_BENCH_STREAMING_TABLE_H_
#define EPGFN_TESTS_BENCH_STREAMING_TABLE_H_

// streaming_benchmark's per-update table: how the updates are trained (the
// variants), and the rows comparing each update with retraining from
// scratch.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/train/streaming_update.h"
#include "tests/bench/streaming_retrain.h"

namespace epgfn {

// How the updates are trained, beside the shared budget.
struct UpdateVariant {
  std::string schedule_name;
  LearningRateSchedule schedule = LearningRateSchedule::kConstant;
  double replay_fraction = 0.0;
};

// "SCHEDULE:REPLAY_FRACTION,..." (e.g. "constant:0,cosine:0.25").
absl::StatusOr<std::vector<UpdateVariant>> ParseUpdateVariants(
    absl::string_view list);

// The streaming update of one block with one variant's options, measured
// against all blocks so far.
struct StreamingStep {
  StreamingUpdateResult update;
  double with_diagnostics_seconds = 0.0;
  Estimate distance;
};

// What the cells are measured against.
struct TableSettings {
  double tolerance = 0.01;  // "within" of the retraining
  int64_t first_iterations = 0;
  int64_t update_iterations = 0;
  int64_t retrain_max_iterations = 0;  // a retraining's cap
};

void PrintTableHeader(Metric metric, const TableSettings& settings);

// "0.0912 +- 0.0011" (standard error), or "0.0912" when measured once.
std::string WithError(const Estimate& estimate);

// The noise of one figure of `model`: `repeats` independent pools of
// `samples` draws at each subset count, with the mean, the standard
// deviation and the seconds per measurement.
absl::Status PrintMeasurementNoise(Metric metric, const Distance& distance,
                                   PolicyNet model, int repeats,
                                   int64_t samples,
                                   const std::vector<int64_t>& subsets);

// Prints update t's row of one variant against the retraining (or without
// it) and returns whether the goal (2.5x in seconds to within the
// tolerance, and the converse check) is met. A retraining that never came
// within the tolerance by its cap counts with the lower bound of its
// speed-up (all its seconds over the update's), printed "> ...x".
bool PrintRow(const TableSettings& settings, int t, const StreamingStep& step,
              const RetrainResult* retrain);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_STREAMING_TABLE_H_
