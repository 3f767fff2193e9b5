#include "common/util/event_log.h"

#include <cstdint>
#include <sstream>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(EventLogTest, KeyValuePairsAfterTheEventName) {
  const int64_t round = 3;
  EXPECT_EQ(Event("upload_accepted")
                .With("federation", "demo")
                .With("client", std::string("client-0"))
                .With("round", round)
                .With("loss", 0.125)
                .With("reused", false)
                .text(),
            "event=upload_accepted federation=demo client=client-0 round=3 "
            "loss=0.125 reused=false");
}

TEST(EventLogTest, ValuesThatWouldSplitAreQuotedAndEscaped) {
  EXPECT_EQ(EventValue(""), "\"\"");
  EXPECT_EQ(EventValue("a b"), "\"a b\"");
  EXPECT_EQ(EventValue("k=v"), "\"k=v\"");
  EXPECT_EQ(EventValue("say \"hi\"\n\\"), "\"say \\\"hi\\\"\\n\\\\\"");
  EXPECT_EQ(EventValue("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(EventValue("(3,5)"), "(3,5)");
}

TEST(EventLogTest, StatusBecomesCodeAndError) {
  EXPECT_EQ(Event("x").WithStatus(absl::OkStatus()).text(), "event=x code=OK");
  EXPECT_EQ(Event("x")
                .WithStatus(absl::FailedPreconditionError("round 1 is stale"))
                .text(),
            "event=x code=FAILED_PRECONDITION error=\"round 1 is stale\"");
}

TEST(EventLogTest, StreamsItsText) {
  std::ostringstream out;
  out << Event("version_published").With("version", 2);
  EXPECT_EQ(out.str(), "event=version_published version=2");
}

}  // namespace
}  // namespace epgfn
