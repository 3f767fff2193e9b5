#include "client/core/retry.h"

#include <vector>

#include <gtest/gtest.h>

#include "client/core/grpc_status.h"

namespace epgfn {
namespace {

RetryOptions FastOptions(int max_attempts) {
  RetryOptions options;
  options.max_attempts = max_attempts;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Milliseconds(400);
  return options;
}

TEST(RetryTest, RetriesTransientFailuresUntilSuccess) {
  std::vector<absl::Duration> sleeps;
  int calls = 0;
  const absl::Status status = RetryWithBackoff(
      FastOptions(5),
      [&](int attempt) {
        EXPECT_EQ(attempt, calls + 1);
        ++calls;
        return calls < 3 ? absl::UnavailableError("down") : absl::OkStatus();
      },
      [&](absl::Duration pause) { sleeps.push_back(pause); }, /*seed=*/7);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(sleeps.size(), 2u);
  // Jitter stays within [ceiling / 2, ceiling] of the doubling backoff.
  EXPECT_GE(sleeps[0], absl::Milliseconds(50));
  EXPECT_LE(sleeps[0], absl::Milliseconds(100));
  EXPECT_GE(sleeps[1], absl::Milliseconds(100));
  EXPECT_LE(sleeps[1], absl::Milliseconds(200));
}

TEST(RetryTest, DoesNotRetryPermanentErrors) {
  int calls = 0;
  const absl::Status status = RetryWithBackoff(
      FastOptions(5),
      [&](int) {
        ++calls;
        return absl::FailedPreconditionError("spec digest mismatch");
      },
      [](absl::Duration) { FAIL() << "must not sleep"; });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls, 1);
}

TEST(RetryTest, DeadlineExceededIsNotRetried) {
  // A started RPC that ran out of time may have reached the server.
  int calls = 0;
  const absl::Status status = RetryWithBackoff(
      FastOptions(5),
      [&](int) {
        ++calls;
        return absl::DeadlineExceededError("slow");
      },
      [](absl::Duration) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(calls, 1);
}

TEST(RetryTest, GivesUpAfterMaxAttempts) {
  int calls = 0;
  std::vector<absl::Duration> sleeps;
  const absl::Status status = RetryWithBackoff(
      FastOptions(4),
      [&](int) {
        ++calls;
        return absl::UnavailableError("connection refused");
      },
      [&](absl::Duration pause) { sleeps.push_back(pause); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("connection refused"), absl::string_view::npos);
  EXPECT_NE(status.message().find("after 4 attempts"), absl::string_view::npos);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(sleeps.size(), 3u);
  for (absl::Duration pause : sleeps) EXPECT_LE(pause, absl::Milliseconds(400));
}

TEST(RetryTest, BackoffIsBounded) {
  const RetryOptions options = FastOptions(10);
  EXPECT_EQ(BackoffCeiling(options, 1), absl::Milliseconds(100));
  EXPECT_EQ(BackoffCeiling(options, 2), absl::Milliseconds(200));
  EXPECT_EQ(BackoffCeiling(options, 3), absl::Milliseconds(400));
  EXPECT_EQ(BackoffCeiling(options, 9), absl::Milliseconds(400));
}

TEST(RetryTest, RefusesInvalidOptions) {
  RetryOptions options;
  options.max_attempts = 0;
  EXPECT_EQ(RetryWithBackoff(options, [](int) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "handshake failed"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "handshake failed");
  EXPECT_TRUE(IsTransient(status));
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                        "not a federation member"))
                .code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace epgfn
