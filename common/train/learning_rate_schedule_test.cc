#include "common/train/learning_rate_schedule.h"

#include <cmath>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(LearningRateScheduleTest, StartsAtOneAndEndsAtTheFloor) {
  for (LearningRateSchedule schedule :
       {LearningRateSchedule::kLinear, LearningRateSchedule::kCosine}) {
    EXPECT_DOUBLE_EQ(LearningRateScale(schedule, 0.1, 0, 11), 1.0);
    EXPECT_DOUBLE_EQ(LearningRateScale(schedule, 0.1, 10, 11), 0.1);
    // Half way both are at the mean of 1 and the floor.
    EXPECT_DOUBLE_EQ(LearningRateScale(schedule, 0.1, 5, 11), 0.55);
  }
  // A quarter of the way cosine has decayed less than linear.
  EXPECT_DOUBLE_EQ(
      LearningRateScale(LearningRateSchedule::kLinear, 0.0, 25, 101), 0.75);
  EXPECT_NEAR(LearningRateScale(LearningRateSchedule::kCosine, 0.0, 25, 101),
              0.5 * (1 + std::sqrt(0.5)), 1e-12);
  EXPECT_EQ(LearningRateScale(LearningRateSchedule::kConstant, 0.1, 10, 11),
            1.0);
  // One iteration is the last one.
  EXPECT_DOUBLE_EQ(LearningRateScale(LearningRateSchedule::kCosine, 0.3, 0, 1),
                   0.3);
}

TEST(LearningRateScheduleTest, NamesRoundTrip) {
  for (LearningRateSchedule schedule :
       {LearningRateSchedule::kConstant, LearningRateSchedule::kLinear,
        LearningRateSchedule::kCosine}) {
    absl::StatusOr<LearningRateSchedule> parsed =
        ParseLearningRateSchedule(LearningRateScheduleName(schedule));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, schedule);
  }
  EXPECT_EQ(ParseLearningRateSchedule("step").status().code(),
            absl::StatusCode::kInvalidArgument);
  LearningRateSchedule flag = LearningRateSchedule::kConstant;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("cosine", &flag, &error));
  EXPECT_EQ(flag, LearningRateSchedule::kCosine);
  EXPECT_FALSE(AbslParseFlag("step", &flag, &error));
  EXPECT_NE(error.find("constant, linear or cosine"), std::string::npos);
  EXPECT_EQ(AbslUnparseFlag(LearningRateSchedule::kLinear), "linear");
}

}  // namespace
}  // namespace epgfn
