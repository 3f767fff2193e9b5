// Progress lines come at the configured wall-clock interval, carry every
// field (iteration/total, loss, TV and FCS where given, elapsed, ETA), and
// the last iteration is always reported.
#include "common/train/progress_reporter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProgressReporterTest, OneLinePerIntervalWithEveryField) {
  absl::Time now = absl::UnixEpoch();
  std::vector<std::string> lines;
  ProgressReporter reporter(
      "aggregation", absl::Seconds(10),
      [&](const std::string& line) { lines.push_back(line); },
      [&] { return now; });
  // A callback every 2 s of work, 100 iterations each, 1000 in all.
  for (int64_t iteration = 100; iteration <= 1000; iteration += 100) {
    ProgressPoint point{iteration, 1000, 0.5, 0.125, std::nullopt};
    reporter.Update(point);
    now += absl::Seconds(2);
  }
  // Lines at t = 0 (first point), 10, 18 (last iteration), nothing between.
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "progress aggregation: iteration 100/1000 (10%), loss 0.5, tv "
            "0.1250, elapsed 0.0 s, eta ?");
  // 500 iterations in 10 s since the first point: 400 more take 8 s.
  EXPECT_EQ(lines[1],
            "progress aggregation: iteration 600/1000 (60%), loss 0.5, tv "
            "0.1250, elapsed 10 s, eta 8.0 s");
  EXPECT_THAT(lines[2], HasSubstr("iteration 1000/1000 (100%)"));
  EXPECT_THAT(lines[2], HasSubstr("eta 0.0 s"));
}

TEST(ProgressReporterTest, FcsAndSilence) {
  ProgressPoint point{5, 10, 1.5, std::nullopt, 0.75};
  EXPECT_EQ(FormatProgressLine("local training", point, 3.0, 3.0),
            "progress local training: iteration 5/10 (50%), loss 1.5, fcs "
            "0.7500, elapsed 3.0 s, eta 3.0 s");
  std::vector<std::string> lines;
  ProgressReporter silent(
      "x", absl::ZeroDuration(),
      [&](const std::string& line) { lines.push_back(line); });
  silent.Update(point);
  EXPECT_THAT(lines, ElementsAre());
}

}  // namespace
}  // namespace epgfn
