#include "common/policy/activation_tape.h"

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "common/env/environment_testing.h"
#include "common/policy/policy_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// The sum of every output, a scalar whose gradient reaches every parameter.
torch::Tensor Total(const PolicyNetImpl::Output& output) {
  return output.forward_logits.sum() + output.backward_logits.sum() +
         output.log_flow.sum();
}

// The gradients of Total(output) with respect to the policy's weights
// (log Z takes no part in the outputs).
std::vector<torch::Tensor> WeightGradients(const PolicyNetImpl::Output& output,
                                           const PolicyNet& policy) {
  std::vector<torch::Tensor> weights;
  for (const torch::Tensor& parameter : policy->parameters()) {
    if (parameter.numel() > 1) weights.push_back(parameter);
  }
  return torch::autograd::grad({Total(output)}, weights);
}

// Passes of 1 row then 3 rows, 40 of them: far past the buffers' first
// capacity (16 times the first pass's rows), so they regrow several times
// and must keep every earlier row.
TEST(ActivationTapeTest, ReplayEqualsOneForwardPassOverAllRecordedRows) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto policy =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/3, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  torch::manual_seed(11);
  std::vector<torch::Tensor> passes;
  for (int pass = 0; pass < 40; ++pass) {
    passes.push_back(torch::randn({pass == 0 ? 1 : 3, grid->encoding_dim()}));
  }

  ActivationTape tape(*policy);
  for (const torch::Tensor& encoded : passes) {
    const PolicyNetImpl::Output recorded = tape.Forward(encoded);
    // What the rollout samples from: the policy's own outputs on the pass.
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(recorded.forward_logits,
                             (*policy)->forward(encoded).forward_logits));
  }
  EXPECT_EQ(tape.rows(), 1 + 39 * 3);
  const PolicyNetImpl::Output replayed = tape.Replay();
  EXPECT_EQ(tape.rows(), 0);

  const PolicyNetImpl::Output fresh = (*policy)->forward(torch::cat(passes));
  ASSERT_EQ(replayed.forward_logits.sizes(), fresh.forward_logits.sizes());
  EXPECT_TRUE(torch::allclose(replayed.forward_logits, fresh.forward_logits,
                              1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(replayed.backward_logits, fresh.backward_logits,
                              1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(replayed.log_flow, fresh.log_flow, 1e-5, 1e-6));

  const std::vector<torch::Tensor> with_tape =
      WeightGradients(replayed, *policy);
  const std::vector<torch::Tensor> with_forward =
      WeightGradients(fresh, *policy);
  ASSERT_EQ(with_tape.size(), with_forward.size());
  for (size_t i = 0; i < with_tape.size(); ++i) {
    EXPECT_TRUE(torch::allclose(with_tape[i], with_forward[i], 1e-5, 1e-6))
        << "parameter " << i;
  }
}

// With one recorded pass the matmuls have the shapes of a fresh forward
// pass's, so the replayed backward (the masked LeakyReLU gradient written
// over its own buffer included) must give autograd's gradients bit for bit.
TEST(ActivationTapeTest, OnePassGradientsAreAutogradsBitForBit) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto policy =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/5, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  torch::manual_seed(13);
  const torch::Tensor encoded = torch::randn({37, grid->encoding_dim()});
  ActivationTape tape(*policy);
  tape.Forward(encoded);
  const PolicyNetImpl::Output replayed = tape.Replay();
  const PolicyNetImpl::Output fresh = (*policy)->forward(encoded);
  const std::vector<torch::Tensor> with_tape =
      WeightGradients(replayed, *policy);
  const std::vector<torch::Tensor> with_forward =
      WeightGradients(fresh, *policy);
  ASSERT_EQ(with_tape.size(), with_forward.size());
  for (size_t i = 0; i < with_tape.size(); ++i) {
    EXPECT_TRUE(torch::equal(with_tape[i], with_forward[i]))
        << "parameter " << i << ": max |difference| "
        << (with_tape[i] - with_forward[i]).abs().max().item<float>();
  }
}

TEST(ActivationTapeTest, TheTapeIsEmptyAfterReplayAndRecordsAgain) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto policy =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/3, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  torch::manual_seed(12);
  ActivationTape tape(*policy);
  tape.Forward(torch::randn({5, grid->encoding_dim()}));
  tape.Replay();
  const torch::Tensor second = torch::randn({2, grid->encoding_dim()});
  tape.Forward(second);
  const PolicyNetImpl::Output replayed = tape.Replay();
  EXPECT_EQ(replayed.forward_logits.size(0), 2);
  EXPECT_TRUE(torch::allclose(replayed.forward_logits,
                              (*policy)->forward(second).forward_logits));
  EXPECT_FALSE(tape.Replay().forward_logits.defined());
}

}  // namespace
}  // namespace epgfn
