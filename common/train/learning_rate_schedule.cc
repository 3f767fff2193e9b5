#include "common/train/learning_rate_schedule.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

double LearningRateScale(LearningRateSchedule schedule, double floor,
                         int64_t iteration, int64_t total) {
  const double progress =
      total > 1 ? static_cast<double>(iteration) / (total - 1) : 1.0;
  switch (schedule) {
    case LearningRateSchedule::kConstant:
      return 1.0;
    case LearningRateSchedule::kLinear:
      return 1.0 - (1.0 - floor) * progress;
    case LearningRateSchedule::kCosine:
      return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(kPi * progress));
  }
  return 1.0;
}

absl::Status CheckLearningRateFloor(double floor, absl::string_view name) {
  if (floor > 0 && floor <= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must lie in (0, 1], got ", floor));
}

absl::StatusOr<LearningRateSchedule> ParseLearningRateSchedule(
    absl::string_view name) {
  if (name == "constant") return LearningRateSchedule::kConstant;
  if (name == "linear") return LearningRateSchedule::kLinear;
  if (name == "cosine") return LearningRateSchedule::kCosine;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown learning-rate schedule '", name,
                   "' (constant, linear or cosine)"));
}

std::string LearningRateScheduleName(LearningRateSchedule schedule) {
  switch (schedule) {
    case LearningRateSchedule::kConstant:
      return "constant";
    case LearningRateSchedule::kLinear:
      return "linear";
    case LearningRateSchedule::kCosine:
      return "cosine";
  }
  return "unknown";
}

bool AbslParseFlag(absl::string_view text, LearningRateSchedule* schedule,
                   std::string* error) {
  absl::StatusOr<LearningRateSchedule> parsed = ParseLearningRateSchedule(text);
  if (!parsed.ok()) {
    *error = std::string(parsed.status().message());
    return false;
  }
  *schedule = *parsed;
  return true;
}

std::string AbslUnparseFlag(LearningRateSchedule schedule) {
  return LearningRateScheduleName(schedule);
}

}  // namespace epgfn
