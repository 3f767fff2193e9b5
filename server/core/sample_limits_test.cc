#include "server/core/sample_limits.h"

#include <limits>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

TEST(SampleLimitsTest, CapsObjectsSamplesAndTheirProduct) {
  SampleWorkLimits limits;
  limits.max_objects_per_request = 1000;
  limits.max_log_probability_samples = 64;
  limits.max_trajectories_per_request = 10000;
  EXPECT_TRUE(CheckSampleWork(limits, 1000, 0).ok());
  EXPECT_TRUE(CheckSampleWork(limits, 156, 64).ok());      // 9,984
  absl::Status status = CheckSampleWork(limits, 157, 64);  // 10,048
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("num_samples x log_probability_samples = 10048"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("10000"));
  EXPECT_EQ(CheckSampleWork(limits, 0, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSampleWork(limits, 1001, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSampleWork(limits, 10, 65).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSampleWork(limits, 10, -1).code(),
            absl::StatusCode::kInvalidArgument);
  // Saturates rather than overflowing.
  EXPECT_EQ(SampleWork(std::numeric_limits<int64_t>::max(), 1024),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(SampleWork(7, 0), 7);

  limits.max_concurrent_heavy_requests = 0;
  EXPECT_THAT(std::string(limits.Validate().message()),
              HasSubstr("max_concurrent_heavy_requests"));
  EXPECT_TRUE(SampleWorkLimits().Validate().ok());
}

TEST(SampleLimitsTest, GateAdmitsHeavyRequestsUpToItsCapacity) {
  SampleWorkLimits limits;
  limits.heavy_request_trajectories = 100;
  limits.max_concurrent_heavy_requests = 2;
  HeavyRequestGate gate(limits);
  auto a = gate.TryEnter(101);
  auto b = gate.TryEnter(5000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(gate.heavy_in_flight(), 2);
  EXPECT_EQ(gate.TryEnter(101).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(gate.TryEnter(100).ok());  // light: always
  {
    HeavyRequestGate::Ticket moved = *std::move(a);
    EXPECT_EQ(gate.heavy_in_flight(), 2);
  }
  EXPECT_EQ(gate.heavy_in_flight(), 1);
  EXPECT_TRUE(gate.TryEnter(101).ok());  // released again at once
  EXPECT_EQ(gate.heavy_in_flight(), 1);
}

TEST(SampleLimitsTest, ControlReportsCancellationAndDeadline) {
  RequestControl control;
  EXPECT_TRUE(control.Check().ok());
  control.deadline = absl::Now() - absl::Milliseconds(1);
  EXPECT_EQ(control.Check().code(), absl::StatusCode::kDeadlineExceeded);
  control.cancelled = [] { return true; };
  EXPECT_EQ(control.Check().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace epgfn
