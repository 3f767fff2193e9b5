#include "common/env/hypergrid/hypergrid.h"

#include <torch/types.h>

#include <cmath>
#include <map>

#include "common/env/environment_registry.h"
#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::unique_ptr<HypergridEnvironment> MakeGrid(const std::string& params) {
  auto config = EnvironmentConfig::Parse("hypergrid:" + params);
  EXPECT_TRUE(config.ok());
  auto grid = HypergridEnvironment::Create(*config);
  EXPECT_TRUE(grid.ok()) << grid.status();
  return std::move(grid).value();
}

TEST(HypergridTest, StateGraphMatchesClosedForms) {
  for (auto [dim, side] : {std::pair<int, int>{2, 8}, {3, 4}, {1, 5}}) {
    auto grid = MakeGrid("dim=" + std::to_string(dim) +
                         ",side=" + std::to_string(side));
    StateGraphCounts counts = CheckStateGraph(*grid);
    const int64_t points = std::pow(side, dim);
    EXPECT_EQ(counts.states, points);
    EXPECT_EQ(counts.terminals, points);
    // Each point has one edge per coordinate below the top.
    EXPECT_EQ(counts.edges, dim * (side - 1) * points / side);
  }
}

TEST(HypergridTest, MaskForbidsLeavingTheGrid) {
  auto grid = MakeGrid("dim=2,side=4");
  torch::Tensor states = torch::tensor({{3, 0}, {3, 3}, {0, 3}}, torch::kInt64);
  torch::Tensor mask = grid->ForwardMask(states);
  EXPECT_TRUE(mask.equal(torch::tensor(
      {{false, true, true}, {false, false, true}, {true, false, true}})));
}

// A transposed copy has the same values but is not contiguous, which sends
// the call down the LibTorch-op path instead of the CPU row loop.
torch::Tensor NonContiguous(const torch::Tensor& states) {
  torch::Tensor strided = states.t().contiguous().t();
  EXPECT_FALSE(strided.is_contiguous());
  return strided;
}

TEST(HypergridTest, RowLoopsGiveTheTensorOpsValuesAndRefusals) {
  auto grid = MakeGrid("dim=3,side=5");
  torch::manual_seed(4);
  const torch::Tensor states = torch::randint(0, 5, {57, 3}, torch::kInt64);
  const torch::Tensor actions = torch::randint(0, 3, {57}, torch::kInt64);
  const torch::Tensor strided = NonContiguous(states);

  const torch::Tensor encoded = grid->Encode(states);
  EXPECT_TRUE(encoded.equal(grid->Encode(strided)));
  EXPECT_EQ(encoded.sizes(), (std::vector<int64_t>{57, 15}));
  EXPECT_EQ(encoded.sum().item<float>(), 57 * 3);
  EXPECT_TRUE(grid->ForwardMask(states).equal(grid->ForwardMask(strided)));
  const torch::Tensor next = grid->Step(states, actions);
  EXPECT_TRUE(next.equal(grid->Step(strided, actions)));
  EXPECT_TRUE((next - states).sum(1).eq(1).all().item<bool>());
  // The input is not written to.
  EXPECT_TRUE(states.equal(strided));

  // Outside the grid, and the exit action, are refused by both paths.
  const torch::Tensor outside = torch::tensor({{0, 5, 1}}, torch::kInt64);
  EXPECT_ANY_THROW(grid->Encode(outside));
  EXPECT_ANY_THROW(grid->Encode(NonContiguous(outside.repeat({2, 1}))));
  const torch::Tensor exit = torch::tensor({3}, torch::kInt64);
  EXPECT_ANY_THROW(grid->Step(states.narrow(0, 0, 1), exit));
  EXPECT_ANY_THROW(
      grid->Step(NonContiguous(states.narrow(0, 0, 2)), exit.repeat({2})));
}

TEST(HypergridTest, StandardRewardHasItsThreeLevels) {
  auto grid = MakeGrid("dim=2,side=8");
  auto reward = MakeSplitLogReward(*grid, {"standard", {}});
  ASSERT_TRUE(reward.ok());
  // (0,0): outer region, not ring -> 0.1 + 0.5; (3,3): centre -> 0.1;
  // (1,1): z = 1/7, |z - .5| = .357 in the ring -> 0.1 + 0.5 + 2.
  torch::Tensor log_r =
      (**reward)(torch::tensor({{0, 0}, {3, 3}, {1, 1}}, torch::kInt64));
  EXPECT_NEAR(log_r[0].item<float>(), std::log(0.6), 1e-6);
  EXPECT_NEAR(log_r[1].item<float>(), std::log(0.1), 1e-6);
  EXPECT_NEAR(log_r[2].item<float>(), std::log(2.6), 1e-6);
}

// Ring coordinates per axis, from the closed form: with a = |2x - (H - 1)|
// (same parity as H - 1), 3/10 < a / (2 (H - 1)) < 4/10, i.e.
// 3 (H - 1) < 5a < 4 (H - 1); each such a > 0 is hit by two coordinates.
int64_t RingCoordinatesPerAxis(int64_t side) {
  int64_t count = 0;
  for (int64_t a = (side - 1) % 2; a <= side - 1; a += 2) {
    if (5 * a > 3 * (side - 1) && 5 * a < 4 * (side - 1)) count += 2;
  }
  return count;
}

TEST(HypergridTest, StandardRewardRingMatchesItsClosedFormAndIsSymmetric) {
  // Hand-checked per-axis counts (side 16: only x = 2, 13; float thresholds
  // also let in x = 12, since |12/15 - 0.5| = 0.30000000000000004).
  const std::map<int64_t, int64_t> per_axis = {{8, 2},  {11, 0}, {16, 2},
                                               {20, 4}, {21, 2}, {32, 6}};
  for (const auto& [side, expected] : per_axis) {
    EXPECT_EQ(RingCoordinatesPerAxis(side), expected) << "side " << side;
    for (int dim : {1, 2}) {
      auto grid = MakeGrid("dim=" + std::to_string(dim) +
                           ",side=" + std::to_string(side));
      auto reward = MakeSplitLogReward(*grid, {"standard", {}});
      ASSERT_TRUE(reward.ok());
      torch::Tensor states = *grid->EnumerateTerminalStates();
      torch::Tensor log_r = (**reward)(states);
      const int64_t ring =
          (log_r - std::log(2.6f)).abs().lt(1e-5).sum().item<int64_t>();
      EXPECT_EQ(ring, static_cast<int64_t>(std::pow(expected, dim)))
          << "side " << side << " dim " << dim;
      // Reflecting any coordinate (x -> side - 1 - x) keeps the reward.
      for (int64_t d = 0; d < dim; ++d) {
        torch::Tensor reflected = states.clone();
        reflected.select(1, d).mul_(-1).add_(side - 1);
        EXPECT_TRUE((**reward)(reflected).equal(log_r))
            << "side " << side << " dim " << dim << " axis " << d;
      }
    }
  }
}

TEST(HypergridTest, ClientRewardsMultiplyToStandardTimesBump) {
  auto grid = MakeGrid("dim=2,side=8");
  torch::Tensor states = *grid->EnumerateTerminalStates();
  torch::Tensor total = torch::zeros({states.size(0)});
  for (int i = 0; i < 4; ++i) {
    RewardConfig config{"client", {}};
    config.params.Set("index", std::to_string(i));
    config.params.Set("count", "4");
    auto reward = MakeSplitLogReward(*grid, config);
    ASSERT_TRUE(reward.ok()) << reward.status();
    total = total + (**reward)(states);
  }
  auto standard = MakeSplitLogReward(*grid, {"standard", {}});
  torch::Tensor z = states.to(torch::kFloat64) / 7.0;
  // Corners (0,0), (1,0), (0,1), (1,1): sum_i |z - c_i|^2.
  torch::Tensor bump = torch::zeros({states.size(0)}, torch::kFloat64);
  for (auto [cx, cy] :
       {std::pair<double, double>{0, 0}, {1, 0}, {0, 1}, {1, 1}}) {
    bump = bump + (z.select(1, 0) - cx).pow(2) + (z.select(1, 1) - cy).pow(2);
  }
  torch::Tensor expected = (**standard)(states).to(torch::kFloat64) - bump;
  EXPECT_TRUE(torch::allclose(total.to(torch::kFloat64), expected, 1e-5, 1e-5));
}

TEST(HypergridTest, BadParametersAreRefusedWithTheirName) {
  auto config = EnvironmentConfig::Parse("hypergrid:dim=2,side=1");
  auto grid = HypergridEnvironment::Create(*config);
  ASSERT_FALSE(grid.ok());
  EXPECT_NE(grid.status().message().find("side"), std::string::npos);
  auto typo = HypergridEnvironment::Create(
      *EnvironmentConfig::Parse("hypergrid:dims=2"));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("dims"), std::string::npos);
  auto env = MakeGrid("dim=2,side=4");
  RewardConfig bad_index{"client", {}};
  bad_index.params.Set("index", "4");
  bad_index.params.Set("count", "4");
  EXPECT_FALSE(MakeSplitLogReward(*env, bad_index).ok());
  EXPECT_FALSE(MakeSplitLogReward(*env, {"nope", {}}).ok());
}

}  // namespace
}  // namespace epgfn
