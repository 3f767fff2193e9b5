#include "server/core/upload_admission.h"

#include <atomic>
#include <optional>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

UploadLimits Limits() {
  UploadLimits limits;
  limits.max_concurrent_uploads = 3;
  limits.max_concurrent_uploads_per_client = 1;
  limits.max_buffered_bytes = 1000;
  limits.idle_timeout = absl::Seconds(30);
  return limits;
}

TEST(UploadAdmissionTest, CapsStreamsInTotalAndPerClient) {
  auto admission = *UploadAdmission::Create(Limits());
  std::optional<UploadAdmission::Stream> a, b, c;
  a.emplace(*admission->Open(nullptr));
  b.emplace(*admission->Open(nullptr));
  c.emplace(*admission->Open(nullptr));
  absl::StatusOr<UploadAdmission::Stream> d = admission->Open(nullptr);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("3 uploads"));

  EXPECT_TRUE(a->Claim("client-0", 100).ok());
  absl::Status second = b->Claim("client-0", 100);
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(second.message()), HasSubstr("client-0"));
  EXPECT_TRUE(b->Claim("client-1", 100).ok());
  EXPECT_EQ(admission->open_streams(), 3);

  a.reset();  // finished: its places are free again
  EXPECT_EQ(admission->open_streams(), 2);
  EXPECT_TRUE(admission->Open(nullptr).ok());
  EXPECT_TRUE(c->Claim("client-0", 100).ok());
}

TEST(UploadAdmissionTest, BoundsTheBytesBufferedByAllStreams) {
  auto admission = *UploadAdmission::Create(Limits());
  auto a = *admission->Open(nullptr);
  auto b = *admission->Open(nullptr);
  EXPECT_TRUE(a.Claim("client-0", 700).ok());
  absl::Status refused = b.Claim("client-1", 301);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("hold 700 of 1000"));
  EXPECT_TRUE(b.Claim("client-1", 300).ok());
  EXPECT_EQ(admission->buffered_bytes(), 1000);
}

TEST(UploadAdmissionTest, CancelsIdleStreamsOnly) {
  UploadLimits limits = Limits();
  limits.idle_timeout = absl::Milliseconds(200);
  auto admission = *UploadAdmission::Create(limits);
  std::atomic<int> idle_cancelled{0}, busy_cancelled{0};
  auto idle = *admission->Open([&] { ++idle_cancelled; });
  auto busy = *admission->Open([&] { ++busy_cancelled; });
  const absl::Time end = absl::Now() + absl::Milliseconds(800);
  while (absl::Now() < end) {
    busy.Touch();
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(idle_cancelled, 1);  // once, not at every check
  EXPECT_TRUE(idle.timed_out());
  EXPECT_EQ(busy_cancelled, 0);
  EXPECT_FALSE(busy.timed_out());

  limits.idle_timeout = absl::ZeroDuration();
  EXPECT_FALSE(UploadAdmission::Create(limits).ok());
}

}  // namespace
}  // namespace epgfn
