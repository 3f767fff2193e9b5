#include "common/env/dag/bge_statistics.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "common/env/dag/data.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

Dataset Synthetic(int rows, int seed) {
  return SampleLinearGaussianNetwork(4, 0.6, rows, seed).value().data;
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> rows;
  for (int64_t r = begin; r < end; ++r) rows.push_back(r);
  return rows;
}

void ExpectNear(const BgeSufficientStatistics& actual,
                const BgeSufficientStatistics& expected) {
  ASSERT_EQ(actual.names, expected.names);
  ASSERT_EQ(actual.rows, expected.rows);
  for (size_t c = 0; c < expected.mean.size(); ++c) {
    EXPECT_NEAR(actual.mean[c], expected.mean[c], 1e-12) << "mean " << c;
  }
  for (size_t k = 0; k < expected.scatter.size(); ++k) {
    EXPECT_NEAR(actual.scatter[k], expected.scatter[k],
                1e-12 * std::abs(expected.scatter[k]) + 1e-12)
        << "scatter " << k;
  }
}

TEST(BgeStatisticsTest, OfRowsIsTheMeanAndScatterWrittenOut) {
  Dataset data;
  data.names = {"a", "b"};
  data.rows = 3;
  data.values = {1, 2, 3, 5, 5, 2};  // a = 1, 3, 5; b = 2, 5, 2
  const BgeSufficientStatistics s = BgeSufficientStatistics::Of(data);
  EXPECT_EQ(s.rows, 3);
  EXPECT_DOUBLE_EQ(s.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(s.mean[1], 3.0);
  // a - 3 = -2, 0, 2; b - 3 = -1, 2, -1.
  EXPECT_DOUBLE_EQ(s.scatter[0], 8.0);
  EXPECT_DOUBLE_EQ(s.scatter[1], 0.0);
  EXPECT_DOUBLE_EQ(s.scatter[2], 0.0);
  EXPECT_DOUBLE_EQ(s.scatter[3], 6.0);
}

TEST(BgeStatisticsTest, MergedBlocksEqualTheConcatenatedRows) {
  const Dataset data = Synthetic(60, 3);
  // Uneven blocks, merged left to right as a stream would.
  BgeSufficientStatistics merged;
  for (auto [begin, end] :
       std::vector<std::pair<int, int>>{{0, 7}, {7, 30}, {30, 31}, {31, 60}}) {
    ASSERT_TRUE(
        merged
            .Merge(BgeSufficientStatistics::Of(data.Subset(Range(begin, end))))
            .ok());
  }
  ExpectNear(merged, BgeSufficientStatistics::Of(data));
  // Merging empty statistics changes nothing, on either side.
  BgeSufficientStatistics copy = merged;
  ASSERT_TRUE(copy.Merge(BgeSufficientStatistics()).ok());
  ExpectNear(copy, merged);
}

TEST(BgeStatisticsTest, MergeRefusesOtherColumns) {
  BgeSufficientStatistics a = BgeSufficientStatistics::Of(Synthetic(10, 1));
  Dataset renamed = Synthetic(10, 2);
  renamed.names[3] = "other";
  const absl::Status status = a.Merge(BgeSufficientStatistics::Of(renamed));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("other"), std::string::npos) << status;
  EXPECT_EQ(a.rows, 10);  // unchanged
}

TEST(BgeStatisticsTest, TextRoundTripsBitForBit) {
  const BgeSufficientStatistics s =
      BgeSufficientStatistics::Of(Synthetic(45, 5));
  auto parsed = ParseBgeStatistics(SerializeBgeStatistics(s), "s.stats");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->names, s.names);
  EXPECT_EQ(parsed->rows, s.rows);
  EXPECT_EQ(parsed->mean, s.mean);
  EXPECT_EQ(parsed->scatter, s.scatter);

  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/file.stats";
  ASSERT_TRUE(WriteBgeStatistics(path, s).ok());
  auto read = ReadBgeStatistics(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->scatter, s.scatter);
  EXPECT_EQ(ReadBgeStatistics(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BgeStatisticsTest, BadFilesAreRefusedWithTheirLine) {
  const std::string good =
      "epgfn-bge-statistics 1\nnames a;b\nrows 3\nmean 0 1\n"
      "scatter 2 0.5 0.5 1\n";
  ASSERT_TRUE(ParseBgeStatistics(good, "x").ok());
  struct Bad {
    std::string text;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"epgfn-bge-statistics 2\nnames a;b\nrows 3\nmean 0 1\n"
            "scatter 2 0.5 0.5 1\n",
            "line 1: version '2'"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 0\nmean 0 1\n"
            "scatter 2 0.5 0.5 1\n",
            "line 3: rows '0'"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 3\nmean 0\n"
            "scatter 2 0.5 0.5 1\n",
            "line 4: 1 numbers for 2 columns, expected 2"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 3\nmean 0 nan\n"
            "scatter 2 0.5 0.5 1\n",
            "line 4: 'nan' is not a finite number"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 3\nmean 0 1\n"
            "scatter 2 0.5 0.4 1\n",
            "line 5: not symmetric at (1, 0)"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 3\nmean 0 1\n",
            "no 'scatter' line"},
           {"epgfn-bge-statistics 1\nnames a;b\nrows 3\nrows 3\nmean 0 1\n"
            "scatter 2 0.5 0.5 1\n",
            "line 4: 'rows' repeated"},
       }) {
    auto parsed = ParseBgeStatistics(bad.text, "x.stats");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.text;
    EXPECT_NE(parsed.status().message().find("x.stats"), std::string::npos);
    EXPECT_NE(parsed.status().message().find(bad.says), std::string::npos)
        << parsed.status() << " should say " << bad.says;
  }
}

}  // namespace
}  // namespace epgfn
