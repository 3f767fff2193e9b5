#include "tests/bench/accuracy_schedule.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

AccuracyRule Rule(int64_t window, int64_t patience) {
  AccuracyRule rule;
  rule.target_tv = 0.05;
  rule.window = window;
  rule.min_improvement = 0.005;
  rule.patience = patience;
  return rule;
}

TEST(ChunkMonitorTest, ReachedAtOrBelowTarget) {
  ChunkMonitor monitor(Rule(1, 2));
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.05), ChunkVerdict::kReached);
}

TEST(ChunkMonitorTest, PlateauAfterPatienceChunksWithoutImprovement) {
  ChunkMonitor monitor(Rule(1, 2));
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.10), ChunkVerdict::kContinue);
  // 0.097 is better, but by less than min_improvement: stale.
  EXPECT_EQ(monitor.Observe(0.097), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.099), ChunkVerdict::kPlateau);
  EXPECT_DOUBLE_EQ(*monitor.best(), 0.097);
}

TEST(ChunkMonitorTest, ImprovementResetsPatience) {
  ChunkMonitor monitor(Rule(1, 2));
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.15), ChunkVerdict::kPlateau);
}

// One lucky chunk below the target does not stop a run whose recent mean
// is above it; the stop comes when the mean of the last `window` is.
TEST(ChunkMonitorTest, SmoothedStopIgnoresOneLuckyChunk) {
  ChunkMonitor monitor(Rule(3, 100));
  EXPECT_EQ(monitor.Observe(0.09), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.04), ChunkVerdict::kContinue);  // not full
  EXPECT_EQ(monitor.Observe(0.07), ChunkVerdict::kContinue);  // mean 0.0667
  EXPECT_NEAR(*monitor.smoothed(), (0.09 + 0.04 + 0.07) / 3, 1e-12);
  EXPECT_EQ(monitor.Observe(0.05), ChunkVerdict::kContinue);  // mean 0.0533
  // The window drops 0.09 and 0.04 in turn: mean (0.07 + 0.05 + 0.02) / 3.
  EXPECT_EQ(monitor.Observe(0.02), ChunkVerdict::kReached);
  EXPECT_NEAR(*monitor.smoothed(), 0.14 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(*monitor.last(), 0.02);
}

TEST(ChunkMonitorTest, NoVerdictBeforeTheWindowIsFull) {
  ChunkMonitor monitor(Rule(4, 1));
  EXPECT_FALSE(monitor.smoothed().has_value());
  // All below the target, all equal (no improvement): neither a stop nor a
  // plateau until four evaluations are in.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(monitor.Observe(0.01), ChunkVerdict::kContinue);
  }
  EXPECT_FALSE(monitor.best().has_value());
  EXPECT_EQ(monitor.Observe(0.01), ChunkVerdict::kReached);
}

// The plateau reads the smoothed TV: alternating 0.20 / 0.10 chunks are a
// flat mean (0.15), although every other chunk is a "new best" of 0.10
// against the instantaneous rule.
TEST(ChunkMonitorTest, PlateauOnTheSmoothedTv) {
  ChunkMonitor monitor(Rule(2, 3));
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.10), ChunkVerdict::kContinue);  // best 0.15
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kContinue);  // stale 1
  EXPECT_EQ(monitor.Observe(0.10), ChunkVerdict::kContinue);  // stale 2
  EXPECT_EQ(monitor.Observe(0.20), ChunkVerdict::kPlateau);   // stale 3
  EXPECT_DOUBLE_EQ(*monitor.best(), 0.15);
}

TEST(NextLocalIterationsTest, DoublesUpToTheCapThenStops) {
  EXPECT_EQ(NextLocalIterations(300, 2000), 600);
  EXPECT_EQ(NextLocalIterations(1200, 2000), 2000);
  EXPECT_EQ(NextLocalIterations(2000, 2000), 0);
}

}  // namespace
}  // namespace epgfn
