#include "common/env/dag/edge_marginals.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "common/env/dag/bge.h"
#include "common/env/dag/data.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// BGe local scores of `rows` samples from a seeded random linear-Gaussian
// network on `nodes` variables.
std::vector<double> SyntheticLocalScores(int64_t nodes, int64_t rows,
                                         int64_t seed) {
  absl::StatusOr<LinearGaussianNetwork> network =
      SampleLinearGaussianNetwork(nodes, 0.5, rows, seed);
  EXPECT_TRUE(network.ok()) << network.status();
  absl::StatusOr<BGeScore> score = BGeScore::Create(network->data, 1.0, 0.0);
  EXPECT_TRUE(score.ok()) << score.status();
  return score->local_scores();
}

// The summed local scores of `clients` contiguous shares of one dataset.
std::vector<double> ProductLocalScores(int64_t nodes, int64_t rows,
                                       int64_t clients, int64_t seed) {
  absl::StatusOr<LinearGaussianNetwork> network =
      SampleLinearGaussianNetwork(nodes, 0.5, rows, seed);
  EXPECT_TRUE(network.ok()) << network.status();
  std::vector<BGeScore> scores;
  for (int64_t c = 0; c < clients; ++c) {
    absl::StatusOr<std::vector<int64_t>> share =
        ClientRows(rows, c, clients, "contiguous", 0);
    EXPECT_TRUE(share.ok()) << share.status();
    absl::StatusOr<BGeScore> score =
        BGeScore::Create(network->data.Subset(*share), 1.0, 0.0);
    EXPECT_TRUE(score.ok()) << score.status();
    scores.push_back(*std::move(score));
  }
  absl::StatusOr<std::vector<double>> sum = SumLocalScores(scores);
  EXPECT_TRUE(sum.ok()) << sum.status();
  return *sum;
}

void ExpectMatchesEnumeration(int64_t nodes,
                              const std::vector<double>& local_scores,
                              const ModularDagPosteriorOptions& options) {
  absl::StatusOr<EdgeMarginals> dp =
      ComputeEdgeMarginals(nodes, local_scores, options);
  ASSERT_TRUE(dp.ok()) << dp.status();
  absl::StatusOr<EdgeMarginals> reference =
      EdgeMarginalsByEnumeration(nodes, local_scores, options);
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_NEAR(dp->log_normalizer, reference->log_normalizer, 1e-9);
  EXPECT_LT(dp->normalizer_check, 1e-9);
  double informative = 0.0;  // how far the marginals are from all-equal
  for (int64_t i = 0; i < nodes; ++i) {
    for (int64_t j = 0; j < nodes; ++j) {
      EXPECT_NEAR(dp->at(i, j), reference->at(i, j), 1e-9)
          << "edge " << i << " -> " << j;
      informative = std::max(
          informative, std::abs(reference->at(i, j) - reference->at(0, 1)));
    }
  }
  // A target whose marginals are all alike would not test much.
  EXPECT_GT(informative, 0.05);
}

ModularDagPosteriorOptions Options(double edge_penalty, int64_t max_parents) {
  ModularDagPosteriorOptions options;
  options.edge_penalty = edge_penalty;
  options.max_parents = max_parents;
  return options;
}

TEST(EdgeMarginalsTest, UniformOverDagsOnThreeNodesByHand) {
  // 25 labelled DAGs on 3 nodes (1 empty, 6 with one edge, 12 with two, 6
  // with three); they hold 48 edges, 8 per ordered pair, so P = 8/25.
  const std::vector<double> zeros(3 * 8, 0.0);
  absl::StatusOr<EdgeMarginals> marginals =
      ComputeEdgeMarginals(3, zeros, ModularDagPosteriorOptions());
  ASSERT_TRUE(marginals.ok()) << marginals.status();
  EXPECT_NEAR(marginals->log_normalizer, std::log(25.0), 1e-12);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_NEAR(marginals->at(i, j), i == j ? 0.0 : 8.0 / 25.0, 1e-12);
    }
  }
}

TEST(EdgeMarginalsTest, CountsLabelledDagsBeyondEnumeration) {
  // OEIS A003024: 1, 3, 25, 543, 29281, 3781503, 1138779265.
  const double counts[] = {1, 3, 25, 543, 29281, 3781503, 1138779265};
  for (int64_t d = 1; d <= 7; ++d) {
    const std::vector<double> zeros(d << d, 0.0);
    absl::StatusOr<EdgeMarginals> marginals =
        ComputeEdgeMarginals(d, zeros, ModularDagPosteriorOptions());
    ASSERT_TRUE(marginals.ok()) << marginals.status();
    EXPECT_NEAR(marginals->log_normalizer, std::log(counts[d - 1]), 1e-10)
        << "d = " << d;
  }
}

TEST(EdgeMarginalsTest, EnumerationCountsDags) {
  for (int64_t d : {1, 2, 3, 4, 5}) {
    absl::StatusOr<std::vector<uint32_t>> dags = EnumerateDagParentMasks(d);
    ASSERT_TRUE(dags.ok()) << dags.status();
    const int64_t expected[] = {1, 3, 25, 543, 29281};
    EXPECT_EQ(static_cast<int64_t>(dags->size()), expected[d - 1] * d);
  }
  EXPECT_FALSE(EnumerateDagParentMasks(6).ok());
}

TEST(EdgeMarginalsTest, FullDataMatchesEnumerationUniformPrior) {
  ExpectMatchesEnumeration(4, SyntheticLocalScores(4, 20, 1), Options(0, -1));
  ExpectMatchesEnumeration(5, SyntheticLocalScores(5, 20, 2), Options(0, -1));
}

TEST(EdgeMarginalsTest, FullDataMatchesEnumerationEdgePrior) {
  ExpectMatchesEnumeration(4, SyntheticLocalScores(4, 20, 3), Options(1, -1));
  ExpectMatchesEnumeration(5, SyntheticLocalScores(5, 20, 4), Options(2, -1));
}

TEST(EdgeMarginalsTest, ThreeClientProductMatchesEnumeration) {
  for (double penalty : {0.0, 1.0}) {
    ExpectMatchesEnumeration(4, ProductLocalScores(4, 30, 3, 5),
                             Options(penalty, -1));
    ExpectMatchesEnumeration(5, ProductLocalScores(5, 30, 3, 6),
                             Options(penalty, -1));
  }
}

TEST(EdgeMarginalsTest, MaxParentsMatchesEnumeration) {
  for (int64_t max_parents : {0, 1, 2}) {
    // max_parents = 0 leaves only the empty graph: every marginal is 0.
    const std::vector<double> scores = SyntheticLocalScores(5, 20, 7);
    absl::StatusOr<EdgeMarginals> dp =
        ComputeEdgeMarginals(5, scores, Options(0.5, max_parents));
    ASSERT_TRUE(dp.ok()) << dp.status();
    absl::StatusOr<EdgeMarginals> reference =
        EdgeMarginalsByEnumeration(5, scores, Options(0.5, max_parents));
    ASSERT_TRUE(reference.ok()) << reference.status();
    EXPECT_NEAR(dp->log_normalizer, reference->log_normalizer, 1e-9);
    for (int64_t k = 0; k < 25; ++k) {
      EXPECT_NEAR(dp->probabilities[k], reference->probabilities[k], 1e-9);
    }
  }
  ExpectMatchesEnumeration(4, ProductLocalScores(4, 30, 3, 8), Options(0, 1));
}

TEST(EdgeMarginalsTest, ArbitraryModularScoresMatchEnumeration) {
  // Not score equivalent, not BGe: any modular target must work.
  std::mt19937_64 generator(11);
  std::uniform_real_distribution<double> uniform(-3.0, 3.0);
  std::vector<double> scores(5 << 5);
  for (double& score : scores) score = uniform(generator);
  ExpectMatchesEnumeration(5, scores, Options(0, -1));
  ExpectMatchesEnumeration(5, scores, Options(-0.5, 3));
}

TEST(EdgeMarginalsTest, PeakedPosteriorAtElevenNodesStaysConsistent) {
  // Scores near -1e4, as on real data with thousands of rows.
  const std::vector<double> scores = SyntheticLocalScores(11, 2000, 9);
  absl::StatusOr<EdgeMarginals> marginals =
      ComputeEdgeMarginals(11, scores, ModularDagPosteriorOptions());
  ASSERT_TRUE(marginals.ok()) << marginals.status();
  EXPECT_LT(marginals->normalizer_check, 1e-9);
  for (int64_t i = 0; i < 11; ++i) {
    for (int64_t j = 0; j < 11; ++j) {
      const double p = marginals->at(i, j);
      EXPECT_TRUE(p >= 0.0 && p <= 1.0) << p;
      // P(i -> j) + P(j -> i) <= 1: the two are disjoint events.
      EXPECT_LE(p + marginals->at(j, i), 1.0 + 1e-9);
    }
  }
}

TEST(EdgeMarginalsTest, RejectsBadInput) {
  const std::vector<double> scores(4 << 4, 0.0);
  EXPECT_FALSE(ComputeEdgeMarginals(0, {}, Options(0, -1)).ok());
  EXPECT_FALSE(ComputeEdgeMarginals(17, {}, Options(0, -1)).ok());
  EXPECT_FALSE(ComputeEdgeMarginals(5, scores, Options(0, -1)).ok());
  EXPECT_FALSE(
      ComputeEdgeMarginals(4, scores,
                           Options(std::numeric_limits<double>::infinity(), -1))
          .ok());
  EXPECT_FALSE(ComputeEdgeMarginals(4, scores, Options(0, -2)).ok());
  std::vector<double> with_nan = scores;
  with_nan[1 * 16 + 5] = std::nan("");  // node 1, parents {0, 2}
  const absl::Status status =
      ComputeEdgeMarginals(4, with_nan, Options(0, -1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("node 1 with parent mask 5"),
            std::string::npos)
      << status;
  // A non-finite entry whose mask holds the node itself is never used.
  with_nan[1 * 16 + 5] = 0.0;
  with_nan[1 * 16 + 2] = std::nan("");
  EXPECT_TRUE(ComputeEdgeMarginals(4, with_nan, Options(0, -1)).ok());
  EXPECT_FALSE(SumLocalScores({}).ok());
}

}  // namespace
}  // namespace epgfn
