#include "common/env/dag/product_correction.h"

#include <cmath>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(LaplaceEdgeCorrectionTest, ValuesByHand) {
  // One client: the product is the full-data posterior.
  EXPECT_DOUBLE_EQ(*LaplaceEdgeCorrection({500}), 0.0);
  // (log 10 + log 30 - log 40) / 2 - 1 / 2.
  EXPECT_DOUBLE_EQ(*LaplaceEdgeCorrection({10, 30}), 0.5 * std::log(7.5) - 0.5);
  // Four clients of 1866 rows (Sachs split four ways):
  // (4 log 1866 - log 7464) / 2 - 3 / 2 = 1.5 log 1866 - log 2 - 1.5.
  EXPECT_NEAR(*LaplaceEdgeCorrection({1866, 1866, 1866, 1866}),
              1.5 * std::log(1866.0) - std::log(2.0) - 1.5, 1e-12);
  EXPECT_NEAR(*LaplaceEdgeCorrection({1866, 1866, 1866, 1866}), 9.10, 0.01);
}

TEST(LaplaceEdgeCorrectionTest, RejectsBadCounts) {
  EXPECT_FALSE(LaplaceEdgeCorrection({}).ok());
  EXPECT_FALSE(LaplaceEdgeCorrection({10, 0}).ok());
  EXPECT_FALSE(LaplaceEdgeCorrection({-3}).ok());
}

}  // namespace
}  // namespace epgfn
