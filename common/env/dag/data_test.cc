#include "common/env/dag/data.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

// ParseTable of `text` (named `source`) is refused with every fragment in
// its message.
void ExpectTableRefused(const std::string& text,
                        const std::vector<std::string>& columns,
                        const std::vector<std::string>& fragments,
                        const std::string& source = "lab.tsv") {
  auto data = ParseTable(text, source, columns);
  ASSERT_FALSE(data.ok()) << text;
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  for (const std::string& fragment : fragments) {
    EXPECT_NE(data.status().message().find(fragment), std::string::npos)
        << "'" << fragment << "' missing from: " << data.status();
  }
}

void ExpectCsvRefused(const std::string& text,
                      const std::vector<std::string>& fragments) {
  ExpectTableRefused(text, {}, fragments, "test.csv");
}

TEST(CsvTest, ParsesHeaderAndRows) {
  auto data = ParseCsv("a, b,c\r\n1,2.5,-3\n\n 4 ,5e-1,6\n", "x.csv");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(data->rows, 2);
  EXPECT_EQ(data->values, (std::vector<double>{1, 2.5, -3, 4, 0.5, 6}));
  EXPECT_EQ(data->at(1, 1), 0.5);
  Dataset subset = data->Subset({1});
  EXPECT_EQ(subset.rows, 1);
  EXPECT_EQ(subset.values, (std::vector<double>{4, 0.5, 6}));
}

TEST(CsvTest, ErrorsNameTheLineAndColumn) {
  ExpectCsvRefused("", {"test.csv", "empty"});
  ExpectCsvRefused("\n\n", {"empty"});
  ExpectCsvRefused("a,b\n", {"0 data row", "at least 2"});
  ExpectCsvRefused("a,b\n1,2\n", {"1 data row", "at least 2"});
  ExpectCsvRefused("a,b\n1,2\n3\n", {"line 3", "expected 2", "found 1"});
  ExpectCsvRefused("a,b\n1,2\n3,4,5\n", {"line 3", "found 3"});
  ExpectCsvRefused("a,b\n1,2\n3,x4\n", {"line 3", "column 2", "(b)", "'x4'"});
  ExpectCsvRefused("a,b\n1,nan\n3,4\n", {"line 2", "column 2", "'nan'"});
  ExpectCsvRefused("a,b\n1,\n3,4\n", {"line 2", "column 2"});
  ExpectCsvRefused("a,,c\n1,2,3\n", {"line 1", "column 2", "header"});
}

TEST(TableTest, TsvAndCsvReadTheSame) {
  auto csv = ParseTable("a,b\n1,2\n3,4.5\n", "x.csv");
  auto tsv = ParseTable("a\tb\n1\t2\n3\t4.5\n", "x.tsv");
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_TRUE(tsv.ok()) << tsv.status();
  EXPECT_EQ(csv->names, tsv->names);
  EXPECT_EQ(csv->values, tsv->values);
}

TEST(TableTest, SelectsColumnsByNameInAnyOrder) {
  std::vector<std::string> ignored;
  auto data = ParseTable("\"c\",cond,a,b\n3,ctrl,1,2\n6,drug,4,5\n", "lab.csv",
                         {"a", "b", "c"}, &ignored);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(data->values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  // The text column is never parsed, only reported.
  EXPECT_EQ(ignored, (std::vector<std::string>{"cond"}));
}

TEST(TableTest, ErrorsNameTheFileRowAndColumn) {
  const std::vector<std::string> ab = {"a", "b"};
  ExpectTableRefused("a\tc\n1\t2\n3\t4\n", ab,
                     {"lab.tsv", "line 1", "no column 'b'", "a, c"});
  ExpectTableRefused("b\ta\n1\t2\n3\tx\n", ab,
                     {"lab.tsv", "line 3", "data row 2", "(a)", "'x'"});
  ExpectTableRefused("b\ta\n1\tinf\n3\t4\n", ab,
                     {"lab.tsv", "line 2", "data row 1", "(a)", "'inf'"});
  ExpectTableRefused("a\tb\n1\t2\n", ab, {"lab.tsv", "1 data row"});
  ExpectTableRefused("a\tb\ta\n1\t2\t3\n", ab, {"line 1", "column 3", "twice"});
  ExpectTableRefused("a\tb\n1\t2\n3\n", ab,
                     {"line 3", "data row 2", "found 1"});
}

TEST(TableTest, StandardizeGivesZeroMeanUnitVariance) {
  auto data = ParseTable("a,b\n1,10\n2,10\n3,13\n", "x.csv");
  ASSERT_TRUE(data.ok());
  Dataset copy = *data;
  ASSERT_TRUE(Standardize(&copy, "x.csv").ok());
  for (int c = 0; c < 2; ++c) {
    double sum = 0, squares = 0;
    for (int r = 0; r < 3; ++r) sum += copy.at(r, c);
    for (int r = 0; r < 3; ++r) squares += copy.at(r, c) * copy.at(r, c);
    EXPECT_NEAR(sum, 0.0, 1e-12);
    EXPECT_NEAR(squares / 2, 1.0, 1e-12);
  }
  EXPECT_NEAR(copy.at(0, 0), -1.0, 1e-12);
  auto constant = ParseTable("a,b\n1,5\n2,5\n", "x.csv");
  ASSERT_TRUE(constant.ok());
  const absl::Status status = Standardize(&*constant, "x.csv");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'b'"), std::string::npos) << status;
}

TEST(CsvTest, MissingFileIsNotFound) {
  auto data = ReadCsv("/nonexistent/epgfn/data.csv");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
}

TEST(SyntheticTest, DeterministicForASeedAndSeedMatters) {
  auto first = SampleLinearGaussianNetwork(5, 0.5, 200, 7);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = SampleLinearGaussianNetwork(5, 0.5, 200, 7);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first->adjacency, again->adjacency);
  EXPECT_EQ(first->weights, again->weights);
  EXPECT_EQ(first->data.values, again->data.values);
  auto other = SampleLinearGaussianNetwork(5, 0.5, 200, 8);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first->data.values, other->data.values);
  EXPECT_EQ(first->data.rows, 200);
  EXPECT_EQ(first->data.columns(), 5);
  EXPECT_EQ(first->data.names[4], "x4");
}

// A fixed value pins the stream itself (mt19937_64 + our own transforms), so
// a change of standard library or of the generator code shows up here.
TEST(SyntheticTest, StreamIsPinned) {
  auto network = SampleLinearGaussianNetwork(3, 0.5, 4, 1);
  ASSERT_TRUE(network.ok());
  EXPECT_EQ(network->adjacency,
            (std::vector<int64_t>{0, 0, 0, 1, 0, 0, 0, 0, 0}));  // 1 -> 0
  // libm's log/cos may differ in the last bit across platforms.
  ASSERT_EQ(network->data.values.size(), 12u);
  EXPECT_NEAR(network->data.values[0], 1.3147692213101008, 1e-12);
  EXPECT_NEAR(network->data.values[1], 0.47822786807924422, 1e-12);
  EXPECT_NEAR(network->data.values[2], 2.7172577162731728, 1e-12);
  EXPECT_NEAR(network->data.values[11], -0.12508444472954089, 1e-12);
}

TEST(SyntheticTest, GraphIsAcyclicWithWeightsInRange) {
  for (int seed = 0; seed < 20; ++seed) {
    auto network = SampleLinearGaussianNetwork(6, 0.6, 10, seed);
    ASSERT_TRUE(network.ok());
    const int d = 6;
    // Kahn's algorithm removes every node iff the graph is acyclic.
    std::vector<int> indegree(d, 0);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        const double w = network->weights[i * d + j];
        if (network->adjacency[i * d + j]) {
          ++indegree[j];
          EXPECT_GE(std::abs(w), 0.5);
          EXPECT_LE(std::abs(w), 2.0);
        } else {
          EXPECT_EQ(w, 0.0);
        }
      }
    }
    std::vector<int> ready;
    for (int j = 0; j < d; ++j) {
      if (indegree[j] == 0) ready.push_back(j);
    }
    int removed = 0;
    while (!ready.empty()) {
      const int i = ready.back();
      ready.pop_back();
      ++removed;
      for (int j = 0; j < d; ++j) {
        if (network->adjacency[i * d + j] && --indegree[j] == 0) {
          ready.push_back(j);
        }
      }
    }
    EXPECT_EQ(removed, d) << "seed " << seed;
  }
}

TEST(SyntheticTest, SamplesFollowTheModel) {
  // x1 = w x0 + e with everything else absent: regressing x1 on x0 over many
  // rows recovers w, and the residual variance is about 1.
  auto network = SampleLinearGaussianNetwork(2, 1.0, 20000, 3);
  ASSERT_TRUE(network.ok());
  const bool forward = network->adjacency[0 * 2 + 1] == 1;
  const int parent = forward ? 0 : 1;
  const int child = 1 - parent;
  const double w = network->weights[parent * 2 + child];
  double sxx = 0, sxy = 0;
  for (int64_t r = 0; r < network->data.rows; ++r) {
    sxx += network->data.at(r, parent) * network->data.at(r, parent);
    sxy += network->data.at(r, parent) * network->data.at(r, child);
  }
  EXPECT_NEAR(sxy / sxx, w, 0.05);
  EXPECT_NEAR(sxx / network->data.rows, 1.0, 0.05);
}

TEST(SyntheticTest, BadArgumentsAreRefused) {
  EXPECT_FALSE(SampleLinearGaussianNetwork(0, 0.5, 10, 1).ok());
  EXPECT_FALSE(SampleLinearGaussianNetwork(3, 1.5, 10, 1).ok());
  EXPECT_FALSE(SampleLinearGaussianNetwork(3, 0.5, 0, 1).ok());
}

TEST(ClientRowsTest, SplitsArePartitions) {
  for (const std::string split : {"contiguous", "random"}) {
    std::set<int64_t> seen;
    int64_t total = 0;
    for (int index = 0; index < 3; ++index) {
      auto rows = ClientRows(10, index, 3, split, 5);
      ASSERT_TRUE(rows.ok()) << rows.status();
      EXPECT_GE(rows->size(), 3u);
      total += rows->size();
      seen.insert(rows->begin(), rows->end());
    }
    EXPECT_EQ(total, 10);
    EXPECT_EQ(seen.size(), 10u);
  }
  EXPECT_EQ(*ClientRows(10, 1, 3, "contiguous", 0),
            (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(*ClientRows(10, 1, 3, "random", 5),
            *ClientRows(10, 1, 3, "random", 5));
  EXPECT_NE(*ClientRows(10, 1, 3, "random", 5),
            *ClientRows(10, 1, 3, "random", 6));
  EXPECT_FALSE(ClientRows(2, 0, 3, "contiguous", 0).ok());
  EXPECT_FALSE(ClientRows(10, 3, 3, "contiguous", 0).ok());
  auto bad = ClientRows(10, 0, 3, "striped", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("striped"), std::string::npos);
}

}  // namespace
}  // namespace epgfn
