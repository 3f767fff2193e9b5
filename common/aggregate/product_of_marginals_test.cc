#include "common/aggregate/product_of_marginals.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ProductOfMarginalsTest, MultipliesPerCoordinateMarginalsAcrossClients) {
  // Objects: all pairs over {0,1}.
  torch::Tensor terminals =
      torch::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}}, torch::kInt64);
  // Client A: first coordinate 0 three times out of four; second uniform.
  torch::Tensor a = torch::tensor({{0, 0}, {0, 1}, {0, 0}, {1, 1}}, torch::kInt64);
  // Client B: second coordinate 1 always.
  torch::Tensor b = torch::tensor({{0, 1}, {1, 1}}, torch::kInt64);
  const double s = 0.5;
  auto q = ProductOfMarginalsDistribution({a, b}, terminals, s);
  ASSERT_TRUE(q.ok()) << q.status();
  // Smoothed marginals: A0 = (3.5, 1.5)/5, A1 = (2.5, 2.5)/5,
  // B0 = (1.5, 1.5)/3, B1 = (0.5, 2.5)/3.
  auto score = [](double a0, double a1, double b0, double b1) {
    return a0 * a1 * b0 * b1;
  };
  std::vector<double> expected = {score(3.5, 2.5, 1.5, 0.5),
                                  score(3.5, 2.5, 1.5, 2.5),
                                  score(1.5, 2.5, 1.5, 0.5),
                                  score(1.5, 2.5, 1.5, 2.5)};
  double total = 0;
  for (double e : expected) total += e;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR((*q)[i].item<double>(), expected[i] / total, 1e-12);
  }
}

TEST(ProductOfMarginalsTest, RefusesMalformedSamples) {
  torch::Tensor terminals = torch::tensor({{0, 0}, {1, 1}}, torch::kInt64);
  EXPECT_FALSE(ProductOfMarginalsDistribution({}, terminals).ok());
  EXPECT_FALSE(ProductOfMarginalsDistribution(
                   {torch::zeros({3, 3}, torch::kInt64)}, terminals)
                   .ok());
  EXPECT_FALSE(ProductOfMarginalsDistribution(
                   {torch::zeros({3, 2}, torch::kInt64)}, terminals, 0.0)
                   .ok());
}

}  // namespace
}  // namespace epgfn
