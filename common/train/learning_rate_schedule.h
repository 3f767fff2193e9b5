#ifndef EPGFN_COMMON_TRAIN_LEARNING_RATE_SCHEDULE_H_
#define EPGFN_COMMON_TRAIN_LEARNING_RATE_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// How a training run's learning rates move from their configured values at
// the first iteration to `floor` times them at the last. A decaying step lets
// a fit settle instead of ending on the noise of constant-size Adam steps.
enum class LearningRateSchedule { kConstant, kLinear, kCosine };

// The learning-rate multiplier of the 0-based `iteration` out of `total`:
// 1 at the first iteration, `floor` at the last (always 1 for kConstant).
double LearningRateScale(LearningRateSchedule schedule, double floor,
                         int64_t iteration, int64_t total);

// InvalidArgument naming `name` unless `floor` lies in (0, 1].
absl::Status CheckLearningRateFloor(double floor, absl::string_view name);

// "constant", "linear" or "cosine" (the names flags and tables use).
absl::StatusOr<LearningRateSchedule> ParseLearningRateSchedule(
    absl::string_view name);
std::string LearningRateScheduleName(LearningRateSchedule schedule);

// So that a flag can be of this type (--update_lr_schedule=cosine).
bool AbslParseFlag(absl::string_view text, LearningRateSchedule* schedule,
                   std::string* error);
std::string AbslUnparseFlag(LearningRateSchedule schedule);

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_LEARNING_RATE_SCHEDULE_H_
