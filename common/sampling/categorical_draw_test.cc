#include "common/sampling/categorical_draw.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

at::Tensor ByOps(const at::Tensor& probabilities, const at::Tensor& uniform) {
  return DrawCategoriesByOps(probabilities.cumsum(-1), uniform);
}

at::Tensor ByRowLoop(const at::Tensor& probabilities,
                     const at::Tensor& uniform) {
  const at::Tensor cumulative = probabilities.cumsum(-1);
  EXPECT_TRUE(CanDrawByRowLoop(cumulative));
  return DrawCategoriesByRowLoop(cumulative, uniform);
}

// Rows as the rollout makes them: softmax outputs with masked (zero)
// entries and a wide spread of magnitudes, so that the float32 cumulative
// sums round differently depending on how they are accumulated.
at::Tensor RandomProbabilities(int64_t rows, int64_t categories) {
  at::Tensor p = (torch::randn({rows, categories}) * 6.0).softmax(-1);
  p.masked_fill_(torch::rand({rows, categories}) < 0.3, 0.0);
  p.select(1, categories - 1).add_(1e-3);  // no row all zero
  return p;
}

TEST(CategoricalDrawTest, RowLoopGivesTheCategoriesOfTheTensorOps) {
  torch::manual_seed(1);
  for (int64_t categories : {1, 2, 3, 5, 33, 401}) {
    const at::Tensor p = RandomProbabilities(20000, categories);
    at::Tensor uniform = torch::rand({20000, 1});
    // Exact zeros and the smallest draws, which the clamp moves.
    uniform.narrow(0, 0, 100).zero_();
    uniform.narrow(0, 100, 100).fill_(kSmallestPositiveUniform);
    const at::Tensor by_loop = ByRowLoop(p, uniform);
    EXPECT_TRUE(torch::equal(by_loop, ByOps(p, uniform)))
        << categories << " categories";
    EXPECT_EQ(by_loop.scalar_type(), at::kLong);
  }
}

// A threshold exactly on a cumulative value selects the next category with
// both (cumulative < threshold is strict), and the draw never lands on a
// zero-probability category.
TEST(CategoricalDrawTest, ThresholdsOnTheBoundariesAgree) {
  const at::Tensor p = torch::tensor({0.25f, 0.25f, 0.0f, 0.5f}).repeat({5, 1});
  const at::Tensor uniform =
      torch::tensor({0.0f, 0.25f, 0.5f, 0.75f, 1.0f}).unsqueeze(1);
  const at::Tensor expected = torch::tensor({0, 0, 1, 3, 3}, at::kLong);
  EXPECT_TRUE(torch::equal(ByRowLoop(p, uniform), expected));
  EXPECT_TRUE(torch::equal(ByOps(p, uniform), expected));
}

// Partial sums that float32 and double accumulation round differently: 1
// plus four 2^-25 is 1 in float32 steps, 1 + 2^-23 in double (cumsum's
// CPU accumulation). Both ways must read the partial sums as cumsum rounds
// them.
TEST(CategoricalDrawTest, PartialSumsRoundAsCumsumRoundsThem) {
  const float tiny = 1.0f / (1 << 25);
  const at::Tensor p = torch::tensor({1.0f, tiny, tiny, tiny, tiny, 0.0f});
  const at::Tensor rows = p.unsqueeze(0);
  const at::Tensor cumulative = rows.cumsum(-1);
  for (float u : {1.0f, 0.9999999f}) {
    const at::Tensor uniform = torch::tensor({u}).unsqueeze(1);
    EXPECT_TRUE(torch::equal(ByRowLoop(rows, uniform), ByOps(rows, uniform)))
        << "u = " << u << ", cumsum " << cumulative;
  }
}

TEST(CategoricalDrawTest, NonFiniteTotalsAreFound) {
  at::Tensor p = torch::full({3, 4}, 0.25f);
  EXPECT_TRUE(TotalsFiniteByRowLoop(p.cumsum(-1)));
  EXPECT_TRUE(TotalsFiniteByOps(p.cumsum(-1)));
  p[1][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(TotalsFiniteByRowLoop(p.cumsum(-1)));
  EXPECT_FALSE(TotalsFiniteByOps(p.cumsum(-1)));
  p[1][2] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(TotalsFiniteByRowLoop(p.cumsum(-1)));
  EXPECT_FALSE(TotalsFiniteByOps(p.cumsum(-1)));
}

TEST(CategoricalDrawTest, OnlyFloatMatricesTakeTheRowLoop) {
  EXPECT_TRUE(CanDrawByRowLoop(torch::ones({2, 3})));
  EXPECT_FALSE(CanDrawByRowLoop(torch::ones({2, 3}, at::kDouble)));
  EXPECT_FALSE(CanDrawByRowLoop(torch::ones({3})));
  // Transposed (not contiguous) rows are read in row order all the same.
  const at::Tensor cumulative =
      RandomProbabilities(7, 5).cumsum(-1).t().contiguous().t();
  ASSERT_FALSE(cumulative.is_contiguous());
  const at::Tensor uniform = torch::rand({cumulative.size(0), 1});
  EXPECT_TRUE(torch::equal(DrawCategoriesByRowLoop(cumulative, uniform),
                           DrawCategoriesByOps(cumulative, uniform)));
}

}  // namespace
}  // namespace epgfn
