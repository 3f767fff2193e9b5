#include "common/aggregate/average_policies.h"

#include <torch/types.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

PolicyArchitecture TestArchitecture(int64_t hidden_width = 16) {
  PolicyArchitecture architecture;
  architecture.hidden_width = hidden_width;
  architecture.learned_backward = true;
  return architecture;
}

class AveragePoliciesTest : public ::testing::Test {
 protected:
  PolicyNet Policy(uint64_t seed, int64_t hidden_width = 16) {
    return *MakePolicy(*grid_, TestArchitecture(hidden_width), seed,
                       torch::kCPU);
  }
  std::unique_ptr<Environment> grid_ =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
};

TEST_F(AveragePoliciesTest, EveryParameterIsTheWeightedMean) {
  PolicyNet a = Policy(1);
  PolicyNet b = Policy(2);
  PolicyNet c = Policy(3);
  {
    // log Z is 0 in a fresh policy; give it distinct values so it counts too.
    torch::NoGradGuard no_grad;
    a->log_z().fill_(1.0);
    b->log_z().fill_(-2.0);
  }
  absl::StatusOr<PolicyNet> average =
      AveragePolicies({{a, 1.0}, {b, 3.0}, {c, 0.0}});
  ASSERT_TRUE(average.ok()) << average.status();
  EXPECT_EQ((*average)->architecture(), TestArchitecture());
  const auto from_a = a->named_parameters();
  const auto from_b = b->named_parameters();
  const auto averaged = (*average)->named_parameters();
  ASSERT_EQ(averaged.size(), from_a.size());
  for (const auto& parameter : averaged) {
    const torch::Tensor expected =
        (from_a[parameter.key()].to(torch::kFloat64) +
         3.0 * from_b[parameter.key()].to(torch::kFloat64)) /
        4.0;
    EXPECT_TRUE(torch::allclose(parameter.value().to(torch::kFloat64), expected,
                                /*rtol=*/1e-6, /*atol=*/1e-7))
        << parameter.key();
  }
  EXPECT_FLOAT_EQ((*average)->log_z().item<float>(), (1.0 - 6.0) / 4.0);
}

TEST_F(AveragePoliciesTest, EqualPoliciesAverageToThemselvesAsACopy) {
  PolicyNet a = Policy(4);
  absl::StatusOr<PolicyNet> average = AveragePolicies({{a, 0.3}, {a, 0.7}});
  ASSERT_TRUE(average.ok()) << average.status();
  const auto from_a = a->named_parameters();
  for (const auto& parameter : (*average)->named_parameters()) {
    EXPECT_TRUE(torch::equal(parameter.value(), from_a[parameter.key()]))
        << parameter.key();
  }
  // A new model: training it leaves the averaged ones alone.
  {
    torch::NoGradGuard no_grad;
    (*average)->log_z().fill_(5.0);
  }
  EXPECT_EQ(a->log_z().item<float>(), 0.0f);
}

TEST_F(AveragePoliciesTest, RefusesMismatchedLayouts) {
  PolicyNet a = Policy(1);
  const absl::StatusOr<PolicyNet> wider =
      AveragePolicies({{a, 1.0}, {Policy(2, /*hidden_width=*/32), 1.0}});
  EXPECT_EQ(wider.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wider.status().message().find("policy 1"), std::string::npos)
      << wider.status();
  const std::unique_ptr<Environment> larger =
      MakeTestEnvironment("hypergrid:dim=2,side=8");
  PolicyNet other_environment =
      *MakePolicy(*larger, TestArchitecture(), 2, torch::kCPU);
  EXPECT_EQ(
      AveragePolicies({{a, 1.0}, {other_environment, 0.0}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(AveragePoliciesTest, RefusesBadWeightsAndMissingPolicies) {
  PolicyNet a = Policy(1);
  PolicyNet b = Policy(2);
  for (double weight : {-1.0, std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(AveragePolicies({{a, 1.0}, {b, weight}}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << weight;
  }
  EXPECT_EQ(AveragePolicies({{a, 0.0}, {b, 0.0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AveragePolicies({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      AveragePolicies({{a, 1.0}, {PolicyNet(nullptr), 1.0}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
