#include "common/sampling/exploration_mix.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ExplorationMixTest, RowLoopEqualsTheTensorOpsBitForBit) {
  torch::manual_seed(4);
  for (int64_t categories : {1, 3, 17, 401}) {
    for (double epsilon : {0.05, 0.1, 1.0 / 3.0, 0.9}) {
      const at::Tensor mask = torch::rand({5000, categories}) < 0.7;
      mask.select(1, categories - 1).fill_(true);  // exit, always allowed
      const at::Tensor logits = torch::randn({5000, categories}) * 5.0;
      at::Tensor by_loop =
          logits.masked_fill(mask.logical_not(), -1e9).log_softmax(-1).exp_();
      at::Tensor by_ops = by_loop.clone();
      MixUniformExploration(by_loop, mask, epsilon);
      MixUniformExplorationByOps(by_ops, mask, epsilon);
      EXPECT_TRUE(torch::equal(by_loop, by_ops))
          << categories << " categories, epsilon " << epsilon << ", max "
          << (by_loop - by_ops).abs().max().item<float>();
    }
  }
}

TEST(ExplorationMixTest, MixesTowardsTheUniformOverAllowedActions) {
  at::Tensor p = torch::tensor({{1.0f, 0.0f, 0.0f}, {0.5f, 0.5f, 0.0f}});
  const at::Tensor mask =
      torch::tensor({{true, true, false}, {true, true, true}});
  MixUniformExploration(p, mask, 0.5);
  const at::Tensor expected =
      torch::tensor({{0.75f, 0.25f, 0.0f},
                     {0.25f + 1.0f / 6.0f, 0.25f + 1.0f / 6.0f, 1.0f / 6.0f}});
  EXPECT_TRUE(torch::allclose(p, expected, 0.0, 1e-7)) << p;
}

TEST(ExplorationMixTest, RowsWithNothingAllowedBecomeNaNAsWithTheOps) {
  at::Tensor by_loop = torch::zeros({1, 2});
  at::Tensor by_ops = by_loop.clone();
  const at::Tensor mask = torch::zeros({1, 2}, at::kBool);
  MixUniformExploration(by_loop, mask, 0.1);
  MixUniformExplorationByOps(by_ops, mask, 0.1);
  EXPECT_TRUE(by_loop.isnan().all().item<bool>());
  EXPECT_TRUE(by_ops.isnan().all().item<bool>());
}

}  // namespace
}  // namespace epgfn
