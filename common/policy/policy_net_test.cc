#include "common/policy/policy_net.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/env/environment_testing.h"
#include "common/policy/policy_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// What MakePolicy drew before it could skip the draws: LibTorch's own Linear
// layers built one after another from the seeded global generator, in the
// order the policy builds them, and log Z = 0.
std::vector<std::pair<std::string, torch::Tensor>> ReferenceWeights(
    const Environment& environment, const PolicyArchitecture& architecture,
    uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  auto add = [&weights](const std::string& name, int64_t in, int64_t out) {
    torch::nn::Linear linear(in, out);
    weights.emplace_back(name + ".weight", linear->weight);
    weights.emplace_back(name + ".bias", linear->bias);
  };
  int64_t width = environment.encoding_dim();
  for (int64_t layer = 0; layer < architecture.hidden_layers; ++layer) {
    add("torso." + std::to_string(2 * layer), width, architecture.hidden_width);
    width = architecture.hidden_width;
  }
  add("forward_head", width, environment.num_forward_actions());
  add("backward_head", width, environment.num_backward_actions());
  add("flow_head", width, 1);
  weights.emplace_back("log_z", torch::zeros({1}));
  return weights;
}

TEST(PolicyNetTest, SeededPolicyHasLibTorchsDefaultInitialisation) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  const auto reference = ReferenceWeights(*grid, AllHeadsTestArchitecture(), 5);
  auto policy =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/5, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const auto parameters = (*policy)->named_parameters(/*recurse=*/true);
  ASSERT_EQ(parameters.size(), reference.size());
  for (const auto& [name, expected] : reference) {
    const torch::Tensor* parameter = parameters.find(name);
    ASSERT_NE(parameter, nullptr) << name;
    EXPECT_TRUE(torch::equal(*parameter, expected)) << name;
  }
}

TEST(PolicyNetTest, UninitialisedPolicyHasTheSameLayoutAndDrawsNothing) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto drawn =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/5, torch::kCPU);
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  torch::manual_seed(9);
  const torch::Tensor expected_next = torch::rand({4});
  torch::manual_seed(9);
  auto undrawn =
      MakeUninitialisedPolicy(*grid, AllHeadsTestArchitecture(), torch::kCPU);
  ASSERT_TRUE(undrawn.ok()) << undrawn.status();
  // The global generator is where the seed left it.
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_next));

  const auto want = (*drawn)->named_parameters(/*recurse=*/true);
  const auto got = (*undrawn)->named_parameters(/*recurse=*/true);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].key(), want[i].key());
    EXPECT_EQ(got[i].value().sizes(), want[i].value().sizes()) << want[i].key();
    EXPECT_EQ(got[i].value().dtype(), want[i].value().dtype());
    EXPECT_TRUE(got[i].value().requires_grad()) << want[i].key();
    EXPECT_TRUE(got[i].value().is_contiguous()) << want[i].key();
  }
  for (int64_t i = 0; i < AllHeadsTestArchitecture().hidden_layers; ++i) {
    EXPECT_EQ((*undrawn)->torso_layer(i)->options.out_features(), 32);
  }
  EXPECT_EQ((*undrawn)->forward_head()->options.out_features(),
            grid->num_forward_actions());
  EXPECT_EQ((*undrawn)->flow_head()->options.out_features(), 1);
}

TEST(PolicyNetTest, UninitialisedPolicyTakesWeightsAndComputesLikeTheSource) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto source =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/5, torch::kCPU);
  ASSERT_TRUE(source.ok()) << source.status();
  auto target =
      MakeUninitialisedPolicy(*grid, AllHeadsTestArchitecture(), torch::kCPU);
  ASSERT_TRUE(target.ok()) << target.status();
  {
    torch::NoGradGuard no_grad;
    const auto from = (*source)->named_parameters(/*recurse=*/true);
    const auto to = (*target)->named_parameters(/*recurse=*/true);
    for (size_t i = 0; i < from.size(); ++i)
      to[i].value().copy_(from[i].value());
  }
  const torch::Tensor states = torch::rand({5, grid->encoding_dim()});
  const PolicyNetImpl::Output want = (*source)->forward(states);
  const PolicyNetImpl::Output got = (*target)->forward(states);
  EXPECT_TRUE(torch::equal(got.forward_logits, want.forward_logits));
  EXPECT_TRUE(torch::equal(got.backward_logits, want.backward_logits));
  EXPECT_TRUE(torch::equal(got.log_flow, want.log_flow));
  // Gradients reach every parameter, as on a drawn policy.
  got.forward_logits.sum().backward();
  EXPECT_TRUE((*target)->torso_layer(0)->weight.grad().defined());
  // A clone is a deep copy with the same weights.
  PolicyNet clone = ClonePolicy(*target);
  EXPECT_TRUE(
      torch::equal(clone->forward(states).forward_logits, want.forward_logits));
}

// A clone is a deep copy of a drawn policy that takes nothing from the
// global generator (a draw there would shift what a later unseeded draw
// gives) and shares no storage with its source.
TEST(PolicyNetTest, CloneCopiesEveryWeightWithoutDrawing) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  auto source =
      MakePolicy(*grid, AllHeadsTestArchitecture(), /*seed=*/7, torch::kCPU);
  ASSERT_TRUE(source.ok()) << source.status();
  (*source)->eval();
  torch::manual_seed(21);
  const torch::Tensor expected_draw = torch::rand({4});
  torch::manual_seed(21);
  PolicyNet clone = ClonePolicy(*source);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_draw));

  EXPECT_FALSE(clone->is_training());
  const auto from = (*source)->named_parameters();
  const auto to = clone->named_parameters();
  ASSERT_EQ(from.size(), to.size());
  for (const auto& parameter : from) {
    const torch::Tensor& copied = to[parameter.key()];
    EXPECT_TRUE(torch::equal(copied, parameter.value())) << parameter.key();
    EXPECT_EQ(copied.requires_grad(), parameter.value().requires_grad());
    EXPECT_NE(copied.data_ptr(), parameter.value().data_ptr());
  }
  const torch::Tensor before = (*source)->torso_layer(0)->weight.clone();
  {
    torch::NoGradGuard no_grad;
    clone->torso_layer(0)->weight.add_(1.0);
  }
  EXPECT_TRUE(torch::equal((*source)->torso_layer(0)->weight, before));
}

TEST(PolicyNetTest, UninitialisedPolicyRefusesAnInvalidArchitecture) {
  const std::unique_ptr<Environment> grid =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
  PolicyArchitecture architecture = AllHeadsTestArchitecture();
  architecture.hidden_layers = 0;
  EXPECT_FALSE(MakeUninitialisedPolicy(*grid, architecture, torch::kCPU).ok());
}

}  // namespace
}  // namespace epgfn
