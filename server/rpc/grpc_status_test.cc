#include "server/rpc/grpc_status.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ScrubServerPathsTest, ReplacesAbsolutePathsOnly) {
  EXPECT_EQ(ScrubServerPaths("cannot create '/var/lib/epgfn/uploads/c.tmp': "
                             "Not a directory"),
            "cannot create '<server path>': Not a directory");
  EXPECT_EQ(ScrubServerPaths("/srv/state/global/v1.model: short read"),
            "<server path>: short read");
  EXPECT_EQ(ScrubServerPaths("reading (/a/b) and path=/c/d"),
            "reading (<server path>) and path=<server path>");
  // Not paths: ratios, fractions, a lone slash, URLs' inner slashes.
  EXPECT_EQ(ScrubServerPaths("iteration 40/400, 3 / 4, a/b"),
            "iteration 40/400, 3 / 4, a/b");
}

TEST(ToGrpcStatusTest, KeepsTheCodeAndScrubsTheMessage) {
  grpc::Status status = ToGrpcStatus(
      absl::FailedPreconditionError("cannot create '/state/x': Not a dir"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "cannot create '<server path>': Not a dir");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GuardedCallTest, AnExceptionBecomesInternal) {
  grpc::Status status = GuardedCall("Sampler/Sample", []() -> grpc::Status {
    throw std::runtime_error("Expected all tensors to be on the same device");
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(),
            "internal error in Sampler/Sample (the server logged it as "
            "event=rpc_exception)");
  status = GuardedCall("X/Y", []() -> grpc::Status { throw 42; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_TRUE(GuardedCall("X/Y", [] { return grpc::Status::OK; }).ok());
}

}  // namespace
}  // namespace epgfn
