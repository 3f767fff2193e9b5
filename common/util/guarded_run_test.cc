#include "common/util/guarded_run.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(GuardedRunTest, ExitCodeFollowsTheStatusAndExceptionsBecomeErrors) {
  EXPECT_EQ(GuardedRun("tool", [] { return absl::OkStatus(); }), 0);
  testing::internal::CaptureStderr();
  EXPECT_EQ(GuardedRun("tool", [] { return absl::NotFoundError("no file"); }),
            1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: NOT_FOUND: no file\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(
      GuardedRun("tool",
                 []() -> absl::Status { throw std::runtime_error("boom"); }),
      1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: INTERNAL: unexpected exception: boom\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(GuardedRun("tool", []() -> absl::Status { throw 7; }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: INTERNAL: unexpected exception of unknown type\n");
}

}  // namespace
}  // namespace epgfn
