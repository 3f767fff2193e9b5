#include "server/core/aggregation_state.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr AggregationPhase kAll[] = {
    AggregationPhase::kWaitingForUploads, AggregationPhase::kIdle,
    AggregationPhase::kRunning,           AggregationPhase::kPublishing,
    AggregationPhase::kPublishRetrying,   AggregationPhase::kFailed,
    AggregationPhase::kAllClientsExcluded};

TEST(AggregationStateTest, NamesAreTheWireNamesAndDistinct) {
  // GetStatus reports these strings; operators' scripts read them.
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kWaitingForUploads),
            "waiting_for_uploads");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kIdle), "idle");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kRunning), "running");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kPublishing), "publishing");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kPublishRetrying),
            "publish_retrying");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kFailed), "failed");
  EXPECT_EQ(AggregationPhaseName(AggregationPhase::kAllClientsExcluded),
            "all_clients_excluded");
  std::set<std::string> names;
  for (AggregationPhase phase : kAll) {
    names.insert(std::string(AggregationPhaseName(phase)));
  }
  EXPECT_EQ(names.size(), std::size(kAll));
}

TEST(AggregationStateTest, TransitionsFollowTheTable) {
  using P = AggregationPhase;
  for (P phase : kAll) EXPECT_TRUE(IsAllowedTransition(phase, phase));
  // Resting phases start a run and move among each other.
  EXPECT_TRUE(IsAllowedTransition(P::kWaitingForUploads, P::kRunning));
  EXPECT_TRUE(IsAllowedTransition(P::kFailed, P::kIdle));
  EXPECT_TRUE(IsAllowedTransition(P::kIdle, P::kAllClientsExcluded));
  // A run publishes or fails; only a run publishes.
  EXPECT_TRUE(IsAllowedTransition(P::kRunning, P::kPublishing));
  EXPECT_TRUE(IsAllowedTransition(P::kRunning, P::kFailed));
  EXPECT_FALSE(IsAllowedTransition(P::kRunning, P::kPublishRetrying));
  EXPECT_FALSE(IsAllowedTransition(P::kIdle, P::kPublishing));
  EXPECT_FALSE(IsAllowedTransition(P::kWaitingForUploads, P::kPublishRetrying));
  // A publication ends in idle, through retries if need be, never back in a
  // run or waiting.
  EXPECT_TRUE(IsAllowedTransition(P::kPublishing, P::kPublishRetrying));
  EXPECT_TRUE(IsAllowedTransition(P::kPublishRetrying, P::kIdle));
  EXPECT_FALSE(IsAllowedTransition(P::kPublishing, P::kRunning));
  EXPECT_FALSE(IsAllowedTransition(P::kPublishRetrying, P::kWaitingForUploads));
}

}  // namespace
}  // namespace epgfn
