#include "tests/bench/accuracy_schedule.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

// Session 16's reference unless told: the tests up to the lagged ones were
// written for it.
AccuracyRule Rule(int64_t window, int64_t patience,
                  PlateauReference reference = PlateauReference::kBest) {
  AccuracyRule rule;
  rule.target_tv = 0.05;
  rule.window = window;
  rule.min_improvement = 0.005;
  rule.patience = patience;
  rule.reference = reference;
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

// A slow, steady decline (0.004 per evaluation, less than min_improvement)
// never beats the running best by more than 0.005, so the best reference
// calls it a plateau after `patience` evaluations although it fell 0.012;
// the lagged one compares with the TV `patience` evaluations back and
// waits until the curve is flat.
TEST(ChunkMonitorTest, LaggedPlateauFollowsASlowSteadyDecline) {
  const double tvs[] = {0.300, 0.296, 0.292, 0.288, 0.284, 0.284, 0.284};
  ChunkMonitor best(Rule(1, 3, PlateauReference::kBest));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(best.Observe(tvs[i]), ChunkVerdict::kContinue) << i;
  }
  EXPECT_EQ(best.Observe(tvs[3]), ChunkVerdict::kPlateau);

  ChunkMonitor lagged(Rule(1, 3, PlateauReference::kLagged));
  // 0.288 vs 0.300, 0.284 vs 0.296, 0.284 vs 0.292: lower by more than
  // 0.005; then 0.284 vs 0.288: by 0.004, a plateau.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(lagged.Observe(tvs[i]), ChunkVerdict::kContinue) << i;
  }
  EXPECT_EQ(lagged.Observe(tvs[6]), ChunkVerdict::kPlateau);
  EXPECT_DOUBLE_EQ(*lagged.best(), 0.284);
}

// The lagged reference is the smoothed TV (a full window) `patience`
// evaluations earlier, not an instantaneous one.
TEST(ChunkMonitorTest, LaggedPlateauComparesSmoothedWindows) {
  ChunkMonitor monitor(Rule(2, 2, PlateauReference::kLagged));
  EXPECT_EQ(monitor.Observe(0.4), ChunkVerdict::kContinue);
  EXPECT_EQ(monitor.Observe(0.2), ChunkVerdict::kContinue);  // 0.30
  EXPECT_EQ(monitor.Observe(0.3), ChunkVerdict::kContinue);  // 0.25
  // 0.25 against 0.30 (two back): 0.05 lower, no plateau (the
  // instantaneous TVs two apart, 0.2 and 0.2, would be one).
  EXPECT_EQ(monitor.Observe(0.2), ChunkVerdict::kContinue);  // 0.25
  // 0.25 against 0.25: a plateau.
  EXPECT_EQ(monitor.Observe(0.3), ChunkVerdict::kPlateau);
  EXPECT_NEAR(*monitor.smoothed(), 0.25, 1e-12);
}

// "Not lower by more than min_improvement": exactly min_improvement lower
// is a plateau (binary-exact values, so the boundary is the boundary).
TEST(ChunkMonitorTest, LaggedPlateauAtExactlyMinImprovement) {
  AccuracyRule rule = Rule(1, 1, PlateauReference::kLagged);
  rule.min_improvement = 0.125;
  ChunkMonitor exact(rule);
  EXPECT_EQ(exact.Observe(0.5), ChunkVerdict::kContinue);
  EXPECT_EQ(exact.Observe(0.375), ChunkVerdict::kPlateau);
  ChunkMonitor more(rule);
  EXPECT_EQ(more.Observe(0.5), ChunkVerdict::kContinue);
  EXPECT_EQ(more.Observe(0.37), ChunkVerdict::kContinue);
}

// Both references declare a flat curve's plateau at evaluation window +
// patience: 16 at session 16's grid (4, 12: 400 iterations of 25), 40 at
// the finer one (10, 30: 400 iterations of 10).
TEST(ChunkMonitorTest, FirstPlateauAtWindowPlusPatience) {
  struct Grid {
    int64_t window, patience;
  };
  for (const Grid grid : {Grid{4, 12}, Grid{10, 30}}) {
    for (const PlateauReference reference :
         {PlateauReference::kBest, PlateauReference::kLagged}) {
      ChunkMonitor monitor(Rule(grid.window, grid.patience, reference));
      const int64_t first = grid.window + grid.patience;
      for (int64_t i = 1; i < first; ++i) {
        ASSERT_EQ(monitor.Observe(0.2), ChunkVerdict::kContinue)
            << grid.window << "/" << grid.patience << " at " << i;
      }
      EXPECT_EQ(monitor.Observe(0.2), ChunkVerdict::kPlateau)
          << grid.window << "/" << grid.patience;
    }
  }
}

TEST(NextLocalIterationsTest, DoublesUpToTheCapThenStops) {
  EXPECT_EQ(NextLocalIterations(300, 2000, 2.0, 1), 600);
  EXPECT_EQ(NextLocalIterations(1200, 2000, 2.0, 1), 2000);
  EXPECT_EQ(NextLocalIterations(2000, 2000, 2.0, 1), 0);
}

// --local_growth=2 on session 16's grid: its schedule, 300 to 4800.
TEST(NextLocalIterationsTest, GrowthTwoReproducesTheDoubling) {
  const int64_t expected[] = {600, 1200, 2400, 4800, 0};
  int64_t local = 300;
  for (const int64_t next : expected) {
    local = NextLocalIterations(local, 4800, 2.0, 25);
    EXPECT_EQ(local, next);
  }
}

// 1.5x rounded up to the grid of 10: 675 -> 680 and 2295 -> 2300; the
// last step (5175) is capped.
TEST(NextLocalIterationsTest, GrowthOneAndAHalfRoundsUpToTheGrid) {
  const int64_t expected[] = {450, 680, 1020, 1530, 2300, 3450, 4800, 0};
  int64_t local = 300;
  for (const int64_t next : expected) {
    local = NextLocalIterations(local, 4800, 1.5, 10);
    EXPECT_EQ(local, next);
  }
  // A cap off the grid is still the cap.
  EXPECT_EQ(NextLocalIterations(1530, 1999, 1.5, 10), 1999);
}

// 450 x 1.1 is 495.00000000000006 in doubles: still 495, not 496 (or 500
// rather than 495 on a grid of 5).
TEST(NextLocalIterationsTest, ExactProductsAreNotRoundedPastThemselves) {
  EXPECT_EQ(NextLocalIterations(450, 4800, 1.1, 1), 495);
  EXPECT_EQ(NextLocalIterations(450, 4800, 1.1, 5), 495);
  // A growth too small to add an iteration still adds one.
  EXPECT_EQ(NextLocalIterations(300, 4800, 1.0001, 1), 301);
}

}  // namespace
}  // namespace epgfn
