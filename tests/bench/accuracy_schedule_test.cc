#include "tests/bench/accuracy_schedule.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ChunkMonitorTest, ReachedAtOrBelowTarget) {
  ChunkMonitor monitor(AccuracyRule{0.05, 0.005, 2});
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.05), ChunkVerdict::kReached);
}

TEST(ChunkMonitorTest, PlateauAfterPatienceChunksWithoutImprovement) {
  ChunkMonitor monitor(AccuracyRule{0.05, 0.005, 2});
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.10), ChunkVerdict::kContinue);
  // 0.097 is better, but by less than min_improvement: stale.
  EXPECT_EQ(monitor.Observe(0.097), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.099), ChunkVerdict::kPlateau);
  EXPECT_DOUBLE_EQ(*monitor.best(), 0.097);
}

TEST(ChunkMonitorTest, ImprovementResetsPatience) {
  ChunkMonitor monitor(AccuracyRule{0.05, 0.005, 2});
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kPlateau);
}

TEST(NextLocalIterationsTest, DoublesUpToTheCapThenStops) {
  EXPECT_EQ(NextLocalIterations(300, 2000), 600);
  EXPECT_EQ(NextLocalIterations(1200, 2000), 2000);
  EXPECT_EQ(NextLocalIterations(2000, 2000), 0);
}

}  // namespace
}  // namespace epgfn
