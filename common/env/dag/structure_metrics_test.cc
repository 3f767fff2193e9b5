#include "common/env/dag/structure_metrics.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(RankingTest, TiesCountHalfAndEnterPrecisionRecallAsOneStep) {
  // Positives at 0.9 and 0.7; negatives at 0.8, 0.7 (tied) and 0.1.
  // AUROC: 0.9 beats all 3 negatives, 0.7 beats 0.1 and ties 0.7 ->
  // (3 + 1.5) / 6. AP: the group {0.9} gives precision 1 at recall 1/2,
  // the tied group {0.7, 0.7} precision 2/4 at recall 1 -> 1/2 + 1/4.
  const std::vector<double> scores = {0.9, 0.8, 0.7, 0.7, 0.1};
  const std::vector<int64_t> labels = {1, 0, 1, 0, 0};
  EXPECT_DOUBLE_EQ(*Auroc(scores, labels), 0.75);
  EXPECT_DOUBLE_EQ(*AveragePrecision(scores, labels), 0.75);
  // The order of the input does not matter.
  EXPECT_DOUBLE_EQ(*Auroc({0.7, 0.1, 0.9, 0.7, 0.8}, {0, 0, 1, 1, 0}), 0.75);
  EXPECT_DOUBLE_EQ(
      *AveragePrecision({0.7, 0.1, 0.9, 0.7, 0.8}, {0, 0, 1, 1, 0}), 0.75);
}

TEST(RankingTest, AllTiedAndPerfectAndReversed) {
  // One tied group: AUROC 1/2, AP = the positive rate (2 of 5).
  EXPECT_DOUBLE_EQ(*Auroc({1, 1, 1, 1, 1}, {1, 0, 1, 0, 0}), 0.5);
  EXPECT_DOUBLE_EQ(*AveragePrecision({1, 1, 1, 1, 1}, {1, 0, 1, 0, 0}), 0.4);
  EXPECT_DOUBLE_EQ(*Auroc({0.9, 0.8, 0.1}, {1, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(*AveragePrecision({0.9, 0.8, 0.1}, {1, 1, 0}), 1.0);
  // Worst order: the positive last, precision 1/3 at recall 1.
  EXPECT_DOUBLE_EQ(*Auroc({0.1, 0.8, 0.9}, {1, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(*AveragePrecision({0.1, 0.8, 0.9}, {1, 0, 0}), 1.0 / 3);
}

TEST(RankingTest, RejectsBadInput) {
  EXPECT_FALSE(Auroc({0.5, 0.5}, {1}).ok());
  EXPECT_FALSE(Auroc({0.5, 0.5}, {1, 2}).ok());
  EXPECT_FALSE(Auroc({0.5, 0.5}, {1, 1}).ok());
  EXPECT_FALSE(AveragePrecision({0.5, 0.5}, {0, 0}).ok());
  EXPECT_FALSE(Auroc({0.5, std::nan("")}, {1, 0}).ok());
}

// Truth on 3 nodes: 0 -> 1 -> 2.
const std::vector<int64_t> kChain = {0, 1, 0,  //
                                     0, 0, 1,  //
                                     0, 0, 0};

TEST(StructureMetricsTest, ExpectedShdFromMarginalsByHand) {
  // Pair {0,1}: truth 0 -> 1, P = 0.7 -> 0.3. Pair {1,2}: truth 1 -> 2,
  // P = 0.5 -> 0.5. Pair {0,2}: truth none, P(none) = 1 - 0.1 - 0.3 ->
  // 0.4. Hamming: 0.3 + 0.2 + 0.5 + 0 + 0.1 + 0.3.
  const std::vector<double> p = {0.0, 0.7, 0.1,  //
                                 0.2, 0.0, 0.5,  //
                                 0.3, 0.0, 0.0};
  absl::StatusOr<StructureMetrics> metrics =
      EvaluateEdgeMarginals(3, p, kChain);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NEAR(metrics->expected_shd, 1.2, 1e-12);
  EXPECT_NEAR(metrics->expected_hamming, 1.4, 1e-12);
  EXPECT_DOUBLE_EQ(metrics->auroc, 1.0);
  EXPECT_DOUBLE_EQ(metrics->auprc, 1.0);
}

TEST(StructureMetricsTest, PointMassGivesTheGraphsShd) {
  // Estimate 1 -> 0 (reversed), 1 -> 2 (right), 0 -> 2 (extra): SHD 2, the
  // adjacency matrices differ in 3 entries.
  const std::vector<double> p = {0, 0, 1,  //
                                 1, 0, 1,  //
                                 0, 0, 0};
  absl::StatusOr<StructureMetrics> metrics =
      EvaluateEdgeMarginals(3, p, kChain);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_DOUBLE_EQ(metrics->expected_shd, 2.0);
  EXPECT_DOUBLE_EQ(metrics->expected_hamming, 3.0);
  // Score 1 for 1->0, 1->2, 0->2 (one true edge of three), 0 for the other
  // three (one true). AUROC by pairs: the true edge at 1 beats the 2
  // negatives at 0 and ties the 2 at 1; the true edge at 0 ties the 2
  // negatives at 0: (2 + 1 + 1) / (2 x 4) = 0.5. AP: the top group has
  // precision 1/3 at recall 1/2, all six 2/6 at recall 1 -> 1/3.
  EXPECT_DOUBLE_EQ(metrics->auroc, 0.5);
  EXPECT_DOUBLE_EQ(metrics->auprc, 1.0 / 3);
}

TEST(StructureMetricsTest, RejectsBadInput) {
  const std::vector<double> zeros(9, 0.0);
  EXPECT_FALSE(EvaluateEdgeMarginals(3, {0.0}, kChain).ok());
  std::vector<double> both = zeros;
  both[0 * 3 + 1] = 0.6;
  both[1 * 3 + 0] = 0.6;  // P(0->1) + P(1->0) > 1
  EXPECT_FALSE(EvaluateEdgeMarginals(3, both, kChain).ok());
  std::vector<double> diagonal = zeros;
  diagonal[4] = 0.1;
  EXPECT_FALSE(EvaluateEdgeMarginals(3, diagonal, kChain).ok());
  std::vector<double> negative = zeros;
  negative[1] = -0.1;
  EXPECT_FALSE(EvaluateEdgeMarginals(3, negative, kChain).ok());
  std::vector<int64_t> two_cycle = kChain;
  two_cycle[1 * 3 + 0] = 1;
  EXPECT_FALSE(EvaluateEdgeMarginals(3, zeros, two_cycle).ok());
  EXPECT_FALSE(
      EvaluateEdgeMarginals(3, zeros, std::vector<int64_t>(9, 0)).ok());
}

TEST(CompareEdgeMarginalsTest, MaxAndMeanOverOffDiagonalPairs) {
  // Differences 0.1, 0.3, 0, 0, 0.2, 0 on the six pairs; the diagonal (0.5
  // apart here) is not a pair and is ignored.
  const std::vector<double> exact = {0.5, 0.7, 0.1,  //
                                     0.2, 0.0, 0.5,  //
                                     0.3, 0.0, 0.0};
  const std::vector<double> estimate = {0.0, 0.6, 0.4,  //
                                        0.2, 0.0, 0.5,  //
                                        0.1, 0.0, 0.0};
  absl::StatusOr<EdgeMarginalError> error =
      CompareEdgeMarginals(3, estimate, exact);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_NEAR(error->max_abs, 0.3, 1e-12);
  EXPECT_NEAR(error->mean_abs, 0.6 / 6, 1e-12);
  EXPECT_FALSE(CompareEdgeMarginals(3, estimate, {0.0}).ok());
  EXPECT_FALSE(CompareEdgeMarginals(1, {0.0}, {0.0}).ok());
}

}  // namespace
}  // namespace epgfn
