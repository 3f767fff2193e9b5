#include "common/aggregate/warm_start.h"

#include <torch/types.h>

#include <memory>
#include <vector>

#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

PolicyArchitecture TestArchitecture(int64_t hidden_width = 16) {
  PolicyArchitecture architecture;
  architecture.hidden_width = hidden_width;
  return architecture;
}

class AggregationWarmStartTest : public ::testing::Test {
 protected:
  LocalModel Local(const std::string& id, uint64_t seed, double weight = 1.0,
                   int64_t hidden_width = 16) {
    LocalModel local;
    local.client_id = id;
    local.environment = grid_->config();
    local.policy =
        *MakePolicy(*grid_, TestArchitecture(hidden_width), seed, torch::kCPU);
    local.weight = weight;
    return local;
  }
  std::unique_ptr<Environment> grid_ =
      MakeTestEnvironment("hypergrid:dim=2,side=4");
};

TEST_F(AggregationWarmStartTest, NamesRoundTripAndUnknownOnesAreRefused) {
  for (AggregationWarmStart warm_start :
       {AggregationWarmStart::kNone, AggregationWarmStart::kClient,
        AggregationWarmStart::kAverage}) {
    absl::StatusOr<AggregationWarmStart> parsed =
        ParseAggregationWarmStart(AggregationWarmStartName(warm_start));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, warm_start);
  }
  EXPECT_EQ(ParseAggregationWarmStart("first").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AggregationWarmStartTest, NoneLeavesTheInitialisationToTheAggregator) {
  auto warm = AggregationWarmStartPolicy(AggregationWarmStart::kNone, false,
                                         {Local("a", 1)});
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_FALSE(warm->has_value());
}

TEST_F(AggregationWarmStartTest, ClientIsTheFirstClientsModelAtEqualWeights) {
  const std::vector<LocalModel> locals = {Local("a", 1), Local("b", 2)};
  auto warm =
      AggregationWarmStartPolicy(AggregationWarmStart::kClient, false, locals);
  ASSERT_TRUE(warm.ok()) << warm.status();
  ASSERT_TRUE(warm->has_value());
  EXPECT_EQ(warm->value().get(), locals[0].policy.get());
}

TEST_F(AggregationWarmStartTest, ClientIsTheHeaviestClientsModel) {
  const std::vector<LocalModel> locals = {
      Local("a", 1, 0.5), Local("b", 2, 2.0), Local("c", 3, 2.0)};
  auto client = WarmStartClient(locals);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->client_id, "b");
  EXPECT_EQ(WarmStartClient({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AggregationWarmStartTest, AverageIsWeightedByTheClientWeights) {
  const std::vector<LocalModel> locals = {Local("a", 1, 1.0),
                                          Local("b", 2, 3.0)};
  auto warm = AggregationWarmStartPolicy(AggregationWarmStart::kAverage,
                                         /*common_init=*/true, locals);
  ASSERT_TRUE(warm.ok()) << warm.status();
  ASSERT_TRUE(warm->has_value());
  const auto a = locals[0].policy->named_parameters();
  const auto b = locals[1].policy->named_parameters();
  for (const auto& parameter : warm->value()->named_parameters()) {
    const torch::Tensor expected =
        (a[parameter.key()] + 3.0 * b[parameter.key()]) / 4.0;
    EXPECT_TRUE(torch::allclose(parameter.value(), expected, 1e-5, 1e-6))
        << parameter.key();
  }
}

TEST_F(AggregationWarmStartTest, AverageIsRefusedWithoutCommonInit) {
  const absl::Status status =
      AggregationWarmStartPolicy(AggregationWarmStart::kAverage,
                                 /*common_init=*/false,
                                 {Local("a", 1), Local("b", 1)})
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--common_init"), std::string::npos)
      << status;
  EXPECT_TRUE(ValidateAggregationWarmStart(AggregationWarmStart::kClient,
                                           /*common_init=*/false)
                  .ok());
}

TEST_F(AggregationWarmStartTest, AverageIsRefusedForMismatchedArchitectures) {
  EXPECT_EQ(AggregationWarmStartPolicy(
                AggregationWarmStart::kAverage, /*common_init=*/true,
                {Local("a", 1), Local("b", 1, 1.0, /*hidden_width=*/32)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
