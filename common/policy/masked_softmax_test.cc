#include "common/policy/masked_softmax.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>

#include "common/policy/policy_net.h"

namespace epgfn {
namespace {

// Logits of `rows` x `width` with every mask pattern: random entries, with
// row 0 allowing one action only, row 1 none, and large logits in row 2.
struct Inputs {
  torch::Tensor logits;
  torch::Tensor mask;
  torch::Tensor actions;  // an allowed action of each row (0 in row 1)
};

Inputs MakeInputs(int64_t rows, int64_t width, uint64_t seed) {
  torch::manual_seed(seed);
  Inputs inputs;
  inputs.logits = torch::randn({rows, width}) * 3.0;
  inputs.mask = torch::rand({rows, width}) > 0.4;
  inputs.mask.index_put_({torch::arange(rows), torch::randint(width, {rows})},
                         true);
  inputs.mask[0] = false;
  inputs.mask[0][width - 1] = true;
  inputs.mask[1] = false;
  inputs.logits[2] = inputs.logits[2] * 1e4;
  // The first allowed entry of a random rotation of each row.
  inputs.actions = torch::empty({rows}, torch::kInt64);
  const torch::Tensor start = torch::randint(width, {rows});
  for (int64_t r = 0; r < rows; ++r) {
    int64_t a = start[r].item<int64_t>();
    for (int64_t step = 0; step < width; ++step) {
      if (inputs.mask[r][(a + step) % width].item<bool>()) {
        a = (a + step) % width;
        break;
      }
    }
    inputs.actions[r] = r == 1 ? 0 : a;
  }
  return inputs;
}

torch::Tensor ComposedLogSoftmaxAt(const torch::Tensor& logits,
                                   const torch::Tensor& mask,
                                   const torch::Tensor& actions) {
  return MaskedLogSoftmax(logits, mask)
      .gather(1, actions.unsqueeze(1))
      .squeeze(1);
}

TEST(MaskedSoftmaxTest, ProbabilitiesAreTheOpsToFloatRounding) {
  for (int64_t width : {1, 2, 3, 5, 7}) {
    const Inputs in = MakeInputs(300, width, 7 + width);
    const torch::Tensor expected = MaskedLogSoftmax(in.logits, in.mask).exp();
    const torch::Tensor got = MaskedSoftmax(in.logits, in.mask);
    EXPECT_TRUE(torch::allclose(got, expected, 1e-6, 1e-7)) << width;
    // Masked entries are exactly 0 and rows sum to 1; a row with nothing
    // allowed (row 1) is uniform, as with the ops.
    torch::Tensor masked = in.mask.logical_not();
    masked[1] = false;
    EXPECT_EQ(got.masked_select(masked).abs().sum().item<float>(), 0.0f);
    EXPECT_TRUE(torch::allclose(got.sum(1), torch::ones({300}), 0, 1e-6));
    EXPECT_NEAR(got[1][0].item<float>(), 1.0 / width, 1e-7);
  }
}

TEST(MaskedSoftmaxTest,
     LogProbabilityAtTheActionAndItsGradientAreAutogradsOfTheOps) {
  for (int64_t width : {1, 3, 4, 7}) {
    const Inputs in = MakeInputs(200, width, 11 + width);
    const torch::Tensor upstream = torch::randn({200});
    torch::Tensor composed_logits = in.logits.clone().requires_grad_(true);
    const torch::Tensor expected =
        ComposedLogSoftmaxAt(composed_logits, in.mask, in.actions);
    expected.backward(upstream);
    torch::Tensor logits = in.logits.clone().requires_grad_(true);
    const torch::Tensor got = MaskedLogSoftmaxAt(logits, in.mask, in.actions);
    ASSERT_TRUE(got.requires_grad());
    got.backward(upstream);
    EXPECT_TRUE(torch::allclose(got, expected, 1e-6, 1e-5)) << width;
    EXPECT_TRUE(
        torch::allclose(logits.grad(), composed_logits.grad(), 1e-5, 1e-6))
        << width;
    // Masked entries get exactly no gradient.
    EXPECT_EQ(logits.grad()
                  .masked_select(in.mask.logical_not())
                  .abs()
                  .sum()
                  .item<float>(),
              0.0f);
  }
}

TEST(MaskedSoftmaxTest, NoGradModeGivesTheSameValuesWithoutAGraph) {
  const Inputs in = MakeInputs(50, 3, 3);
  const torch::Tensor with_grad = MaskedLogSoftmaxAt(
      in.logits.clone().requires_grad_(true), in.mask, in.actions);
  torch::NoGradGuard no_grad;
  const torch::Tensor without = MaskedLogSoftmaxAt(
      in.logits.clone().requires_grad_(true), in.mask, in.actions);
  EXPECT_FALSE(without.requires_grad());
  EXPECT_TRUE(torch::equal(without, with_grad.detach()));
}

TEST(MaskedSoftmaxTest, NanLogitsPoisonTheirRowOnly) {
  Inputs in = MakeInputs(10, 3, 5);
  in.mask[4] = true;
  in.logits[4][1] = std::nanf("");
  const torch::Tensor probabilities = MaskedSoftmax(in.logits, in.mask);
  EXPECT_TRUE(probabilities[4].isnan().all().item<bool>());
  EXPECT_EQ(probabilities.isnan().sum().item<int64_t>(), 3);
  const torch::Tensor log_probabilities =
      MaskedLogSoftmaxAt(in.logits, in.mask, in.actions);
  EXPECT_TRUE(std::isnan(log_probabilities[4].item<float>()));
  EXPECT_EQ(log_probabilities.isnan().sum().item<int64_t>(), 1);
}

TEST(MaskedSoftmaxTest, WideRowsAndOtherLayoutsTakeTheOpsExactly) {
  const Inputs wide = MakeInputs(40, 8, 1);
  EXPECT_TRUE(torch::equal(MaskedSoftmax(wide.logits, wide.mask),
                           MaskedLogSoftmax(wide.logits, wide.mask).exp()));
  EXPECT_TRUE(
      torch::equal(MaskedLogSoftmaxAt(wide.logits, wide.mask, wide.actions),
                   ComposedLogSoftmaxAt(wide.logits, wide.mask, wide.actions)));
  const Inputs in = MakeInputs(40, 3, 2);
  const torch::Tensor strided = in.logits.t().contiguous().t();
  ASSERT_FALSE(strided.is_contiguous());
  EXPECT_TRUE(torch::equal(MaskedSoftmax(strided, in.mask),
                           MaskedLogSoftmax(strided, in.mask).exp()));
  const torch::Tensor doubles = in.logits.to(torch::kFloat64);
  EXPECT_TRUE(torch::equal(MaskedLogSoftmaxAt(doubles, in.mask, in.actions),
                           ComposedLogSoftmaxAt(doubles, in.mask, in.actions)));
}

TEST(MaskedSoftmaxTest, RefusesActionsOutOfRangeOrOfTheWrongShape) {
  const Inputs in = MakeInputs(6, 3, 4);
  torch::Tensor bad = in.actions.clone();
  bad[2] = 3;
  EXPECT_THROW(MaskedLogSoftmaxAt(in.logits, in.mask, bad), c10::Error);
  bad[2] = -1;
  EXPECT_THROW(MaskedLogSoftmaxAt(in.logits, in.mask, bad), c10::Error);
  EXPECT_THROW(
      MaskedLogSoftmaxAt(in.logits, in.mask, in.actions.narrow(0, 0, 5)),
      c10::Error);
}

}  // namespace
}  // namespace epgfn
